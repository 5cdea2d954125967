# Shield laws when the recipient's state is not given: possibly out of state, so fail closed
# (helpers in overlay_test.rego).
package hipaa.state_test

import data.hipaa.state

_no_recipient_state(req) := json.remove(req, ["recipient/state"])

test_deny_ca_reproductive_treatment_recipient_state_missing if {
	req := _no_recipient_state(_req("CA", "reproductive_health", "treatment", "provider"))
	reasons := state.reasons with input as req
	reasons == {{
		"code": "STATE_LAW_CONSENT_REQUIRED",
		"rule": "C4",
		"state": "CA",
		"category": "reproductive_health",
		"citation": _laws.CA.categories.reproductive_health.citation,
		"message": concat(" ", [
			"California law restricts disclosing reproductive health information",
			"to a recipient in another state without authorization;",
			"the recipient's state is not given, so it may be another state.",
		]),
	}}
	requirements := state.requirements with input as req
	requirements == {{
		"code": "OBTAIN_STATE_CONSENT",
		"rule": "C4",
		"state": "CA",
		"category": "reproductive_health",
		"citation": _laws.CA.categories.reproductive_health.citation,
		"message": concat(" ", [
			"Obtain the patient's written authorization covering reproductive health information,",
			"as California law requires.",
		]),
	}}
}

test_deny_ca_reproductive_recipient_state_null if {
	req := _req("CA", "reproductive_health", "treatment", "provider")
	req.recipient.state == null
	_reason_keys(state.reasons) == {["CA", "reproductive_health"]} with input as req
}

test_deny_ca_reproductive_no_recipient_at_all if {
	req := json.remove(_req("CA", "reproductive_health", "medical_emergency", "provider"), ["recipient"])
	_reason_keys(state.reasons) == {["CA", "reproductive_health"]} with input as req
}

test_deny_ny_reproductive_law_enforcement_recipient_state_missing if {
	req := _no_recipient_state(_req("NY", "reproductive_health", "law_enforcement", "law_enforcement"))
	_reason_keys(state.reasons) == {["NY", "reproductive_health"]} with input as req
}

test_allow_ca_reproductive_recipient_state_missing_with_authorization if {
	req := _with_auth(
		_no_recipient_state(_req("CA", "reproductive_health", "treatment", "provider")),
		_auth(["reproductive_health"], ["treatment"], ["provider"]),
	)
	count(state.reasons) == 0 with input as req
	count(state.requirements) == 0 with input as req
}

test_allow_ca_reproductive_payment_recipient_state_missing if {
	req := _no_recipient_state(_req("CA", "reproductive_health", "payment", "health_plan"))
	count(state.reasons) == 0 with input as req
}

test_allow_tx_reproductive_recipient_state_missing_no_shield if {
	req := _no_recipient_state(_req("TX", "reproductive_health", "law_enforcement", "law_enforcement"))
	count(state.reasons) == 0 with input as req
}

test_allow_ma_reproductive_treatment_recipient_state_missing_not_restricted if {
	req := _no_recipient_state(_req("MA", "reproductive_health", "treatment", "provider"))
	count(state.reasons) == 0 with input as req
}
