# P14, P26 — disclosures for law enforcement purposes (45 CFR 164.512(f))
# P14: legal process (f)(1)(ii); P26: the other situations of (f)(2)-(6), named by
# `context.law_enforcement_reason`. The accounting obligation comes from rule A.
package hipaa.permissions

import data.hipaa.lib
import data.hipaa.request

# METADATA
# title: P14 Law enforcement under an order
# description: |
#   To law enforcement as required by a court order, court-ordered warrant, or a subpoena or
#   summons issued by a judicial officer; only what the order expressly authorizes.
# custom:
#   rule: P14
#   code: LAW_ENFORCEMENT
#   citation: 45 CFR 164.512(f)(1)(ii)(A)
#   summary: Disclosure to law enforcement as required by a court order, warrant or judicial subpoena.
#   obligations:
#     - code: LIMIT_TO_ORDER_SCOPE
#       message: Disclose only the information the order or warrant expressly authorizes.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	_legal_process_reason
	_court_ordered
}

# METADATA
# title: P14 Law enforcement under a grand jury subpoena or administrative request
# description: |
#   To law enforcement under a grand jury subpoena, or an administrative request whose
#   information is relevant and material, specific and limited, and could not be de-identified.
# custom:
#   rule: P14
#   code: LAW_ENFORCEMENT
#   citation: 45 CFR 164.512(f)(1)(ii)(B)-(C)
#   summary: Disclosure to law enforcement under a grand jury subpoena or a qualifying administrative request.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	_legal_process_reason
	_grand_jury_or_administrative
}

# METADATA
# title: P26 Identification and location
# description: |
#   An official's request for information to identify or locate a suspect, fugitive, material
#   witness or missing person: the identification view only (minimum necessary), never DNA,
#   dental records or typing of body fluids or tissue.
# custom:
#   rule: P26
#   code: LAW_ENFORCEMENT
#   citation: 45 CFR 164.512(f)(2)
#   summary: >-
#     Disclosure to law enforcement to identify or locate a suspect, fugitive, material witness or
#     missing person.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record the official's request and what was disclosed.
permit contains lib.permit(rego.metadata.chain(), {"law_enforcement_reason": "identification_location"}) if {
	input.context.law_enforcement_reason == "identification_location" # indexed: skipped for other reasons
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	not _identification_excluded_only
}

# METADATA
# title: P26 Crime victim
# description: |
#   About a suspected crime victim: the victim agrees, or the victim is incapacitated, the
#   official represents the information is needed to find whether someone else broke the law and
#   will not be used against the victim, waiting would materially hurt an immediate enforcement
#   activity, and a professional judges the disclosure in the victim's best interest.
# custom:
#   rule: P26
#   code: LAW_ENFORCEMENT
#   citation: 45 CFR 164.512(f)(3)
#   summary: Disclosure to law enforcement about a crime victim.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record the victim's agreement or the official's representations and the professional judgment.
permit contains lib.permit(rego.metadata.chain(), {"law_enforcement_reason": "crime_victim"}) if {
	input.context.law_enforcement_reason == "crime_victim" # indexed: skipped for other reasons
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	_crime_victim_condition
}

# METADATA
# title: P26 Decedent
# description: Alerting law enforcement of a death the entity suspects may have resulted from criminal conduct.
# custom:
#   rule: P26
#   code: LAW_ENFORCEMENT
#   citation: 45 CFR 164.512(f)(4)
#   summary: Disclosure to law enforcement about a death suspected to result from criminal conduct.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record the suspicion that the death resulted from criminal conduct.
permit contains lib.permit(rego.metadata.chain(), {"law_enforcement_reason": "decedent_crime"}) if {
	input.context.law_enforcement_reason == "decedent_crime" # indexed: skipped for other reasons
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	request.patient("deceased")
	request.context("suspected_criminal_conduct")
}

# METADATA
# title: P26 Crime on premises
# description: Information the entity believes in good faith is evidence of criminal conduct on its premises.
# custom:
#   rule: P26
#   code: LAW_ENFORCEMENT
#   citation: 45 CFR 164.512(f)(5)
#   summary: Disclosure to law enforcement of evidence of a crime on the premises.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record the good-faith belief that the information is evidence of a crime on the premises.
permit contains lib.permit(rego.metadata.chain(), {"law_enforcement_reason": "crime_on_premises"}) if {
	input.context.law_enforcement_reason == "crime_on_premises" # indexed: skipped for other reasons
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	request.context("suspected_criminal_conduct")
}

# METADATA
# title: P26 Reporting a crime in an emergency
# description: |
#   A provider giving emergency care away from its premises alerts law enforcement to a crime;
#   not where the emergency results from abuse, neglect or domestic violence of the patient (P25).
# custom:
#   rule: P26
#   code: LAW_ENFORCEMENT
#   citation: 45 CFR 164.512(f)(6)
#   summary: Disclosure by a provider in an off-premises emergency to alert law enforcement to a crime.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record the emergency and the crime it alerted law enforcement to.
permit contains lib.permit(rego.metadata.chain(), {"law_enforcement_reason": "emergency_crime_report"}) if {
	input.context.law_enforcement_reason == "emergency_crime_report" # indexed: skipped for other reasons
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	not _abuse_victim_named
}

# METADATA
# title: P14 Insufficient legal process
# description: |
#   A law-enforcement disclosure under legal process with no process 164.512(f)(1)(ii) accepts:
#   none, an attorney-issued subpoena, a discovery request, a subpoena of unknown issuer, or an
#   administrative request without its three conditions.
# custom:
#   rule: P14
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(f)(1)(ii)
#   message: >-
#     A disclosure to law enforcement under legal process needs a court order, court-ordered
#     warrant, judicial or grand jury subpoena, or an administrative request meeting the three
#     conditions of 164.512(f)(1)(ii)(C) (context.administrative_request_conditions_met).
#   requirement:
#     code: OBTAIN_COURT_ORDER
#     message: Obtain a court order, court-ordered warrant or judicial subpoena (45 CFR 164.512(f)(1)(ii)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	_legal_process_reason
	not _court_ordered
	not _grand_jury_or_administrative
}

# METADATA
# title: P26 Identification, excluded information only
# description: |
#   Only genetic information or laboratory results (DNA, dental records, typing) were requested for
#   identification.
# custom:
#   rule: P26
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(f)(2)(ii)
#   message: >-
#     For identification or location, DNA, dental records and typing or analysis of body fluids or
#     tissue may not be disclosed; request the identification elements instead.
#   requirement:
#     code: OBTAIN_COURT_ORDER
#     message: Obtain a court order or warrant for this information (45 CFR 164.512(f)(1)(ii)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.context.law_enforcement_reason == "identification_location" # indexed: skipped for other reasons
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	_identification_excluded_only
}

# METADATA
# title: P26 Crime victim without agreement
# description: |
#   The victim neither agreed nor is incapacitated with the official's representations and
#   professional judgment.
# custom:
#   rule: P26
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(f)(3)
#   message: >-
#     Information about a crime victim needs the victim's agreement (context.victim_agrees), or,
#     with the victim incapacitated, the official's representations
#     (context.law_enforcement_representations) and professional judgment.
#   requirement:
#     code: OBTAIN_VICTIM_AGREEMENT
#     message: Obtain the victim's agreement to the disclosure (45 CFR 164.512(f)(3)(i)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.context.law_enforcement_reason == "crime_victim" # indexed: skipped for other reasons
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	not _crime_victim_condition
}

# METADATA
# title: P26 Decedent, conditions unmet
# description: The patient is not deceased, or no criminal conduct is suspected.
# custom:
#   rule: P26
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(f)(4)
#   message: >-
#     A report about a decedent needs a deceased patient (patient.deceased) and a suspicion that
#     the death resulted from criminal conduct (context.suspected_criminal_conduct).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.context.law_enforcement_reason == "decedent_crime" # indexed: skipped for other reasons
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	not _decedent_condition
}

# METADATA
# title: P26 Crime on premises without suspicion
# description: No good-faith belief of criminal conduct on the premises.
# custom:
#   rule: P26
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(f)(5)
#   message: >-
#     A report of a crime on the premises needs a good-faith belief that the information is
#     evidence of criminal conduct there (context.suspected_criminal_conduct).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.context.law_enforcement_reason == "crime_on_premises" # indexed: skipped for other reasons
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	not request.context("suspected_criminal_conduct")
}

# METADATA
# title: P26 Emergency report about an abuse victim
# description: The emergency results from abuse, neglect or domestic violence of the patient (P25 governs).
# custom:
#   rule: P26
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(f)(6)(ii)
#   message: >-
#     The emergency results from abuse, neglect or domestic violence of the patient
#     (context.abuse_victim): report it with purpose abuse_report, under its conditions.
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.context.law_enforcement_reason == "emergency_crime_report" # indexed: skipped for other reasons
	input.purpose == "law_enforcement"
	input.recipient.type == "law_enforcement"
	_abuse_victim_named
}

_legal_process_reason if request.law_enforcement_reason in {null, "legal_process"}

_court_ordered if request.court_ordered

_grand_jury_or_administrative if input.context.legal_process == "grand_jury_subpoena"

_grand_jury_or_administrative if {
	input.context.legal_process == "administrative_request"
	request.context("administrative_request_conditions_met")
}

# Only genetic information requested, or only laboratory results among the elements.
_identification_excluded_only if request.categories == {"genetic"}

_identification_excluded_only if {
	count(request.elements) > 0
	count(request.elements - {"lab_results"}) == 0
}

_crime_victim_condition if request.context("victim_agrees")

_crime_victim_condition if {
	request.patient("incapacitated")
	request.context("law_enforcement_representations")
	request.context("professional_judgment")
}

_decedent_condition if {
	request.patient("deceased")
	request.context("suspected_criminal_conduct")
}

_abuse_victim_named if input.context.abuse_victim in {"child", "adult"}
