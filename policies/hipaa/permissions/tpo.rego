# METADATA
# title: P — permissions
# description: |
#   The permissions of docs/rules.md, one file per family: each `permit` item is a basis (with the
#   obligations that come with it), each `deny` item a reason (with what would fix it).
#   This file: treatment, payment and health care operations without authorization
#   (45 CFR 164.506(c)), including training and legal services, which are operations (164.501).
package hipaa.permissions

import data.hipaa.business_associates
import data.hipaa.lib

# METADATA
# title: P1 Treatment by a provider or EMS
# description: Treatment, to a provider or first responder treating the patient.
# custom:
#   rule: P1
#   code: TREATMENT
#   citation: 45 CFR 164.506(c)(1)-(2)
#   summary: Disclosure to a health care provider (or EMS) for its treatment of the patient.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "treatment" # indexed: one body per purpose, so OPA skips it otherwise
	input.recipient.type in {"provider", "first_responder"}
}

# METADATA
# title: P1 Medical emergency treatment by a provider or EMS
# description: A medical emergency, to a provider or first responder treating the patient.
# custom:
#   rule: P1
#   code: TREATMENT
#   citation: 45 CFR 164.506(c)(1)-(2)
#   summary: Disclosure to a health care provider (or EMS) for its treatment of the patient.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "medical_emergency"
	input.recipient.type in {"provider", "first_responder"}
}

# METADATA
# title: P1 Treatment through an HIE
# description: Treatment to an HIE with a participation agreement on file.
# custom:
#   rule: P1
#   code: TREATMENT
#   citation: 45 CFR 164.506(c)(1)-(2)
#   summary: Disclosure through a health information exchange, under its participation agreement, for treatment.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "treatment"
	input.recipient.type == "hie"
	business_associates.hie_agreement
}

# METADATA
# title: P1 Treatment use by the workforce
# description: |
#   Use of PHI by the entity's own workforce for its treatment of the patient (164.506(c)(1):
#   "its own treatment"); minimum necessary applies to uses (164.514(d)(2)).
# custom:
#   rule: P1
#   code: TREATMENT
#   citation: 45 CFR 164.506(c)(1)
#   summary: Use by the covered entity's workforce for its own treatment of the patient.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "treatment"
	input.recipient.type == "workforce"
}

# METADATA
# title: P1 Treatment to a community organization (HIPAA floor option)
# description: |
#   With the `community_treatment_disclosures: hipaa_floor` option, treatment to a community
#   organization is care coordination with a third party (164.501 "treatment"); minimum necessary applies.
# custom:
#   rule: P1
#   code: TREATMENT
#   citation: 45 CFR 164.501 (treatment), 164.506(c)(1); HHS guidance on care coordination
#   summary: Care coordination with a community organization, a treatment disclosure under the HIPAA floor option.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "treatment"
	input.recipient.type == "community_organization"
	business_associates.community_treatment_floor
}

# METADATA
# title: P2 Payment
# description: Payment to a health plan or provider (their payment or the entity's own).
# custom:
#   rule: P2
#   code: PAYMENT
#   citation: 45 CFR 164.506(c)(1), (c)(3)
#   summary: Disclosure for payment activities.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record why this information is needed for payment.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "payment"
	_payment_recipient
}

# METADATA
# title: P3 Health care operations
# description: Operations, to a health plan, provider, the workforce or a BA whose BAA covers it.
# custom:
#   rule: P3
#   code: HEALTH_CARE_OPERATIONS
#   citation: 45 CFR 164.506(c)(1), (c)(4)
#   summary: Use or disclosure for health care operations.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record the operations activity this information is needed for.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "health_care_operations"
	_operations_recipient
}

# METADATA
# title: P19 Training
# description: The entity's own training programs, to its workforce.
# custom:
#   rule: P19
#   code: HEALTH_CARE_OPERATIONS
#   citation: 45 CFR 164.501 (health care operations), 164.506(c)(1)
#   summary: Use for the entity's own training programs (health care operations).
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "training"
	input.recipient.type == "workforce"
}

# METADATA
# title: P20 Legal defense
# description: |
#   Arranging for legal services when the entity is a party to a legal proceeding: to in-house
#   counsel (the workforce), to the court of the proceeding, or to outside counsel, a business
#   associate (160.103) with a BAA in force covering legal services or operations.
# custom:
#   rule: P20
#   code: HEALTH_CARE_OPERATIONS
#   citation: 45 CFR 164.501 (health care operations), 164.506(c)(1)
#   summary: Arranging for legal services for the entity (health care operations).
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record the proceeding and why this information is needed for the entity's legal services.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "legal_defense"
	legal_defense_recipient
}

# METADATA
# title: P20 Outside counsel without a BAA
# description: |
#   Legal-services disclosures go to in-house counsel, the court, or outside counsel under a BAA:
#   outside counsel receiving PHI is a business associate (45 CFR 160.103).
# custom:
#   rule: P20
#   code: BAA_REQUIRED
#   citation: 45 CFR 160.103 (business associate), 164.502(e), 164.506(c)(1)
#   message: >-
#     Outside counsel receiving PHI is a business associate: this recipient has no business
#     associate agreement in force covering legal services (or operations).
#   requirement:
#     code: EXECUTE_BAA
#     message: >-
#       Execute a business associate agreement with outside counsel covering legal_defense or
#       health_care_operations.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "legal_defense"
	not legal_defense_recipient
}

# In-house counsel, the court of the proceeding, or outside counsel under a BAA.
legal_defense_recipient if input.recipient.type in {"workforce", "court"}

legal_defense_recipient if {
	input.recipient.type == "business_associate"
	business_associates.baa_covers_any({"legal_defense", "health_care_operations"})
}

_payment_recipient if input.recipient.type in {"health_plan", "provider"}

# The person responsible for the bill, for the entity's own payment.
_payment_recipient if input.recipient.type in {"family", "caregiver", "personal_representative", "other"}

_payment_recipient if {
	input.recipient.type in {"business_associate", "hie"}
	business_associates.baa_covers("payment")
}

_operations_recipient if input.recipient.type in {"health_plan", "provider", "workforce"}

_operations_recipient if {
	input.recipient.type in {"business_associate", "hie"}
	business_associates.baa_covers("health_care_operations")
}
