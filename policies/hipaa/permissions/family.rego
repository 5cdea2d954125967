# P6-P8, P24 — persons involved in care, family notification and disaster relief
# Disclosures to family, friends and caregivers involved in the patient's care or payment
# (45 CFR 164.510(b)(1)(i)), notification of family of the patient's location, condition or death
# (164.510(b)(1)(ii)), and to disaster relief organizations (164.510(b)(4)). The patient's
# agreement or objection governs all three (164.510(b)(2)-(3)): a refusal (`agrees` false) is an
# objection, and an agreement obtained earlier, while the patient could give it, counts.
package hipaa.permissions

import data.hipaa.lib
import data.hipaa.request

family_recipients := {"family", "friend", "caregiver"}

notification_recipients := family_recipients | {"personal_representative"}

# METADATA
# title: P6 Family involvement
# description: |
#   To family, a friend or a caregiver involved in care: the patient agreed (now or earlier), the
#   patient present with capacity did not object when given the chance or it can reasonably be
#   inferred while no refusal is known; or the patient died with no known prior objection.
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
	not request.objection
	_agreement_basis
}

# METADATA
# title: P7 Professional judgment
# description: |
#   The living patient is not present or is incapacitated, gave no earlier agreement, and a
#   professional judges the disclosure in the patient's best interest.
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
	not request.objection
	_absent_or_incapacitated
	not request.patient("agrees")
	request.context("professional_judgment")
}

# METADATA
# title: P24 Family notification
# description: |
#   Notifying family, a friend, a caregiver or a personal representative of the patient's
#   location, general condition or death: with the patient's agreement (now or earlier), no
#   objection when given the chance, or the patient died with no known prior objection.
# custom:
#   rule: P24
#   code: FAMILY_NOTIFICATION
#   citation: 45 CFR 164.510(b)(1)(ii)
#   summary: Notifying a family member or other person responsible for the patient of location, condition or death.
#   obligations:
#     - code: LIMIT_TO_RELEVANT_INFORMATION
#       message: Share only the patient's location, general condition or death.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "family_notification" # indexed: OPA skips this rule otherwise
	input.recipient.type in notification_recipients
	not request.objection
	_agreement_basis
}

# METADATA
# title: P24 Family notification in professional judgment
# description: |
#   The living patient is absent or incapacitated; a professional judges the notification in the
#   patient's best interest.
# custom:
#   rule: P24
#   code: FAMILY_NOTIFICATION
#   citation: 45 CFR 164.510(b)(1)(ii), (b)(3)
#   summary: Notifying a family member or other person responsible for the patient, in professional judgment.
#   obligations:
#     - code: LIMIT_TO_RELEVANT_INFORMATION
#       message: Share only the patient's location, general condition or death.
#     - code: DOCUMENT_RATIONALE
#       message: Record the professional judgment that the notification is in the patient's best interest.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "family_notification" # indexed: OPA skips this rule otherwise
	input.recipient.type in notification_recipients
	_judgment_basis
}

# METADATA
# title: P24 Professional judgment
# description: The professional-judgment basis of a notification while the patient is absent or incapacitated.
# custom:
#   rule: P24
#   code: PROFESSIONAL_JUDGMENT
#   citation: 45 CFR 164.510(b)(3)
#   summary: Disclosure in the patient's best interest while the patient is absent or incapacitated.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "family_notification" # indexed: OPA skips this rule otherwise
	_judgment_basis # _judgment_basis checks the recipient type
}

# METADATA
# title: P8 Disaster relief
# description: |
#   To a disaster relief organization, limited to notification data, unless a patient present
#   with capacity objected and honouring the objection would not interfere with the response.
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
	not _disaster_objection_honoured
}

# METADATA
# title: P8 Patient objected to disaster relief
# description: |
#   A patient present with capacity objected (or refused), and honouring that does not interfere
#   with responding to the emergency (164.510(b)(4) applies (b)(2)).
# custom:
#   rule: P8
#   code: PATIENT_OBJECTED
#   citation: 45 CFR 164.510(b)(2), (b)(4)
#   message: >-
#     The patient, present and able to decide, objected to disclosure for disaster relief; only a
#     finding that honouring the objection would interfere with the emergency response
#     (context.emergency_response_interference) permits it.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "disaster_relief"
	input.recipient.type == "disaster_relief_organization"
	_disaster_objection_honoured
}

# METADATA
# title: P6 Patient objected
# description: The patient objected or refused, now or earlier (for a deceased patient, a known prior preference).
# custom:
#   rule: P6
#   code: PATIENT_OBJECTED
#   citation: 45 CFR 164.510(b)(2)-(3), (b)(5)
#   message: >-
#     The patient objected to or refused this disclosure (patient.objects true or patient.agrees
#     false); only the patient's agreement can change it.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "family_involvement" # indexed: OPA skips this rule otherwise
	_family_request
	request.objection
}

# METADATA
# title: P24 Patient objected to the notification
# description: |
#   The patient objected to or refused the notification, now or earlier (a deceased patient's known
#   prior preference).
# custom:
#   rule: P24
#   code: PATIENT_OBJECTED
#   citation: 45 CFR 164.510(b)(1)(ii), (b)(2)-(3), (b)(5)
#   message: >-
#     The patient objected to or refused this notification (patient.objects true or
#     patient.agrees false); only the patient's agreement can change it.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "family_notification" # indexed: OPA skips this rule otherwise
	_family_request
	request.objection
}

# METADATA
# title: P6 Not involved in care
# description: The family member, friend or caregiver is not involved in the patient's care or payment.
# custom:
#   rule: P6
#   code: NOT_DIRECTLY_RELEVANT
#   citation: 45 CFR 164.510(b)(1)(i)
#   message: >-
#     The recipient is not involved in the patient's care or payment for care
#     (recipient.involved_in_care); a notification of location, condition or death is purpose
#     family_notification.
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
#   message: >-
#     Ask the patient first, who is present and able to agree or object (patient.agrees true, or
#     patient.objects false after being given the chance).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "family_involvement" # indexed: OPA skips this rule otherwise
	_involved
	not request.objection
	_present_with_capacity
	not _agreement
}

# METADATA
# title: P24 Patient not asked
# description: |
#   The patient is present with capacity but neither agreed to nor was given the chance to object to
#   the notification.
# custom:
#   rule: P24
#   code: NO_PERMISSION
#   citation: 45 CFR 164.510(b)(1)(ii), (b)(2)
#   message: >-
#     Ask the patient first, who is present and able to agree or object (patient.agrees true, or
#     patient.objects false after being given the chance).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "family_notification" # indexed: OPA skips this rule otherwise
	input.recipient.type in notification_recipients
	not request.objection
	_present_with_capacity
	not _agreement
}

# METADATA
# title: P7 Without professional judgment
# description: |
#   The patient is absent or incapacitated, gave no earlier agreement, and no professional judgment
#   was exercised.
# custom:
#   rule: P7
#   code: NO_PERMISSION
#   citation: 45 CFR 164.510(b)(3)
#   message: >-
#     The patient is absent or incapacitated; a professional must judge the disclosure in the
#     patient's best interest.
#   requirement:
#     code: EXERCISE_PROFESSIONAL_JUDGMENT
#     message: >-
#       Have a licensed professional judge whether the disclosure is in the patient's best interest
#       (context.professional_judgment), or obtain the patient's agreement (45 CFR 164.510(b)(3)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "family_involvement" # indexed: OPA skips this rule otherwise
	_involved
	not request.objection
	_absent_or_incapacitated
	not request.patient("agrees")
	not request.context("professional_judgment")
}

# METADATA
# title: P24 Notification without professional judgment
# description: |
#   The patient is absent or incapacitated, gave no earlier agreement, and no professional judgment
#   was exercised.
# custom:
#   rule: P24
#   code: NO_PERMISSION
#   citation: 45 CFR 164.510(b)(1)(ii), (b)(3)
#   message: >-
#     The patient is absent or incapacitated; a professional must judge the notification in the
#     patient's best interest.
#   requirement:
#     code: EXERCISE_PROFESSIONAL_JUDGMENT
#     message: >-
#       Have a licensed professional judge whether the notification is in the patient's best
#       interest (context.professional_judgment), or obtain the patient's agreement (45 CFR 164.510(b)(3)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "family_notification" # indexed: OPA skips this rule otherwise
	input.recipient.type in notification_recipients
	not request.objection
	_absent_or_incapacitated
	not request.patient("agrees")
	not request.context("professional_judgment")
}

_family_request if {
	input.purpose == "family_involvement"
	input.recipient.type in family_recipients
}

_family_request if {
	input.purpose == "family_notification"
	input.recipient.type in notification_recipients
}

_involved if {
	_family_request
	input.recipient.involved_in_care == true
}

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

# Given the chance, the patient did not object, or it can reasonably be inferred (164.510(b)(2)).
_agreement if request.patient("agrees")

_agreement if input.patient.objects == false

_agreement if request.context("professional_judgment")

# P6/P24 without professional judgment standing in for the patient: a deceased patient (no known
# prior objection), an agreement obtained now or earlier, or the present patient's non-objection.
_agreement_basis if not _living

_agreement_basis if request.patient("agrees")

_agreement_basis if {
	_present_with_capacity
	_agreement
}

# P24: the living patient is absent or incapacitated, no agreement is on record, and a
# professional judges the notification in the patient's best interest (164.510(b)(3)).
_judgment_basis if {
	input.recipient.type in notification_recipients
	not request.objection
	_absent_or_incapacitated
	not request.patient("agrees")
	request.context("professional_judgment")
}

# P8: a present, capable patient's objection is honoured unless it would interfere with the
# emergency response (164.510(b)(4)).
_disaster_objection_honoured if {
	request.objection # first: two indexed comparisons, false for most requests
	_present_with_capacity
	not request.context("emergency_response_interference")
}
