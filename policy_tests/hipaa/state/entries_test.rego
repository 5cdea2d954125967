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

# ------------------------------------------------------------------ California shield, Civ. Code 56.110

# 56.110 bars EHR/HIE disclosure to any out-of-state individual or entity except payment,
# accreditation/peer/utilization review and research: no treatment or emergency exception, and
# operations cannot be told apart from peer review in the input (the stricter reading).
test_deny_ca_reproductive_operations_out_of_state if {
	req := _out_of_state(_req("CA", "reproductive_health", "health_care_operations", "provider"), "NV")
	reasons := state.reasons with input as req
	reasons == {{
		"code": "STATE_LAW_CONSENT_REQUIRED",
		"rule": "C4",
		"state": "CA",
		"category": "reproductive_health",
		"citation": _laws.CA.categories.reproductive_health.citation,
		"message": concat(" ", [
			"California law restricts disclosing reproductive health information",
			"to a recipient in another state without authorization.",
		]),
	}}
}

test_deny_ca_reproductive_medical_emergency_out_of_state if {
	req := _out_of_state(_req("CA", "reproductive_health", "medical_emergency", "provider"), "AZ")
	_reason_keys(state.reasons) == {["CA", "reproductive_health"]} with input as req
}

test_allow_ca_reproductive_operations_and_emergency_in_state if {
	req := _out_of_state(_req("CA", "reproductive_health", "health_care_operations", "provider"), "CA")
	count(state.reasons) == 0 with input as req
	count(state.reasons) == 0 with input as object.union(req, {"purpose": "medical_emergency"})
}

test_allow_ca_reproductive_research_and_own_access_out_of_state if {
	research := _out_of_state(_req("CA", "reproductive_health", "research", "researcher"), "OR")
	count(state.reasons) == 0 with input as research
	access := _out_of_state(_req("CA", "reproductive_health", "individual_access", "patient"), "OR")
	count(state.reasons) == 0 with input as access
}
