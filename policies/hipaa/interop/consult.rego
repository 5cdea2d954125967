# METADATA
# title: CDS Hooks consult
# description: |
#   The document a CDS Hooks `patient-consent-consult` (docs/interop.md) asks for: the
#   disclosure decision (data.hipaa.decision) and, in the same evaluation, the consent
#   findings of the consents in the call and the consents the law would not honour
#   (`defective`). Input: a decide input (docs/api.md, request) plus `consents` (the facts of
#   hipaa.consents). When an authorization on file comes from a defective consent, the shim
#   asks again without it, so a defective consent is reported and never relied on, and the
#   logged input is exactly the one the final decision was taken on.
package hipaa.interop

import data.hipaa.consents

# METADATA
# title: Consult
# description: The object with decision, consent_findings and the sorted defective consent refs.
# entrypoint: true
consult := {
	"decision": data.hipaa.decision,
	"consent_findings": consents.findings,
	"defective": sort(consents.defective),
}
