# P25, P27-P31 — other 164.512 disclosures without authorization
# Abuse and neglect reports (45 CFR 164.512(b)(1)(ii), (c)), workers' compensation (l), organ
# donation (h), funeral directors (g)(2), specialized government functions (k), and public health
# disclosures beyond a public health authority ((b)(1)(iii)-(v)). The accounting obligation comes
# from rule A.
package hipaa.permissions

import data.hipaa.lib
import data.hipaa.request

abuse_report_recipients := {"government_agency", "public_health_authority", "law_enforcement"}

# METADATA
# title: P25 Child abuse or neglect report
# description: A report of child abuse or neglect to an authority authorized by law to receive it.
# custom:
#   rule: P25
#   code: ABUSE_NEGLECT_REPORT
#   citation: 45 CFR 164.512(b)(1)(ii)
#   summary: Report of child abuse or neglect to an authority authorized by law to receive it.
permit contains lib.permit(rego.metadata.chain(), {"abuse_victim": "child"}) if {
	input.purpose == "abuse_report"
	input.recipient.type in abuse_report_recipients
	input.context.abuse_victim == "child"
}

# METADATA
# title: P25 Adult abuse, neglect or domestic violence report
# description: |
#   A report about an adult victim: required by law, the victim agrees, or authorized by law with
#   professional judgment that it prevents serious harm, or with the victim incapacitated and the
#   receiving official's representations (164.512(c)(1)(iii)(B)). The victim is informed.
# custom:
#   rule: P25
#   code: ABUSE_NEGLECT_REPORT
#   citation: 45 CFR 164.512(c)(1)
#   summary: Report of adult abuse, neglect or domestic violence to an authority authorized by law to receive it.
#   obligations:
#     - code: INFORM_VICTIM
#       message: >-
#         Promptly inform the individual that a report has been made, unless professional judgment
#         finds that informing them would place them at risk of serious harm, or would inform a
#         personal representative believed responsible for the abuse (45 CFR 164.512(c)(2)).
permit contains lib.permit(rego.metadata.chain(), {"abuse_victim": "adult"}) if {
	input.purpose == "abuse_report"
	input.recipient.type in abuse_report_recipients
	input.context.abuse_victim == "adult"
	_adult_report_condition
}

# METADATA
# title: P27 Workers' compensation
# description: To an employer or workers' compensation insurer as a workers' compensation law authorizes.
# custom:
#   rule: P27
#   code: WORKERS_COMPENSATION
#   citation: 45 CFR 164.512(l)
#   summary: Disclosure as authorized by and to comply with a workers' compensation law.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "workers_compensation"
	input.recipient.type in {"employer", "workers_compensation_insurer"}
	request.context("authorized_by_law")
}

# METADATA
# title: P28 Organ donation
# description: |
#   To an organ procurement organization or another entity procuring, banking or transplanting
#   cadaveric organs, eyes or tissue.
# custom:
#   rule: P28
#   code: ORGAN_DONATION
#   citation: 45 CFR 164.512(h)
#   summary: Disclosure to facilitate organ, eye or tissue donation and transplantation.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "organ_donation"
	input.recipient.type == "organ_procurement_organization"
}

# METADATA
# title: P29 Funeral director
# description: To a funeral director to carry out its duties, after death or when death is reasonably anticipated.
# custom:
#   rule: P29
#   code: FUNERAL_DIRECTOR
#   citation: 45 CFR 164.512(g)(2)
#   summary: Disclosure to a funeral director as needed to carry out its duties with respect to the decedent.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "funeral_arrangements"
	input.recipient.type == "funeral_director"
	_death_known_or_anticipated
}

# METADATA
# title: P30 Correctional institution
# description: |
#   To a correctional institution or a law enforcement official with lawful custody of an inmate,
#   who represents the information is necessary for the inmate's care, health and safety, or the
#   safety, security and good order of the institution.
# custom:
#   rule: P30
#   code: SPECIALIZED_GOVERNMENT_FUNCTION
#   citation: 45 CFR 164.512(k)(5)
#   summary: Disclosure to a correctional institution or custodial official about an inmate.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record the institution's or official's representation of why the information is necessary.
permit contains lib.permit(rego.metadata.chain(), {"government_function": "correctional_institution"}) if {
	input.purpose == "specialized_government_function"
	input.context.government_function == "correctional_institution"
	_correctional_condition
}

# METADATA
# title: P30 National security
# description: |
#   To authorized federal officials for lawful intelligence, counter-intelligence and national
#   security activities.
# custom:
#   rule: P30
#   code: SPECIALIZED_GOVERNMENT_FUNCTION
#   citation: 45 CFR 164.512(k)(2)
#   summary: Disclosure to authorized federal officials for national security and intelligence activities.
#   obligations:
#     - code: DOCUMENT_RATIONALE
#       message: Record the federal official's authority for the national security request.
permit contains lib.permit(rego.metadata.chain(), {"government_function": "national_security"}) if {
	input.purpose == "specialized_government_function"
	input.context.government_function == "national_security"
	input.recipient.type == "government_agency"
}

# METADATA
# title: P30 Protective services
# description: |
#   To authorized federal officials for the protection of the President and other persons (18 U.S.C.
#   3056, 22 U.S.C. 2709).
# custom:
#   rule: P30
#   code: SPECIALIZED_GOVERNMENT_FUNCTION
#   citation: 45 CFR 164.512(k)(3)
#   summary: Disclosure to authorized federal officials for protective services.
permit contains lib.permit(rego.metadata.chain(), {"government_function": "protective_services"}) if {
	input.purpose == "specialized_government_function"
	input.context.government_function == "protective_services"
	input.recipient.type == "government_agency"
}

# METADATA
# title: P30 Military command
# description: About a member of the Armed Forces, to the military command authority under a published notice.
# custom:
#   rule: P30
#   code: SPECIALIZED_GOVERNMENT_FUNCTION
#   citation: 45 CFR 164.512(k)(1)
#   summary: Disclosure about a member of the Armed Forces for the military mission.
permit contains lib.permit(rego.metadata.chain(), {"government_function": "military"}) if {
	input.purpose == "specialized_government_function"
	input.context.government_function == "military"
	input.recipient.type == "government_agency"
	request.context("authorized_by_law")
}

# METADATA
# title: P31 Public health to a person at risk
# description: To a person exposed to, or at risk of, a communicable disease, where a law authorizes the notification.
# custom:
#   rule: P31
#   code: PUBLIC_HEALTH
#   citation: 45 CFR 164.512(b)(1)(iv)
#   summary: Notification of a person exposed to a communicable disease, as authorized by law.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "public_health"
	input.recipient.type == "at_risk_person"
	request.context("authorized_by_law")
}

# METADATA
# title: P31 Public health to an employer
# description: |
#   To an employer about workplace medical surveillance or a work-related illness or injury the
#   provider evaluated at the employer's request, where a law requires the employer to record it:
#   the findings only, and the individual is told in writing.
# custom:
#   rule: P31
#   code: PUBLIC_HEALTH
#   citation: 45 CFR 164.512(b)(1)(v)
#   summary: Findings of workplace medical surveillance or a work-related illness or injury, to the employer.
#   obligations:
#     - code: NOTIFY_INDIVIDUAL_IN_WRITING
#       message: >-
#         Give the individual written notice that the findings are disclosed to the employer (at the
#         time of care, or by posting notice at the worksite) (45 CFR 164.512(b)(1)(v)(D)).
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "public_health"
	input.recipient.type == "employer"
	request.context("authorized_by_law")
}

# METADATA
# title: P31 Public health to an FDA-regulated entity
# description: |
#   To a person subject to FDA jurisdiction, about an FDA-regulated product or activity for which it
#   is responsible.
# custom:
#   rule: P31
#   code: PUBLIC_HEALTH
#   citation: 45 CFR 164.512(b)(1)(iii)
#   summary: >-
#     Disclosure to a person subject to FDA jurisdiction about the quality, safety or effectiveness
#     of a regulated product.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	input.purpose == "public_health"
	input.recipient.type == "fda_regulated_entity"
}

# METADATA
# title: P25 Adult report without its conditions
# description: An adult-victim report neither required by law, agreed to, nor authorized by law with its conditions.
# custom:
#   rule: P25
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(c)(1)
#   message: >-
#     A report about an adult victim needs a law requiring it (context.report_required_by_law),
#     the victim's agreement (context.victim_agrees), or a law authorizing it
#     (context.authorized_by_law) with professional judgment that it prevents serious harm, or
#     with the victim incapacitated and the official's representations.
#   requirement:
#     code: OBTAIN_VICTIM_AGREEMENT
#     message: Obtain the victim's agreement to the report (45 CFR 164.512(c)(1)(ii)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "abuse_report"
	input.recipient.type in abuse_report_recipients
	input.context.abuse_victim == "adult"
	not _adult_report_condition
}

# METADATA
# title: P27 Workers' compensation without a law authorizing it
# description: No workers' compensation law authorizes the disclosure.
# custom:
#   rule: P27
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(l)
#   message: >-
#     A workers' compensation disclosure needs a workers' compensation law that authorizes it
#     (context.authorized_by_law); otherwise the patient's authorization.
#   requirement:
#     code: OBTAIN_PATIENT_AUTHORIZATION
#     message: Obtain the patient's written authorization for this disclosure (45 CFR 164.508).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "workers_compensation"
	input.recipient.type in {"employer", "workers_compensation_insurer"}
	not request.context("authorized_by_law")
}

# METADATA
# title: P29 Funeral director before death
# description: The patient is alive and no professional judges death reasonably anticipated.
# custom:
#   rule: P29
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(g)(2)
#   message: >-
#     A funeral director may receive information only after the patient's death
#     (patient.deceased) or in reasonable anticipation of it (context.professional_judgment).
#   requirement:
#     code: EXERCISE_PROFESSIONAL_JUDGMENT
#     message: Have a professional judge whether the patient's death is reasonably anticipated (45 CFR 164.512(g)(2)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "funeral_arrangements"
	input.recipient.type == "funeral_director"
	not _death_known_or_anticipated
}

# METADATA
# title: P30 Conditions unmet
# description: The specialized government function's recipient or conditions are not met.
# custom:
#   rule: P30
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(k)
#   message: >-
#     This specialized government function needs its recipient and facts: correctional_institution
#     to a correctional institution or law enforcement with patient.inmate and
#     context.law_enforcement_representations; national_security and protective_services to a
#     government_agency; military to a government_agency with context.authorized_by_law.
deny contains lib.deny(rego.metadata.chain(), {"government_function": input.context.government_function}) if {
	input.purpose == "specialized_government_function"
	not _government_function_met
}

# METADATA
# title: P31 Public health without a law authorizing it
# description: A public health disclosure to a person at risk or an employer that no law authorizes.
# custom:
#   rule: P31
#   code: NO_PERMISSION
#   citation: 45 CFR 164.512(b)(1)(iv)-(v)
#   message: >-
#     A public health disclosure to a person at risk or to an employer needs a law that authorizes
#     or requires it (context.authorized_by_law).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	input.purpose == "public_health"
	input.recipient.type in {"at_risk_person", "employer"}
	not request.context("authorized_by_law")
}

_adult_report_condition if request.context("report_required_by_law")

_adult_report_condition if request.context("victim_agrees")

_adult_report_condition if {
	request.context("authorized_by_law")
	request.context("professional_judgment")
}

_adult_report_condition if {
	request.context("authorized_by_law")
	request.patient("incapacitated")
	request.context("law_enforcement_representations")
}

_death_known_or_anticipated if request.patient("deceased")

_death_known_or_anticipated if request.context("professional_judgment")

_correctional_condition if {
	input.recipient.type in {"correctional_institution", "law_enforcement"}
	request.patient("inmate")
	request.context("law_enforcement_representations")
}

_government_function_met if {
	input.context.government_function == "correctional_institution"
	_correctional_condition
}

_government_function_met if {
	input.context.government_function in {"national_security", "protective_services"}
	input.recipient.type == "government_agency"
}

_government_function_met if {
	input.context.government_function == "military"
	input.recipient.type == "government_agency"
	request.context("authorized_by_law")
}
