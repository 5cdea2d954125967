# METADATA
# title: A — accounting of disclosures
# description: |
#   Disclosures under 164.512 (P9-P15, P23, P25-P31; not P30's national security and
#   correctional cases, 164.528(a)(1)(vi)-(vii)) and to the Secretary (P16) must appear in an
#   accounting of disclosures (45 CFR 164.528); so must disclosures of Part 2 records made with
#   consent outside treatment, payment and operations (42 CFR 2.25(a)). Not accountable: TPO, to the
#   individual, under a HIPAA authorization, to persons involved in care, a limited data set
#   disclosed under 164.514(e) (basis LIMITED_DATA_SET, P22) or de-identified data (164.528(a)(1)).
#   Data in limited-data-set form disclosed on another basis (e.g. to law enforcement) is
#   accountable: the exclusion covers only the 164.514(e) disclosure.
package hipaa.accounting

import data.hipaa.lib
import data.hipaa.request

accountable_bases := {
	"SERIOUS_THREAT", "REQUIRED_BY_LAW", "PUBLIC_HEALTH", "HEALTH_OVERSIGHT", "JUDICIAL_PROCEEDING",
	"LAW_ENFORCEMENT", "CORONER_MEDICAL_EXAMINER", "HHS_COMPLIANCE", "RESEARCH_WAIVER",
	"ABUSE_NEGLECT_REPORT", "WORKERS_COMPENSATION", "ORGAN_DONATION", "FUNERAL_DIRECTOR",
}

# Specialized government functions that are accounted for: national security and intelligence
# (164.528(a)(1)(vi)) and correctional institutions (vii) are excluded.
accountable_government_functions := {"protective_services", "military"}

# METADATA
# title: accountable
# scope: document
# description: The disclosure, if allowed on these basis codes, belongs in an accounting of disclosures.
accountable(basis_codes) if {
	count(basis_codes & accountable_bases) > 0 # first: most decisions then read no other rule
	request.form != "deidentified"
	not "LIMITED_DATA_SET" in basis_codes # 164.528(a)(1)(viii): only an LDS under 164.514(e) (P22)
}

accountable(basis_codes) if {
	input.purpose == "specialized_government_function" # indexed: skipped for other purposes
	request.form != "deidentified"
	"SPECIALIZED_GOVERNMENT_FUNCTION" in basis_codes
	input.context.government_function in accountable_government_functions
}

accountable(basis_codes) if {
	"PART2_CONSENT" in basis_codes
	request.form != "deidentified"
	not input.purpose in request.tpo
}

# METADATA
# title: A Account for the disclosure
# description: The disclosure must be recorded for the patient's accounting of disclosures.
# custom:
#   rule: A
#   code: ACCOUNT_FOR_DISCLOSURE
#   citation: 45 CFR 164.528; 42 CFR 2.25
#   message: Record this disclosure for the patient's accounting of disclosures.
obligation := lib.result(rego.metadata.chain(), {})

# METADATA
# title: A Recipient name required
# description: |
#   An accounting entry names the recipient (164.528(b)(2)(ii)): an accountable disclosure whose
#   request has no recipient.name is denied rather than recorded as "(recipient not recorded)".
# custom:
#   rule: A
#   code: RECIPIENT_NAME_REQUIRED
#   citation: 45 CFR 164.528(b)(2)(ii)
#   message: This disclosure must be accounted for, and the accounting must name the recipient (recipient.name).
#   requirement:
#     code: PROVIDE_RECIPIENT_NAME
#     message: Give the recipient's name (recipient.name) so that the accounting of disclosures can name it.
recipient_name_required := lib.deny(rego.metadata.chain(), {})
