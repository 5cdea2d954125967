# Matrix entries pinned to the statute text the research quotes (helpers in overlay_test.rego).
package hipaa.state_test

import data.hipaa.state

# ------------------------------------------------------------------ Florida 456.057(7)(a)

# The statute names the permitted recipients: the patient, the legal representative and other
# practitioners/providers involved in the patient's care.
test_allow_fl_general_payment_to_provider_involved_in_care if {
	count(state.reasons) == 0 with input as _req("FL", "general", "payment", "provider")
	count(state.requirements) == 0 with input as _req("FL", "general", "payment", "provider")
}

test_allow_fl_general_payment_to_patient_and_legal_representative if {
	count(state.reasons) == 0 with input as _req("FL", "general", "payment", "patient")
	count(state.reasons) == 0 with input as _req("FL", "general", "payment", "personal_representative")
}

test_deny_fl_general_operations_to_business_associate if {
	reasons := state.reasons with input as _req("FL", "general", "health_care_operations", "business_associate")
	reasons == {{
		"code": "STATE_LAW_CONSENT_REQUIRED",
		"rule": "C4",
		"state": "FL",
		"category": "general",
		"citation": _laws.FL.categories.general.citation,
		"message": concat(" ", [
			"Florida law requires the patient's written authorization",
			"covering health information for this disclosure.",
		]),
	}}
}

# ------------------------------------------------------------------ New Jersey HIV, N.J.S.A. 26:5C-8

# Without consent: qualified personnel in medical education, diagnosis/treatment, research (IRB).
test_allow_nj_hiv_research_and_training_without_consent if {
	count(state.reasons) == 0 with input as _req("NJ", "hiv", "research", "researcher")
	count(state.reasons) == 0 with input as _req("NJ", "hiv", "training", "workforce")
	count(state.reasons) == 0 with input as _req("NJ", "hiv", "treatment", "provider")
}

test_deny_nj_hiv_payment_without_consent if {
	reasons := state.reasons with input as _req("NJ", "hiv", "payment", "health_plan")
	reasons == {{
		"code": "STATE_LAW_CONSENT_REQUIRED",
		"rule": "C4",
		"state": "NJ",
		"category": "hiv",
		"citation": _laws.NJ.categories.hiv.citation,
		"message": concat(" ", [
			"New Jersey law requires the patient's written authorization",
			"covering HIV information for this disclosure.",
		]),
	}}
}
