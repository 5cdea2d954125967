# The December 2026 audit's corrections, both sides of each (helpers in overlay_test.rego):
# per-category minors rules, discloser types, New York's general release for insurers and the
# redisclosure statement on a disclosure to the patient.
package hipaa.state_test

import data.hipaa.state

_discloser(req, types) := object.union(req, {"requester": {"entity_types": types}})

# ------------------------------------------------------------------ Florida minors, per category

# Fla. Stat. 384.30(2): a minor's STD care is not divulged to a parent.
test_deny_fl_parent_minor_std_records if {
	req := _minor(_req("FL", "std", "individual_access", "personal_representative"))
	reasons := state.reasons with input as req
	reasons == {{
		"code": "STATE_LAW_CONSENT_REQUIRED",
		"rule": "C4",
		"state": "FL",
		"category": "minors",
		"citation": _laws.FL.categories.minors.citation,
		"message": concat(" ", [
			"Florida law does not let a parent see records of minor-consented care",
			"without the minor's authorization.",
		]),
	}}
	state.minor_parental_access == {"FL": false} with input as req
}

# Fla. Stat. 397.501(7): only the minor consents to disclosure of SUD records.
test_deny_fl_parent_minor_sud_records if {
	sud := _minor(_req("FL", "substance_use_disorder", "individual_access", "personal_representative"))
	_reason_keys(state.reasons) == {["FL", "minors"]} with input as sud
	notes := _minor(_req("FL", "sud_counseling_notes", "individual_access", "personal_representative"))
	_reason_keys(state.reasons) == {["FL", "minors"]} with input as notes
}

# A bill for the minor's STD care sent to a parent (a family recipient) is divulging it too.
test_deny_fl_minor_std_bill_to_parent_as_family if {
	req := _minor(_req("FL", "std", "payment", "family"))
	["FL", "minors"] in _reason_keys(state.reasons) with input as req
}

# What Florida lets parents see (1014.04(1)(f)): the minor's other self-consented care.
test_allow_fl_parent_minor_general_records if {
	req := _minor(_req("FL", "general", "individual_access", "personal_representative"))
	count(state.reasons) == 0 with input as req
	state.minor_parental_access == {"FL": true} with input as req
}

test_deny_fl_parent_minor_general_and_std_records if {
	req := object.union(
		_minor(_req("FL", "general", "individual_access", "personal_representative")),
		{"data": {"categories": ["general", "std"]}},
	)
	_reason_keys(state.reasons) == {["FL", "minors"]} with input as req
	state.minor_parental_access == {"FL": false} with input as req
	auth := _auth(["std"], ["individual_access"], ["personal_representative"])
	count(state.reasons) == 0 with input as _with_auth(req, auth)
}

test_allow_fl_parent_minor_std_with_the_minors_authorization if {
	req := _with_auth(
		_minor(_req("FL", "std", "individual_access", "personal_representative")),
		_auth(["std"], ["individual_access"], ["personal_representative"]),
	)
	count(state.reasons) == 0 with input as req
}

# Where the entry does not name family, a family recipient is not a parent for the minors rule.
test_allow_ca_minor_family_recipient_not_a_parent if {
	req := _minor(_req("CA", "general", "payment", "family"))
	count(state.reasons) == 0 with input as req
}

# ------------------------------------------------------------------ Illinois and Washington minors

# 410 ILCS 210/5: the provider may inform a parent of STD care.
test_allow_il_parent_minor_std_records if {
	req := _minor(_req("IL", "std", "individual_access", "personal_representative"))
	count(state.reasons) == 0 with input as req
	state.minor_parental_access == {"IL": true} with input as req
}

# 210/5: not for substance use counseling; 740 ILCS 110/4 for mental health.
test_deny_il_parent_minor_sud_and_mental_health_records if {
	sud := _minor(_req("IL", "substance_use_disorder", "individual_access", "personal_representative"))
	_reason_keys(state.reasons) == {["IL", "minors"]} with input as sud
	mh := _minor(_req("IL", "mental_health", "individual_access", "personal_representative"))
	_reason_keys(state.reasons) == {["IL", "minors"]} with input as mh
}

# RCW 70.02.240(3): a minor's ch. 71.34 mental health information may go to the parent.
test_allow_wa_parent_minor_mental_health_records if {
	req := _minor(_req("WA", "mental_health", "individual_access", "personal_representative"))
	count(state.reasons) == 0 with input as req
	state.minor_parental_access == {"WA": true} with input as req
}

test_deny_wa_parent_minor_std_records if {
	req := _minor(_req("WA", "std", "individual_access", "personal_representative"))
	_reason_keys(state.reasons) == {["WA", "minors"]} with input as req
	state.minor_parental_access == {"WA": false} with input as req
}

# ------------------------------------------------------------------ New York HIV payment

# 10 NYCRR 63.5(a), 63.6(a)(9): for insurers a general release suffices.
test_allow_ny_hiv_payment_to_insurer_under_general_release if {
	req := _with_auth(_req("NY", "hiv", "payment", "health_plan"), _auth(["general"], ["payment"], ["health_plan"]))
	count(state.reasons) == 0 with input as req
	count(state.requirements) == 0 with input as req
}

test_deny_ny_hiv_payment_general_release_for_another_purpose if {
	req := _with_auth(_req("NY", "hiv", "payment", "health_plan"), _auth(["general"], ["treatment"], ["health_plan"]))
	_reason_keys(state.reasons) == {["NY", "hiv"]} with input as req
}

# Only insurers: a billing business associate still needs a release naming HIV.
test_deny_ny_hiv_payment_general_release_to_business_associate if {
	req := _with_auth(
		_req("NY", "hiv", "payment", "business_associate"),
		_auth(["general"], ["payment"], ["business_associate"]),
	)
	_reason_keys(state.reasons) == {["NY", "hiv"]} with input as req
}

# ------------------------------------------------------------------ discloser types

# MHL 33.13 binds OMH/OPWDD facilities.
test_deny_ny_omh_facility_mental_health_treatment if {
	req := _discloser(_req("NY", "mental_health", "treatment", "provider"), ["provider", "omh_facility"])
	reasons := state.reasons with input as req
	reasons == {{
		"code": "STATE_LAW_CONSENT_REQUIRED",
		"rule": "C4",
		"state": "NY",
		"category": "mental_health",
		"citation": _laws.NY.categories.mental_health.citation,
		"message": concat(" ", [
			"New York law requires the patient's written authorization covering mental health information",
			"for this disclosure.",
		]),
	}}
}

test_allow_ny_mental_health_by_a_discloser_that_is_not_an_omh_facility if {
	req := _discloser(_req("NY", "mental_health", "treatment", "provider"), ["provider"])
	count(state.reasons) == 0 with input as req
	count(state.reasons) == 0 with input as _discloser(req, [])
}

# A discloser that does not say keeps the stricter reading, and the message says what would settle it.
test_deny_ny_mental_health_discloser_unknown if {
	reasons := state.reasons with input as _req("NY", "mental_health", "treatment", "provider")
	[r] := [r | some r in reasons]
	r.category == "mental_health"
	r.message == concat(" ", [
		"New York law requires the patient's written authorization covering mental health information",
		"for this disclosure. This rule binds only these disclosers: omh_facility;",
		"requester.entity_types does not say what the discloser is.",
	])
	null_types := _discloser(_req("NY", "mental_health", "treatment", "provider"), null)
	_reason_keys(state.reasons) == {["NY", "mental_health"]} with input as null_types
}

# Fla. Stat. 394.4615: Baker Act facilities.
test_deny_fl_baker_act_facility_mental_health_treatment if {
	req := _discloser(_req("FL", "mental_health", "treatment", "provider"), ["baker_act_facility"])
	_reason_keys(state.reasons) == {["FL", "mental_health"]} with input as req
}

test_allow_fl_mental_health_treatment_by_a_practitioner if {
	req := _discloser(_req("FL", "mental_health", "treatment", "provider"), ["provider"])
	count(state.reasons) == 0 with input as req
}

# Cal. WIC 5328: LPS facilities; CMIA 56.10(c)(4)-(5) permits peer review and accreditation.
test_deny_ca_lps_facility_mental_health_operations if {
	req := _discloser(_req("CA", "mental_health", "health_care_operations", "business_associate"), ["lps_facility"])
	_reason_keys(state.reasons) == {["CA", "mental_health"]} with input as req
}

test_allow_ca_mental_health_operations_outside_lps if {
	req := _discloser(_req("CA", "mental_health", "health_care_operations", "business_associate"), ["provider"])
	count(state.reasons) == 0 with input as req
}

# Cal. Civ. Code 56.17: a health plan's disclosure of genetic test results needs authorization.
test_deny_ca_health_plan_genetic_disclosure if {
	req := _discloser(_req("CA", "genetic", "treatment", "provider"), ["health_plan"])
	_reason_keys(state.reasons) == {["CA", "genetic"]} with input as req
	unknown := _req("CA", "genetic", "payment", "health_plan")
	_reason_keys(state.reasons) == {["CA", "genetic"]} with input as unknown
}

test_allow_ca_provider_genetic_disclosure if {
	req := _discloser(_req("CA", "genetic", "treatment", "provider"), ["provider"])
	count(state.reasons) == 0 with input as req
	auth := _auth(["genetic"], ["treatment"], ["provider"])
	count(state.reasons) == 0 with input as _with_auth(_discloser(req, ["health_plan"]), auth)
}

# ------------------------------------------------------------------ redisclosure statement

_statements(obligations) := {o.state | some o in obligations; o.code == "STATE_REDISCLOSURE_NOTICE"}

# N.Y. Pub. Health Law 2782(5)(a): the statement goes to anyone but the patient (or the person
# lawfully authorized to consent for a patient who lacks capacity).
test_allow_ny_hiv_to_the_patient_without_statement if {
	to_patient := state.obligations with input as _req("NY", "hiv", "individual_access", "patient")
	count(_statements(to_patient)) == 0
	incapacitated := object.union(
		_req("NY", "hiv", "individual_access", "personal_representative"),
		{"patient": {"incapacitated": true}},
	)
	to_representative := state.obligations with input as incapacitated
	count(_statements(to_representative)) == 0
}

test_deny_ny_hiv_to_others_carries_statement if {
	to_provider := state.obligations with input as _req("NY", "hiv", "treatment", "provider")
	_statements(to_provider) == {"NY"}
	capable := _req("NY", "hiv", "individual_access", "personal_representative")
	to_representative := state.obligations with input as capable
	_statements(to_representative) == {"NY"}
}

# A list naming a type the policy does not know is not trusted: the entry applies.
test_deny_ny_mental_health_discloser_type_not_known if {
	req := _discloser(_req("NY", "mental_health", "treatment", "provider"), ["provider", "clinic"])
	_reason_keys(state.reasons) == {["NY", "mental_health"]} with input as req
	_reason_keys(state.reasons) == {["NY", "mental_health"]} with input as _discloser(req, "provider")
}
