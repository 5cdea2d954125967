# METADATA
# title: hipaa-gate
# description: |
#   The entry point: data.hipaa.decision is the disclosure decision of docs/api.md (decision response).
#   Rule families live in subpackages (docs/policies.md has the table); hipaa.outcome assembles them.
package hipaa

import data.hipaa.outcome

# METADATA
# title: Disclosure decision
# description: |
#   {allow, basis, reasons, requirements, obligations, minimum_necessary, jurisdictions,
#   accountable, policy_revision}; the shim adds decision_id, request_id and evaluated_at.
# entrypoint: true
decision := outcome.decision
