# METADATA
# title: A — accounting of disclosures
# description: |
#   Disclosures under 164.512 (P9-P15, P23) and to the Secretary (P16) must appear in an
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
}

# METADATA
# title: accountable
# scope: document
# description: The disclosure, if allowed on these basis codes, belongs in an accounting of disclosures.
accountable(basis_codes) if {
	request.form != "deidentified"
	count(basis_codes & accountable_bases) > 0
	not "LIMITED_DATA_SET" in basis_codes # 164.528(a)(1)(viii): only an LDS under 164.514(e) (P22)
}

accountable(basis_codes) if {
	request.form != "deidentified"
	"PART2_CONSENT" in basis_codes
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
