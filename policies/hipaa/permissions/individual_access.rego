# P5 — individual access
# The patient's right of access, directly or through a personal representative.
package hipaa.permissions

import data.hipaa.lib
import data.hipaa.request
import data.hipaa.state

# METADATA
# title: P5 Individual access
# description: |
#   Access by the patient, or by a personal representative (164.502(g)) — except a parent of a
#   minor for care the minor consented to, unless state law permits the parent's access or, where
#   state law is silent, a licensed professional exercises judgment.
# custom:
#   rule: P5
#   code: INDIVIDUAL_ACCESS
#   citation: 45 CFR 164.502(a)(1)(i), 164.524, 164.502(g)
#   summary: Disclosure to the individual (or a personal representative) under the right of access.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "individual_access"
	input.recipient.type in {"patient", "personal_representative"}
	not _minor_care_barred
	not _representative_not_recognized
}

# METADATA
# title: P5 Patient-directed copy
# description: |
#   The patient's signed, written request directs an electronic copy of PHI in an electronic
#   health record to a third party they name (164.524(c)(3)(ii); Ciox Health v. Azar, D.D.C.
#   2020, limits it to such copies; other third-party copies need an authorization, P17).
# custom:
#   rule: P5
#   code: INDIVIDUAL_ACCESS
#   citation: 45 CFR 164.524(c)(3)(ii)
#   summary: An electronic copy sent to the third party the patient designated in a signed written request.
permit contains lib.permit(rego.metadata.chain(), {"patient_directed": true}) if {
	input.context.patient_directed == true # indexed: skipped unless the patient directed it
	input.purpose == "individual_access"
	not input.recipient.type in {"patient", "personal_representative"}
}

# METADATA
# title: P5 Representative not recognized
# description: |
#   A licensed professional reasonably believes the personal representative has subjected, or may
#   subject, the patient to abuse, neglect or domestic violence, and decides in professional
#   judgment not to treat them as the personal representative (164.502(g)(5)).
# custom:
#   rule: P5
#   code: REPRESENTATIVE_NOT_RECOGNIZED
#   citation: 45 CFR 164.502(g)(5)
#   message: >-
#     In professional judgment this person is not treated as the patient's personal representative
#     (suspected abuse, neglect or endangerment: context.representative_abuse_suspected); the
#     patient's own request, or their authorization, is needed.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "individual_access"
	input.recipient.type == "personal_representative"
	_representative_not_recognized
}

# METADATA
# title: P5 Minor's own care
# description: |
#   A parent is not the personal representative of a minor for care the minor lawfully consented
#   to (164.502(g)(3)): access needs state law permitting it (164.502(g)(3)(ii)(A)-(B)) or, where
#   state law is silent, a licensed professional's judgment (164.502(g)(3)(ii)(C)).
# custom:
#   rule: P5
#   code: NO_PERMISSION
#   citation: 45 CFR 164.502(g)(3)
#   message: >-
#     A parent is not the personal representative for care the minor consented to; access needs
#     state law permitting it or, where state law is silent, a licensed professional's judgment
#     (context.professional_judgment).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "individual_access"
	input.recipient.type == "personal_representative"
	_minor_care_barred
}

_representative_not_recognized if {
	input.context.representative_abuse_suspected == true # indexed: false for most requests
	request.context("professional_judgment")
}

_minor_care_barred if {
	input.purpose == "individual_access"
	input.recipient.type == "personal_representative"
	request.patient("minor_consented_care")
	not _adult
	not _parent_access_allowed
}

# An unknown age is treated as a minor's (fail closed), as the state overlay does.
_adult if {
	is_number(input.patient.age)
	input.patient.age >= 18
}

# State data (data.hipaa.state.minor_parental_access, per jurisdiction: true = the state gives
# parents access, false = it limits it, absent = silent) permits it: some jurisdiction says true
# and none says false.
_parent_access_allowed if {
	true in state.minor_parental_access
	not false in state.minor_parental_access
}

# State law is silent (no jurisdiction has an entry): a licensed professional's judgment decides.
_parent_access_allowed if {
	count(state.minor_parental_access) == 0
	request.context("professional_judgment")
}
