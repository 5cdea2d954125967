# C3 — SUD counseling notes (42 CFR 2.11, 2.31(b) as amended 2024): a consent for counseling
# notes alone; a TPO or general Part 2 consent does not cover them. Exceptions parallel 164.508(a)(2).
package hipaa.part2

import data.hipaa.authorizations
import data.hipaa.lib
import data.hipaa.request

counseling_notes_apply if {
	"sud_counseling_notes" in input.data.categories
	request.form != "deidentified"
}

counseling_notes_exception if {
	input.purpose == "treatment"
	input.recipient.type == "workforce"
	request.context("originator")
}

counseling_notes_exception if {
	input.purpose == "training"
	request.context("supervised_training")
}

counseling_notes_exception if {
	input.purpose == "legal_defense"
	request.context("legal_action_by_patient")
}

counseling_notes_exception if input.purpose == "required_by_law"

# Oversight (42 CFR 2.53) only with respect to the oversight of the originator of the counseling
# notes, as in 164.508(a)(2)(ii), which the 2.31(b) exceptions parallel.
counseling_notes_exception if {
	input.purpose == "health_oversight"
	request.context("oversight_of_originator")
}

counseling_notes_consented if {
	counseling_notes_apply
	not counseling_notes_exception
	authorizations.covered({"sud_counseling_notes_consent"}, "sud_counseling_notes")
}

# METADATA
# title: C3 Counseling notes consent
# description: A valid consent specific to SUD counseling notes covers them.
# custom:
#   rule: C3
#   code: PART2_CONSENT
#   citation: 42 CFR 2.31(b)
#   summary: SUD counseling notes disclosed under a consent specific to them.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	"sud_counseling_notes" in input.data.categories # indexed: OPA skips this rule otherwise
	counseling_notes_consented
}

# METADATA
# title: C3 Counseling notes consent required
# description: SUD counseling notes requested with no specific consent and no exception.
# custom:
#   rule: C3
#   code: SUD_COUNSELING_NOTES_CONSENT_REQUIRED
#   citation: 42 CFR 2.31(b)
#   message: SUD counseling notes need a consent specific to them; a TPO or general consent does not cover them.
#   requirement:
#     code: OBTAIN_PART2_CONSENT
#     message: Obtain the patient's consent for SUD counseling notes alone (42 CFR 2.31(b)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	"sud_counseling_notes" in input.data.categories # indexed: OPA skips this rule otherwise
	counseling_notes_apply
	not counseling_notes_exception
	not authorizations.covered({"sud_counseling_notes_consent"}, "sud_counseling_notes")
}
