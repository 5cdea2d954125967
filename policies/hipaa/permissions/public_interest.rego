# P9-P13, P15, P16, P23 — disclosures for public interest and benefit activities without authorization
# (45 CFR 164.512) and to the Secretary (164.502(a)(2)(ii)). The accounting obligation for these
# comes from rule A (hipaa.accounting).
package hipaa.permissions

import data.hipaa.lib
import data.hipaa.request

threat_recipients := {"first_responder", "law_enforcement", "at_risk_person", "provider", "family", "caregiver"}

# METADATA
# title: P9 Serious threat
# description: |
#   A good-faith belief that the disclosure is necessary to prevent or lessen a serious and
#   imminent threat, to a person reasonably able to prevent or lessen it.
# custom:
#   rule: P9
#   code: SERIOUS_THREAT
#   citation: 45 CFR 164.512(j)(1)(i)
#   summary: Disclosure to prevent or lessen a serious and imminent threat to health or safety.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record the facts behind the good-faith belief in a serious and imminent threat.
#     - code: NOTIFY_PRIVACY_OFFICER
#       message: Notify the privacy officer of this disclosure.
#     - code: POST_EVENT_REVIEW
#       message: Review the disclosure after the event.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "serious_threat"
	request.context("serious_imminent_threat")
	input.recipient.type in threat_recipients
}

# METADATA
# title: P10 Required by law
# description: |
#   A disclosure a law requires, to the recipient the law names; to a court only with the process
#   P13 needs (164.512(a)(2)).
# custom:
#   rule: P10
#   code: REQUIRED_BY_LAW
#   citation: 45 CFR 164.512(a)
#   summary: Disclosure required by law, limited to its requirements.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "required_by_law"
	not input.context.abuse_victim == "adult"
	_required_by_law_recipient
}

# METADATA
# title: P10 Required report about an adult victim
# description: |
#   A report the law requires about an adult victim of abuse, neglect or domestic violence: the
#   victim must be informed, as under P25 (164.512(a)(2), (c)(2)).
# custom:
#   rule: P10
#   code: REQUIRED_BY_LAW
#   citation: 45 CFR 164.512(a), (c)(2)
#   summary: Disclosure required by law, limited to its requirements.
#   obligations:
#     - code: INFORM_VICTIM
#       message: >-
#         Promptly inform the individual that a report has been made, unless informing them would
#         place them at risk of serious harm or would inform a representative believed responsible
#         for the abuse (45 CFR 164.512(c)(2)).
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.context.abuse_victim == "adult" # indexed: skipped for other reports
	input.purpose == "required_by_law"
	_required_by_law_recipient
}

# METADATA
# title: P11 Public health
# description: To a public health authority for its public health activities.
# custom:
#   rule: P11
#   code: PUBLIC_HEALTH
#   citation: 45 CFR 164.512(b)
#   summary: Disclosure to a public health authority for public health activities.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "public_health"
	input.recipient.type == "public_health_authority"
}

# METADATA
# title: P12 Health oversight
# description: To a health oversight agency for oversight activities authorized by law.
# custom:
#   rule: P12
#   code: HEALTH_OVERSIGHT
#   citation: 45 CFR 164.512(d)
#   summary: Disclosure to a health oversight agency for oversight activities.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "health_oversight"
	input.recipient.type == "health_oversight_agency"
}

# METADATA
# title: P13 Judicial proceeding under an order
# description: |
#   To a court (or a party's counsel, `other`) under an order of the court: a court order,
#   court-ordered warrant, or a subpoena signed by a judge. Only what the order expressly
#   authorizes may be disclosed (164.512(e)(1)(i)).
# custom:
#   rule: P13
#   code: JUDICIAL_PROCEEDING
#   citation: 45 CFR 164.512(e)(1)(i)
#   summary: Disclosure in a judicial or administrative proceeding under an order of the court.
#   obligations:
#     - code: LIMIT_TO_ORDER_SCOPE
#       message: Disclose only the information the order expressly authorizes (45 CFR 164.512(e)(1)(i)).
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "judicial_proceeding"
	_court_recipient
	request.court_ordered
}

# METADATA
# title: P13 Judicial proceeding under other lawful process
# description: |
#   To a court or a party's counsel under a subpoena, discovery request or other lawful process
#   not accompanied by an order, with satisfactory assurances of notice to the patient or of a
#   qualified protective order.
# custom:
#   rule: P13
#   code: JUDICIAL_PROCEEDING
#   citation: 45 CFR 164.512(e)(1)(ii)
#   summary: Disclosure in a judicial or administrative proceeding under lawful process with satisfactory assurances.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "judicial_proceeding"
	_court_recipient
	_assured_process
}

# METADATA
# title: P15 Coroner or medical examiner
# description: To a coroner or medical examiner to identify a decedent or determine a cause of death.
# custom:
#   rule: P15
#   code: CORONER_MEDICAL_EXAMINER
#   citation: 45 CFR 164.512(g)(1)
#   summary: Disclosure to a coroner or medical examiner for their duties.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "coroner_medical_examiner"
	input.recipient.type == "coroner_medical_examiner"
}

# METADATA
# title: P16 HHS compliance
# description: To the Secretary (HHS) to investigate or determine compliance.
# custom:
#   rule: P16
#   code: HHS_COMPLIANCE
#   citation: 45 CFR 164.502(a)(2)(ii)
#   summary: Disclosure required by the Secretary to investigate or determine compliance.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "hhs_compliance"
	input.recipient.type == "hhs"
}

# METADATA
# title: P23 Research under a waiver
# description: To a researcher with an IRB or privacy board waiver of authorization.
# custom:
#   rule: P23
#   code: RESEARCH_WAIVER
#   citation: 45 CFR 164.512(i)(1)(i)
#   summary: Disclosure for research under an IRB or privacy board waiver of authorization.
permit contains lib.permit(rego.metadata.chain(), {"irb_waiver_id": input.context.irb_waiver_id}) if {
	input.purpose == "research"
	input.recipient.type == "researcher"
	request.context_id("irb_waiver_id")
}

# METADATA
# title: P10 To a court without process
# description: A disclosure "required by law" to a court still needs the process of 164.512(e) (164.512(a)(2)).
# custom:
#   rule: P10
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(a)(2), 164.512(e)(1)
#   message: >-
#     A disclosure required by law to a court needs the process of a judicial proceeding: a court
#     order, or other lawful process with satisfactory assurances.
#   requirement:
#     code: OBTAIN_COURT_ORDER
#     message: Obtain a court order (or lawful process with satisfactory assurances under 45 CFR 164.512(e)(1)(ii)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "required_by_law"
	input.recipient.type == "court"
	not _judicial_authority
}

# METADATA
# title: P9 No serious and imminent threat
# description: A serious-threat disclosure without the serious and imminent threat flag.
# custom:
#   rule: P9
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(j)(1)(i)
#   message: >-
#     A serious-threat disclosure needs a good-faith belief in a serious and imminent threat to
#     health or safety (context.serious_imminent_threat).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "serious_threat"
	not request.context("serious_imminent_threat")
}

# METADATA
# title: P13 No order or assured subpoena
# description: A judicial-proceeding disclosure with neither a court order nor a subpoena with assurances.
# custom:
#   rule: P13
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(e)(1)
#   message: >-
#     A disclosure in a proceeding needs a court order (context.legal_process), or other lawful
#     process with satisfactory assurances (context.satisfactory_assurances).
#   requirement:
#     code: OBTAIN_COURT_ORDER
#     message: Obtain a court order (or lawful process with satisfactory assurances under 45 CFR 164.512(e)(1)(ii)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "judicial_proceeding"
	_court_recipient
	not _judicial_authority
}

_required_by_law_recipient if input.recipient.type != "court"

_required_by_law_recipient if _judicial_authority

_court_recipient if input.recipient.type in {"court", "other"}

# An order of the court, or other lawful process with satisfactory assurances (164.512(e)(1)).
_judicial_authority if request.court_ordered

_judicial_authority if _assured_process

_assured_process if {
	request.other_process
	request.context("satisfactory_assurances")
}
