# P5 — individual access
# The patient's right of access, directly or through a personal representative.
package hipaa.permissions

import data.hipaa.lib
import data.hipaa.request

# METADATA
# title: P5 Individual access
# description: |
#   Access by the patient, or by a personal representative (164.502(g)) — except a parent of a
#   minor for care the minor consented to, unless a licensed professional exercises judgment.
# custom:
#   rule: P5
#   code: INDIVIDUAL_ACCESS
#   citation: 45 CFR 164.502(a)(1)(i), 164.524, 164.502(g)
#   summary: Disclosure to the individual (or a personal representative) under the right of access.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "individual_access"
	input.recipient.type in {"patient", "personal_representative"}
	not _minor_care_barred
}

# METADATA
# title: P5 Minor's own care
# description: |
#   A parent is not the personal representative of a minor for care the minor lawfully consented
#   to (164.502(g)(3)); where state law is silent a licensed professional may decide (professional_judgment).
# custom:
#   rule: P5
#   code: NO_PERMISSION
#   citation: 45 CFR 164.502(g)(3)
#   message: |-
#     A parent is not the personal representative for care the minor consented to; access needs
#     a licensed professional's judgment or state law permitting it.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "individual_access"
	input.recipient.type == "personal_representative"
	_minor_care_barred
}

_minor_care_barred if {
	input.purpose == "individual_access"
	input.recipient.type == "personal_representative"
	is_number(input.patient.age)
	input.patient.age < 18
	request.patient("minor_consented_care")
	not request.context("professional_judgment")
}
