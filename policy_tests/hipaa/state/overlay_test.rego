package hipaa.state_test

import data.hipaa.state

_laws := data.config.state_laws

# A disclosure request as the shim builds it (every optional field filled).
_base := {
	"now": "2026-11-28T09:14:03Z",
	"request_id": "t-state",
	"requester": {
		"user_id": "u-102", "roles": ["care_coordinator"], "mfa": true,
		"organization_id": "org-test", "state": null,
	},
	"patient": {
		"id": "p-test-0001", "state": "CA", "age": 54, "present": true, "incapacitated": false,
		"agrees": null, "objects": null, "deceased": false, "minor_consented_care": false, "restrictions": [],
	},
	"recipient": {
		"type": "provider", "id": "npi-0000000001", "name": "Test Clinic",
		"identity_verified": true, "involved_in_care": false, "state": null,
	},
	"purpose": "treatment",
	"data": {"categories": ["general"], "elements": [], "record_count": 1, "form": "identified", "part2_program": false},
	"authorizations": [],
	"context": {},
}

# _req(patient state, category, purpose, recipient type)
_req(st, category, purpose, rtype) := object.union(_base, {
	"patient": {"state": st},
	"recipient": {"type": rtype},
	"purpose": purpose,
	"data": {"categories": [category]},
})

_auth(categories, purposes, rtypes) := {
	"id": "auth-test-1", "type": "hipaa_authorization", "signed": true, "signed_on": "2026-01-10",
	"expires_on": "2027-01-10", "revoked": false, "recipients": [], "recipient_types": rtypes,
	"purposes": purposes, "categories": categories,
}

_with_auth(req, auth) := object.union(req, {"authorizations": [auth]})

_codes(items) := {i.code | some i in items}

_reason_keys(reasons) := {[r.state, r.category] | some r in reasons}

# ------------------------------------------------------------------ consent (CA HIV)

test_deny_ca_hiv_payment_to_health_plan_without_authorization if {
	reasons := state.reasons with input as _req("CA", "hiv", "payment", "health_plan")
	reasons == {{
		"code": "STATE_LAW_CONSENT_REQUIRED",
		"rule": "C4",
		"state": "CA",
		"category": "hiv",
		"citation": _laws.CA.categories.hiv.citation,
		"message": concat(" ", [
			"California law requires the patient's written authorization",
			"covering HIV information for this disclosure.",
		]),
	}}
	reqs := state.requirements with input as _req("CA", "hiv", "payment", "health_plan")
	[r] := [r | some r in reqs]
	r.code == "OBTAIN_STATE_CONSENT"
	r.rule == "C4"
	r.state == "CA"
	r.citation == _laws.CA.categories.hiv.citation
}

test_allow_ca_hiv_payment_with_authorization_covering_hiv if {
	auth := _auth(["general", "hiv"], ["payment"], ["health_plan"])
	req := _with_auth(_req("CA", "hiv", "payment", "health_plan"), auth)
	count(state.reasons) == 0 with input as req
	count(state.requirements) == 0 with input as req
}

test_deny_ca_hiv_authorization_without_the_category if {
	req := _with_auth(_req("CA", "hiv", "payment", "health_plan"), _auth(["general"], ["payment"], ["health_plan"]))
	_reason_keys(state.reasons) == {["CA", "hiv"]} with input as req
}

test_deny_ca_hiv_authorization_for_another_purpose if {
	req := _with_auth(_req("CA", "hiv", "payment", "health_plan"), _auth(["hiv"], ["treatment"], ["health_plan"]))
	_reason_keys(state.reasons) == {["CA", "hiv"]} with input as req
}

test_deny_ca_hiv_expired_authorization if {
	auth := object.union(_auth(["hiv"], ["payment"], ["health_plan"]), {"expires_on": "2026-06-30"})
	req := _with_auth(_req("CA", "hiv", "payment", "health_plan"), auth)
	_reason_keys(state.reasons) == {["CA", "hiv"]} with input as req
}

test_deny_ca_hiv_revoked_authorization if {
	auth := object.union(_auth(["hiv"], ["payment"], ["health_plan"]), {"revoked": true})
	req := _with_auth(_req("CA", "hiv", "payment", "health_plan"), auth)
	_reason_keys(state.reasons) == {["CA", "hiv"]} with input as req
}

test_allow_ca_hiv_treatment_to_provider if {
	count(state.reasons) == 0 with input as _req("CA", "hiv", "treatment", "provider")
}

test_allow_ca_std_payment_hipaa_aligned if {
	count(state.reasons) == 0 with input as _req("CA", "std", "payment", "health_plan")
	count(state.obligations) == 0 with input as _req("CA", "std", "payment", "health_plan")
}

test_allow_ca_general_payment_hipaa_aligned if {
	count(state.reasons) == 0 with input as _req("CA", "general", "payment", "health_plan")
}

test_deny_ca_sud_payment if {
	inp1 := _req("CA", "substance_use_disorder", "payment", "health_plan")
	_reason_keys(state.reasons) == {["CA", "substance_use_disorder"]} with input as inp1
}

test_deny_ca_hiv_sud_counseling_notes_maps_to_sud if {
	inp2 := _req("CA", "sud_counseling_notes", "payment", "health_plan")
	_reason_keys(state.reasons) == {["CA", "substance_use_disorder"]} with input as inp2
}

# ------------------------------------------------------------------ New York

test_allow_ny_hiv_treatment_with_redisclosure_notice if {
	req := _req("NY", "hiv", "treatment", "provider")
	count(state.reasons) == 0 with input as req
	state.obligations == {{
		"code": "STATE_REDISCLOSURE_NOTICE",
		"rule": "C4",
		"state": "NY",
		"category": "hiv",
		"text": _laws.NY.categories.hiv.redisclosure_notice,
		"citation": _laws.NY.categories.hiv.citation,
		"message": "Send the statutory redisclosure statement with the disclosure.",
	}} with input as req
	notice := _laws.NY.categories.hiv.redisclosure_notice
	startswith(notice, "This information has been disclosed to you from confidential records")
}

test_deny_ny_hiv_payment if {
	_reason_keys(state.reasons) == {["NY", "hiv"]} with input as _req("NY", "hiv", "payment", "health_plan")
}

test_deny_ny_genetic_treatment if {
	_reason_keys(state.reasons) == {["NY", "genetic"]} with input as _req("NY", "genetic", "treatment", "provider")
}

test_allow_ny_std_payment_hipaa_aligned if {
	count(state.reasons) == 0 with input as _req("NY", "std", "payment", "health_plan")
}

# ------------------------------------------------------------------ Texas

test_deny_tx_hiv_payment if {
	_reason_keys(state.reasons) == {["TX", "hiv"]} with input as _req("TX", "hiv", "payment", "health_plan")
}

test_allow_tx_mental_health_payment if {
	count(state.reasons) == 0 with input as _req("TX", "mental_health", "payment", "health_plan")
}

test_deny_tx_mental_health_operations_outside if {
	inp3 := _req("TX", "mental_health", "health_care_operations", "business_associate")
	_reason_keys(state.reasons) == {["TX", "mental_health"]} with input as inp3
}

test_allow_tx_mental_health_operations_by_workforce if {
	count(state.reasons) == 0 with input as _req("TX", "mental_health", "health_care_operations", "workforce")
}

test_allow_tx_genetic_payment_hipaa_aligned if {
	count(state.reasons) == 0 with input as _req("TX", "genetic", "payment", "health_plan")
}

# ------------------------------------------------------------------ Florida (general practitioner-records rule)

test_deny_fl_general_payment if {
	_reason_keys(state.reasons) == {["FL", "general"]} with input as _req("FL", "general", "payment", "health_plan")
}

test_allow_fl_general_treatment if {
	count(state.reasons) == 0 with input as _req("FL", "general", "treatment", "provider")
}

test_deny_fl_hiv_payment_general_and_hiv if {
	inp4 := _req("FL", "hiv", "payment", "health_plan")
	_reason_keys(state.reasons) == {["FL", "general"], ["FL", "hiv"]} with input as inp4
}

test_allow_fl_hiv_payment_with_authorization if {
	req := _with_auth(_req("FL", "hiv", "payment", "health_plan"), _auth(["hiv"], ["payment"], ["health_plan"]))
	count(state.reasons) == 0 with input as req
}

test_deny_fl_genetic_treatment if {
	_reason_keys(state.reasons) == {["FL", "genetic"]} with input as _req("FL", "genetic", "treatment", "provider")
}

# ------------------------------------------------------------------ Illinois

test_allow_il_hiv_payment_tpo_carve_out if {
	count(state.reasons) == 0 with input as _req("IL", "hiv", "payment", "health_plan")
}

test_deny_il_hiv_family_involvement if {
	_reason_keys(state.reasons) == {["IL", "hiv"]} with input as _req("IL", "hiv", "family_involvement", "family")
}

test_deny_il_mental_health_payment if {
	inp5 := _req("IL", "mental_health", "payment", "health_plan")
	_reason_keys(state.reasons) == {["IL", "mental_health"]} with input as inp5
}

test_deny_il_psychotherapy_notes_maps_to_mental_health if {
	inp6 := _req("IL", "psychotherapy_notes", "payment", "health_plan")
	_reason_keys(state.reasons) == {["IL", "mental_health"]} with input as inp6
}

test_allow_il_std_payment_hipaa_aligned if {
	count(state.reasons) == 0 with input as _req("IL", "std", "payment", "health_plan")
}

# ------------------------------------------------------------------ Washington

test_deny_wa_std_payment_with_notice if {
	req := _req("WA", "std", "payment", "health_plan")
	_reason_keys(state.reasons) == {["WA", "std"]} with input as req
	obligations := state.obligations with input as req
	{[o.state, o.text] | some o in obligations} == {["WA", _laws.WA.categories.std.redisclosure_notice]}
	startswith(
		_laws.WA.categories.std.redisclosure_notice,
		"This information has been disclosed to you from records whose confidentiality is protected by state law.",
	)
}

test_allow_wa_std_treatment if {
	count(state.reasons) == 0 with input as _req("WA", "std", "treatment", "provider")
}

test_allow_wa_mental_health_payment_hipaa_aligned if {
	count(state.reasons) == 0 with input as _req("WA", "mental_health", "payment", "health_plan")
}

# ------------------------------------------------------------------ Massachusetts

test_deny_ma_hiv_treatment_no_tpo_exception if {
	_reason_keys(state.reasons) == {["MA", "hiv"]} with input as _req("MA", "hiv", "treatment", "provider")
}

test_allow_ma_hiv_treatment_with_authorization if {
	req := _with_auth(_req("MA", "hiv", "treatment", "provider"), _auth(["hiv"], ["treatment"], ["provider"]))
	count(state.reasons) == 0 with input as req
}

test_allow_ma_hiv_internal_operations_by_workforce if {
	count(state.reasons) == 0 with input as _req("MA", "hiv", "health_care_operations", "workforce")
}

test_deny_ma_genetic_payment if {
	_reason_keys(state.reasons) == {["MA", "genetic"]} with input as _req("MA", "genetic", "payment", "health_plan")
}

test_allow_ma_reproductive_treatment_in_state if {
	count(state.reasons) == 0 with input as _req("MA", "reproductive_health", "treatment", "provider")
}

# ------------------------------------------------------------------ Pennsylvania

test_allow_pa_hiv_payment_with_notice if {
	req := _req("PA", "hiv", "payment", "health_plan")
	count(state.reasons) == 0 with input as req
	{o.state | some o in state.obligations} == {"PA"} with input as req
}

test_deny_pa_hiv_marketing if {
	_reason_keys(state.reasons) == {["PA", "hiv"]} with input as _req("PA", "hiv", "marketing", "other")
}

test_allow_pa_mental_health_payment_hipaa_aligned if {
	count(state.reasons) == 0 with input as _req("PA", "mental_health", "payment", "health_plan")
}

# ------------------------------------------------------------------ secondary states

test_deny_mn_general_treatment if {
	_reason_keys(state.reasons) == {["MN", "general"]} with input as _req("MN", "general", "treatment", "provider")
}

test_allow_mn_medical_emergency if {
	count(state.reasons) == 0 with input as _req("MN", "general", "medical_emergency", "provider")
}

test_allow_co_hiv_not_researched if {
	_laws.CO.categories.hiv.consent_required_for == null
	count(state.reasons) == 0 with input as _req("CO", "hiv", "payment", "health_plan")
}

test_deny_nj_reproductive_judicial_proceeding if {
	inp8 := _req("NJ", "reproductive_health", "judicial_proceeding", "court")
	_reason_keys(state.reasons) == {["NJ", "reproductive_health"]} with input as inp8
}

# ------------------------------------------------------------------ jurisdictions

test_allow_jurisdictions_patient_and_requester if {
	req := object.union(_req("TX", "general", "treatment", "provider"), {"requester": {"state": "MA"}})
	state.jurisdictions == {"TX", "MA"} with input as req
}

test_deny_requester_state_applies if {
	req := object.union(_req("TX", "hiv", "treatment", "provider"), {"requester": {"state": "MA"}})
	_reason_keys(state.reasons) == {["MA", "hiv"]} with input as req
}

test_allow_unknown_state_adds_nothing if {
	req := _req("OR", "hiv", "payment", "health_plan")
	count(state.reasons) == 0 with input as req
	state.jurisdictions == {"OR"} with input as req
}

test_allow_deidentified_outside_the_overlay if {
	req := object.union(_req("MA", "hiv", "research", "researcher"), {"data": {"form": "deidentified"}})
	count(state.reasons) == 0 with input as req
	count(state.obligations) == 0 with input as req
}

test_deny_missing_form_still_applies_overlay if {
	req := json.remove(_req("MA", "hiv", "treatment", "provider"), ["data/form"])
	_reason_keys(state.reasons) == {["MA", "hiv"]} with input as req
}

test_allow_no_bases if {
	count(state.bases) == 0 with input as _req("CA", "hiv", "treatment", "provider")
}

# ------------------------------------------------------------------ shield laws

_out_of_state(req, st) := object.union(req, {"recipient": {"state": st}})

test_deny_ca_reproductive_treatment_out_of_state if {
	req := _out_of_state(_req("CA", "reproductive_health", "treatment", "provider"), "TX")
	reasons := state.reasons with input as req
	_reason_keys(reasons) == {["CA", "reproductive_health"]}
	[r] := [r | some r in reasons]
	r.message == concat(" ", [
		"California law restricts disclosing reproductive health information",
		"to a recipient in another state without authorization.",
	])
}

test_allow_ca_reproductive_treatment_in_state if {
	inp9 := _out_of_state(_req("CA", "reproductive_health", "treatment", "provider"), "CA")
	count(state.reasons) == 0 with input as inp9
}

test_allow_ca_reproductive_payment_out_of_state if {
	inp10 := _out_of_state(_req("CA", "reproductive_health", "payment", "health_plan"), "TX")
	count(state.reasons) == 0 with input as inp10
}

test_allow_ca_reproductive_out_of_state_with_authorization if {
	req := _with_auth(
		_out_of_state(_req("CA", "reproductive_health", "treatment", "provider"), "TX"),
		_auth(["reproductive_health"], ["treatment"], ["provider"]),
	)
	count(state.reasons) == 0 with input as req
}

test_deny_ny_reproductive_law_enforcement_out_of_state if {
	req := _out_of_state(_req("NY", "reproductive_health", "law_enforcement", "law_enforcement"), "TX")
	_reason_keys(state.reasons) == {["NY", "reproductive_health"]} with input as req
}

test_allow_tx_reproductive_out_of_state_no_shield if {
	inp11 := _out_of_state(_req("TX", "reproductive_health", "law_enforcement", "law_enforcement"), "CA")
	count(state.reasons) == 0 with input as inp11
}

# ------------------------------------------------------------------ minors

_minor(req) := object.union(req, {"patient": {"age": 15, "minor_consented_care": true}})

test_deny_ca_minor_consented_care_to_parent if {
	reasons := state.reasons with input as _minor(_req("CA", "general", "individual_access", "personal_representative"))
	[r] := [r | some r in reasons]
	r.code == "STATE_LAW_CONSENT_REQUIRED"
	r.category == "minors"
	r.state == "CA"
	r.citation == _laws.CA.categories.minors.citation
	r.message == concat(" ", [
		"California law does not let a parent see records of minor-consented care",
		"without the minor's authorization.",
	])
}

test_deny_ny_minor_std_billing_to_parent if {
	req := _minor(_req("NY", "std", "payment", "family"))
	_reason_keys(state.reasons) == {["NY", "minors"]} with input as req
}

test_allow_ca_minor_with_minors_authorization if {
	req := _with_auth(
		_minor(_req("CA", "general", "individual_access", "personal_representative")),
		_auth(["general"], ["individual_access"], ["personal_representative"]),
	)
	count(state.reasons) == 0 with input as req
}

test_allow_tx_minor_parental_access if {
	inp12 := _minor(_req("TX", "general", "individual_access", "personal_representative"))
	count(state.reasons) == 0 with input as inp12
	state.minor_parental_access == {"TX": true} with input as _req("TX", "general", "treatment", "provider")
}

test_allow_adult_not_minor_rule if {
	req := object.union(
		_req("CA", "general", "individual_access", "personal_representative"),
		{"patient": {"age": 18, "minor_consented_care": true}},
	)
	count(state.reasons) == 0 with input as req
}

test_deny_minor_age_unknown_is_protected if {
	req := object.union(
		_req("CA", "general", "individual_access", "personal_representative"),
		{"patient": {"age": null, "minor_consented_care": true}},
	)
	_reason_keys(state.reasons) == {["CA", "minors"]} with input as req
}

test_allow_minor_medical_emergency if {
	count(state.reasons) == 0 with input as _minor(_req("CA", "general", "medical_emergency", "family"))
}

test_allow_minor_parental_access_reported if {
	state.minor_parental_access == {"CA": false} with input as _req("CA", "general", "treatment", "provider")
}

# ------------------------------------------------------------------ every item carries rule, state, citation

test_deny_items_carry_rule_state_citation if {
	req := object.union(_req("TX", "hiv", "payment", "health_plan"), {"requester": {"state": "NY"}})
	reasons := state.reasons with input as req
	count(reasons) == 2
	every r in reasons {
		r.rule == "C4"
		r.citation == _laws[r.state].categories.hiv.citation
	}
	reqs := state.requirements with input as req
	count(reqs) == 2
	every r in reqs {
		r.rule == "C4"
		r.code == "OBTAIN_STATE_CONSENT"
		r.state in {"TX", "NY"}
	}
	_codes(state.obligations) == {"STATE_REDISCLOSURE_NOTICE"} with input as req
}

# ------------------------------------------------------------------ the law document

test_allow_law_for_known_state if {
	law := state.law with input as {"state": "WA"}
	law.state == "WA"
	law.name == "Washington"
	law.categories.std == _laws.WA.categories.std
}

test_deny_law_for_unknown_state if {
	not state.law with input as {"state": "ZZ"}
	not state.law with input as {"state": 7}
}
