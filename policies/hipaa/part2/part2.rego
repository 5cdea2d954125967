# METADATA
# title: C2 — 42 CFR Part 2 records
# description: |
#   Records of a Part 2 program, or received under Part 2 (2024 final rule, compliance date
#   2026-02-16), need the patient's Part 2 consent unless an exception applies. A HIPAA
#   authorization is not a Part 2 consent (42 CFR 2.31, 2.32). With `part2_program: false`
#   SUD information is ordinary PHI and only HIPAA applies.
package hipaa.part2

import data.hipaa.authorizations
import data.hipaa.business_associates
import data.hipaa.lib
import data.hipaa.request

# The current 42 CFR 2.32(a)(1) statement (89 FR 12472, Feb 16 2024).
notice_text := concat("", [
	"This record which has been disclosed to you is protected by Federal confidentiality rules (42 CFR part 2). ",
	"These rules prohibit you from using or disclosing this record, or testimony that describes the information ",
	"contained in this record, in any civil, criminal, administrative, or legislative proceedings by any Federal, ",
	"State, or local authority, against the patient, unless authorized by the consent of the patient, except as ",
	"provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR 2.64 or 2.65. In addition, ",
	"the Federal rules prohibit you from making any other use or disclosure of this record unless at least one of ",
	"the following applies: (i) Further use or disclosure is expressly permitted by the written consent of the ",
	"individual whose information is being disclosed in this record or as otherwise permitted by 42 CFR part 2. ",
	"(ii) You are a covered entity or business associate and have received the record for treatment, payment, or ",
	"health care operations, or (iii) You have received the record from a covered entity or business associate as ",
	"permitted by 45 CFR part 164, subparts A and E. A general authorization for the release of medical or other ",
	"information is NOT sufficient to meet the required elements of written consent to further use or redisclose ",
	"the record (see 42 CFR 2.31).",
])

# The duty of 42 CFR 2.32(b) that goes with the statement.
enclosure := concat("", [
	"Send a copy of the consent or a clear explanation of the scope of the consent ",
	"with the disclosure (42 CFR 2.32(b)).",
])

applies if {
	"substance_use_disorder" in input.data.categories
	request.part2_program
	request.form != "deidentified"
}

_proceeding if input.purpose in {"judicial_proceeding", "law_enforcement"}

_against_patient if {
	_proceeding
	request.context("against_patient")
}

# An order authorizing the disclosure, issued with the findings of 42 CFR 2.64(d) or 2.65(d). An
# ordinary court order is not one, and a subpoena compels but never authorizes by itself (2.61).
_authorizing_order if request.context("part2_court_order")

_emergency if {
	input.purpose == "medical_emergency"
	input.recipient.type in {"provider", "first_responder"}
}

# The consent types that can carry this disclosure (2.31, 2.33; proceedings: 2.31(d), 2.64).
default consent_types := {"part2_consent"}

consent_types := {"part2_proceedings_consent"} if _against_patient

consent_types := {"part2_tpo_consent", "part2_consent"} if input.purpose in request.tpo

consented if authorizations.covered(consent_types, "substance_use_disorder")

# (a) proceedings: an authorizing court order is the alternative to the consent (2.61, 2.64-2.65).
_permitted_without_consent if {
	_proceeding
	_authorizing_order
}

# (b) a bona fide medical emergency (2.51).
_permitted_without_consent if _emergency

# Internal communications (42 CFR 2.12(c)(3)): the restrictions do not apply to communications
# between or among personnel who need the information for duties arising out of the provision of
# diagnosis, treatment or referral for treatment, within a Part 2 program or between it and an
# entity with direct administrative control over it. The workforce is the requesting entity's own;
# only treatment is such a duty here (payment, operations and training still need a consent).
_permitted_without_consent if {
	input.purpose == "treatment"
	input.recipient.type == "workforce"
}

# The patient's own access to their records needs no consent (42 CFR 2.23(a)).
_permitted_without_consent if {
	input.purpose == "individual_access"
	input.recipient.type == "patient"
}

# Part 2's own exceptions (v1.2): the disclosure still needs its HIPAA basis.
# (e) the initial report of suspected child abuse or neglect required under state law (2.12(c)(6));
# there is no such exception for adult abuse.
_permitted_without_consent if {
	input.purpose == "abuse_report"
	input.context.abuse_victim == "child"
}

# (f) to a medical examiner or coroner, to determine the cause of death (2.15(b)).
_permitted_without_consent if input.purpose == "coroner_medical_examiner"

# (g) to a qualified service organization (a business associate under a BAA in force covering the
# purpose) (2.11, 2.12(c)(4)).
_permitted_without_consent if {
	input.recipient.type == "business_associate"
	business_associates.baa_covers(input.purpose)
}

# (h) crimes on program premises or against program personnel (2.12(c)(5)); minimum necessary
# limits the elements to the premises view.
_permitted_without_consent if {
	input.purpose == "law_enforcement"
	input.context.law_enforcement_reason == "crime_on_premises"
}

# (i) research under an IRB or privacy board waiver (2.52).
_permitted_without_consent if {
	input.purpose == "research"
	request.context_id("irb_waiver_id")
}

# (j) audit and evaluation (2.53).
_permitted_without_consent if input.purpose == "health_oversight"

# (k) records received under a TPO consent by a covered entity or business associate may be
# redisclosed as HIPAA permits (2.33(b)); proceedings against the patient still need (a).
_permitted_without_consent if {
	input.data.part2_received_under_tpo_consent == true
	not _against_patient
}

# METADATA
# title: C2 Part 2 consent
# description: |
#   A valid Part 2 consent covers the SUD records for this recipient and purpose (a TPO consent
#   covers treatment, payment and operations by its type; proceedings against the patient need a
#   consent for that use alone).
# custom:
#   rule: C2
#   code: PART2_CONSENT
#   citation: 42 CFR 2.31, 2.33
#   summary: SUD records disclosed under the patient's Part 2 consent.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	"substance_use_disorder" in input.data.categories # indexed: OPA skips this rule otherwise
	applies
	not _permitted_without_consent
	consented
}

# METADATA
# title: C2 Medical emergency
# description: A bona fide medical emergency, to medical personnel (a provider or first responder).
# custom:
#   rule: C2
#   code: MEDICAL_EMERGENCY
#   citation: 42 CFR 2.51
#   summary: SUD records disclosed to medical personnel in a bona fide medical emergency.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: >-
#         Immediately record in the patient's records the name of the medical personnel who received
#         the disclosure and their affiliation with any health care facility, the name of the
#         individual making the disclosure, the date and time of the disclosure, the nature of the
#         emergency and the information disclosed (42 CFR 2.51(c)).
#     - code: NOTIFY_PRIVACY_OFFICER
#       message: Notify the privacy officer of the emergency disclosure of Part 2 records.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	"substance_use_disorder" in input.data.categories # indexed: OPA skips this rule otherwise
	applies
	_emergency
}

# METADATA
# title: C2 Proceedings against the patient
# description: |
#   Use in civil, criminal, administrative or legislative proceedings against the patient needs
#   the patient's proceedings consent, or a court order authorizing it under 2.64 or 2.65.
# custom:
#   rule: C2
#   code: PART2_PROCEEDINGS_RESTRICTED
#   citation: 42 CFR 2.12(d), 2.31, 2.61-2.65
#   message: >-
#     Part 2 records may be used against the patient only with the patient's proceedings consent
#     or a court order authorizing the disclosure with the findings of 42 CFR 2.64(d) or 2.65(d)
#     (context.part2_court_order); an ordinary order or a subpoena is not enough.
#   requirement:
#     code: OBTAIN_COURT_ORDER
#     message: Obtain a court order authorizing the disclosure under 42 CFR 2.64 or 2.65.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	"substance_use_disorder" in input.data.categories # indexed: OPA skips this rule otherwise
	applies
	_against_patient
	not _authorizing_order
	not consented
}

# METADATA
# title: C2 Part 2 consent required
# description: |
#   SUD records without a Part 2 consent covering the disclosure and without an exception. When a
#   consent of a type that could carry it is on file but does not cover it (invalid, or out of
#   scope: recipient, purpose, categories), the message says so and names the consents.
# custom:
#   rule: C2
#   code: PART2_CONSENT_REQUIRED
#   citation: 42 CFR 2.31, 2.33
#   message: These SUD records need the patient's Part 2 consent; a HIPAA authorization is not enough.
#   requirement:
#     code: OBTAIN_PART2_CONSENT
#     message: >-
#       Obtain the patient's written consent under 42 CFR 2.31 (a single TPO consent covers
#       treatment, payment and operations).
deny contains lib.deny(rego.metadata.chain(), _consent_on_file_fields) if {
	"substance_use_disorder" in input.data.categories # indexed: OPA skips this rule otherwise
	applies
	not _against_patient
	not _permitted_without_consent
	not consented
}

# A consent of a type that could carry the disclosure is on file but does not cover it: the
# reason says why, instead of suggesting that only a HIPAA authorization was given (built only
# for a deny).
default _consent_on_file_fields := {}

_consent_on_file_fields := {
	"message": concat("", [
		"The Part 2 consent on file does not cover this disclosure: it must be signed, unrevoked and ",
		"unexpired, name this recipient (or its type) and purpose, and list substance_use_disorder ",
		"among its categories.",
	]),
	"consent_ids": _on_file_ids,
} if {
	count(_on_file_ids) > 0
}

_on_file_ids := [object.get(auth, "id", null) |
	some auth in object.get(input, "authorizations", [])
	auth.type in consent_types
]

# METADATA
# title: C2 Redisclosure notice
# description: Every disclosure made with a Part 2 consent carries the 2.32 statement and the consent or its scope.
# custom:
#   rule: C2
#   code: PART2_REDISCLOSURE_NOTICE
#   citation: 42 CFR 2.32
#   message: Send the 42 CFR 2.32 statement with the disclosure.
obligations contains lib.result(rego.metadata.chain(), _notice_fields) if _consent_relied_on

_notice_fields := {"text": notice_text, "enclosure": enclosure, "consent_ids": _consent_ids}

_consent_relied_on if {
	"substance_use_disorder" in input.data.categories # indexed: OPA skips this rule otherwise
	applies
	not _permitted_without_consent
	consented
}

_consent_relied_on if {
	"sud_counseling_notes" in input.data.categories # indexed: OPA skips this rule otherwise
	counseling_notes_consented
}

_consent_ids := sort({id |
	some auth in object.get(input, "authorizations", [])
	auth.type in (consent_types | _counseling_types)
	authorizations.covers(auth, _consent_category(auth))
	id := object.get(auth, "id", null)
})

_counseling_types := {"sud_counseling_notes_consent"}

_consent_category(auth) := "sud_counseling_notes" if auth.type in _counseling_types

else := "substance_use_disorder"
