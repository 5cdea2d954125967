# METADATA
# title: A — accounting of disclosures
# description: |
#   Disclosures under 164.512 (P9-P15, P23) and to the Secretary (P16) must appear in an
#   accounting of disclosures (45 CFR 164.528); so must disclosures of Part 2 records made with
#   consent outside treatment, payment and operations (42 CFR 2.25(a)). Not accountable: TPO, to the
#   individual, under a HIPAA authorization, to persons involved in care, a limited data set or
#   de-identified data (164.528(a)(1)).
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
	request.form == "identified"
	count(basis_codes & accountable_bases) > 0
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
