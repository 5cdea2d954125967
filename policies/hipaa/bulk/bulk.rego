# METADATA
# title: C6 — bulk disclosures
# description: |
#   A disclosure of more records than the bulk threshold (policy data, default 50) for any purpose
#   other than treatment needs the privacy officer's approval: an administrative safeguard and a
#   minimum-necessary review of a non-routine disclosure (45 CFR 164.308(a)(1), 164.514(d)(3)(ii)).
package hipaa.bulk

import data.hipaa.lib
import data.hipaa.request

default threshold := 50

threshold := data.config.thresholds.bulk_record_count

# METADATA
# title: C6 Approval required
# description: More records than the bulk threshold, not for treatment, without an approval id.
# custom:
#   rule: C6
#   code: APPROVAL_REQUIRED
#   citation: 45 CFR 164.308(a)(1)(ii)(B), 164.514(d)(3)(ii)
#   message: A bulk disclosure needs the privacy officer's approval.
#   requirement:
#     code: OBTAIN_PRIVACY_OFFICER_APPROVAL
#     message: Ask the privacy officer to review and approve this bulk disclosure.
deny contains lib.deny(rego.metadata.chain(), {"record_count": request.record_count, "threshold": threshold}) if {
	input.purpose != "treatment" # first: a treatment request reads neither rule below
	is_number(request.record_count)
	request.record_count > threshold
	not request.context_id("approval_id")
}
