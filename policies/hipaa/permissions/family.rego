# P6-P8 — persons involved in care and disaster relief
# Disclosures to family, friends and caregivers involved in the patient's care or payment
# (45 CFR 164.510(b)), and to disaster relief organizations (164.510(b)(4)).
package hipaa.permissions

import data.hipaa.lib
import data.hipaa.request

family_recipients := {"family", "friend", "caregiver"}

# METADATA
# title: P6 Family involvement
# description: |
#   To family, a friend or a caregiver involved in care: the patient present with capacity agreed,
#   did not object when given the chance, or it can reasonably be inferred; or the patient died.
# custom:
#   rule: P6
#   code: FAMILY_INVOLVEMENT
#   citation: 45 CFR 164.510(b)(1)-(2), (b)(5)
#   summary: Disclosure to a person involved in the patient's care, with the patient's agreement or no objection.
#   obligations:
#     - code: LIMIT_TO_RELEVANT_INFORMATION
#       message: Share only information directly relevant to the person's involvement in care or payment.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "family_involvement" # indexed: OPA skips this rule otherwise
	_involved
	not _objects
	_family_basis
}

# METADATA
# title: P7 Professional judgment
# description: |
#   The living patient is not present or is incapacitated, and a professional judges the
#   disclosure in the patient's best interest.
# custom:
#   rule: P7
#   code: PROFESSIONAL_JUDGMENT
#   citation: 45 CFR 164.510(b)(3)
#   summary: Disclosure in the patient's best interest while the patient is absent or incapacitated.
#   obligations:
#     - code: LIMIT_TO_RELEVANT_INFORMATION
#       message: Share only information directly relevant to the person's involvement in care.
#     - code: DOCUMENT_RATIONALE
#       message: Record the professional judgment that the disclosure is in the patient's best interest.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "family_involvement" # indexed: OPA skips this rule otherwise
	_involved
	not _objects
	_absent_or_incapacitated
	request.context("professional_judgment")
}

# METADATA
# title: P8 Disaster relief
# description: To a disaster relief organization, limited to notification data.
# custom:
#   rule: P8
#   code: DISASTER_RELIEF
#   citation: 45 CFR 164.510(b)(4)
#   summary: Disclosure to a disaster relief organization to notify family of location and condition.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record the disaster relief purpose of the disclosure.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "disaster_relief"
	input.recipient.type == "disaster_relief_organization"
}

# METADATA
# title: P6 Patient objected
# description: The patient objected (for a deceased patient, a known prior preference).
# custom:
#   rule: P6
#   code: PATIENT_OBJECTED
#   citation: 45 CFR 164.510(b)(2), (b)(5)
#   message: The patient objected to this disclosure.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "family_involvement" # indexed: OPA skips this rule otherwise
	_family_request
	_objects
}

# METADATA
# title: P6 Not involved in care
# description: The family member, friend or caregiver is not involved in the patient's care or payment.
# custom:
#   rule: P6
#   code: NOT_DIRECTLY_RELEVANT
#   citation: 45 CFR 164.510(b)(1)(i)
#   message: The recipient is not involved in the patient's care or payment for care.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "family_involvement" # indexed: OPA skips this rule otherwise
	_family_request
	not input.recipient.involved_in_care == true
}

# METADATA
# title: P6 Patient not asked
# description: The patient is present with capacity but neither agreed nor was given the chance to object.
# custom:
#   rule: P6
#   code: NO_PERMISSION
#   citation: 45 CFR 164.510(b)(2)
#   message: Ask the patient first, who is present and able to agree or object.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "family_involvement" # indexed: OPA skips this rule otherwise
	_involved
	not _objects
	_present_with_capacity
	not _agreement
}

# METADATA
# title: P7 Without professional judgment
# description: The patient is absent or incapacitated and no professional judgment was exercised.
# custom:
#   rule: P7
#   code: NO_PERMISSION
#   citation: 45 CFR 164.510(b)(3)
#   message: >-
#     The patient is absent or incapacitated; a professional must judge the disclosure in the
#     patient's best interest.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "family_involvement" # indexed: OPA skips this rule otherwise
	_involved
	not _objects
	_absent_or_incapacitated
	not request.context("professional_judgment")
}

_family_request if {
	input.purpose == "family_involvement"
	input.recipient.type in family_recipients
}

_involved if {
	_family_request
	input.recipient.involved_in_care == true
}

_objects if request.patient("objects")

_living if not request.patient("deceased")

_present_with_capacity if {
	_living
	request.patient("present")
	not request.patient("incapacitated")
}

_absent_or_incapacitated if {
	_living
	not _present_with_capacity
}

# The patient agreed, was given the chance to object and did not, or it can be inferred.
_agreement if request.patient("agrees")

_agreement if input.patient.objects == false

_agreement if request.context("professional_judgment")

_family_basis if not _living

_family_basis if {
	_present_with_capacity
	_agreement
}
