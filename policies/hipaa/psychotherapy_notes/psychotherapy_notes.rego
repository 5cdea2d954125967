# METADATA
# title: C1 — psychotherapy notes
# description: |
#   Psychotherapy notes need an authorization of their own (45 CFR 164.508(a)(2)); a general
#   authorization does not cover them, and a treatment disclosure to another provider is not an
#   exception. De-identified data is outside the Privacy Rule (P21), so the gate does not apply.
package hipaa.psychotherapy_notes

import data.hipaa.authorizations
import data.hipaa.lib
import data.hipaa.request

applies if {
	"psychotherapy_notes" in input.data.categories
	request.form != "deidentified"
}

# The exceptions of 164.508(a)(2)(i)-(ii) and 164.512(j)(1)(i), by purpose.
exception if {
	input.purpose == "treatment"
	input.recipient.type == "workforce"
	request.context("originator")
}

exception if {
	input.purpose == "training"
	request.context("supervised_training")
}

exception if {
	input.purpose == "legal_defense"
	request.context("legal_action_by_patient")
}

exception if input.purpose in {"hhs_compliance", "required_by_law", "coroner_medical_examiner"}

# Compulsory legal process is "required by law" (164.103): a court order, court-ordered warrant,
# or a judicial or grand jury subpoena. An attorney's subpoena, a discovery request or an
# administrative request does not compel by itself and is not an exception.
exception if {
	input.purpose == "judicial_proceeding"
	request.compulsory_process
}

exception if {
	input.purpose == "law_enforcement"
	request.compulsory_process
}

# Health oversight only "with respect to the oversight of the originator of the psychotherapy
# notes" (164.508(a)(2)(ii)): the request must say so.
exception if {
	input.purpose == "health_oversight"
	request.context("oversight_of_originator")
}

exception if {
	input.purpose == "serious_threat"
	request.context("serious_imminent_threat")
}

authorized if authorizations.covered({"psychotherapy_notes_authorization"}, "psychotherapy_notes")

# METADATA
# title: C1 Psychotherapy notes exception
# description: The psychotherapy notes go out under one of the exceptions of 164.508(a)(2).
# custom:
#   rule: C1
#   code: PSYCHOTHERAPY_NOTES_EXCEPTION
#   citation: 45 CFR 164.508(a)(2)(i)-(ii), 164.103 (required by law)
#   summary: Psychotherapy notes used or disclosed under an exception to the authorization requirement.
permit contains lib.permit(rego.metadata.chain(), {}) if {
	"psychotherapy_notes" in input.data.categories # indexed: OPA skips this rule otherwise
	applies
	exception
}

# METADATA
# title: C1 Psychotherapy notes authorization required
# description: Psychotherapy notes requested with no psychotherapy-notes authorization and no exception.
# custom:
#   rule: C1
#   code: PSYCHOTHERAPY_NOTES_AUTHORIZATION_REQUIRED
#   citation: 45 CFR 164.508(a)(2)
#   message: Psychotherapy notes need an authorization specific to them.
#   requirement:
#     code: OBTAIN_PSYCHOTHERAPY_NOTES_AUTHORIZATION
#     message: Obtain the patient's authorization for psychotherapy notes (45 CFR 164.508(a)(2)).
deny contains lib.deny(rego.metadata.chain(), {}) if {
	"psychotherapy_notes" in input.data.categories # indexed: OPA skips this rule otherwise
	applies
	not exception
	not authorized
}
