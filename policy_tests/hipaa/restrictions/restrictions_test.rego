package hipaa.restrictions_test

import data.hipaa.fixtures_test as fx

_restriction(reason, categories) := {
	"recipient_types": ["health_plan", "provider"], "purposes": [
		"payment",
		"treatment",
		"medical_emergency",
		"required_by_law",
	],
	"categories": categories, "reason": reason,
}

_req(patch, restriction) := fx.request(object.union(patch, {"patient": {"restrictions": [restriction]}}))

_payment := {"requester": {"roles": ["billing_specialist"]}, "purpose": "payment", "recipient": {"type": "health_plan"}}

test_deny_c5_paid_in_full if {
	d := data.hipaa.decision with input as _req(_payment, _restriction("paid_in_full", ["*"]))
	d.allow == false
	some r in d.reasons
	r.code == "PATIENT_RESTRICTION"
	r.restriction_reasons == ["paid_in_full"]
}

test_deny_c5_agreed_restriction_on_category if {
	d := data.hipaa.decision with input as _req({}, _restriction("agreed", ["general"]))
	"PATIENT_RESTRICTION" in fx.codes(d)
}

test_allow_c5_other_category if {
	d := data.hipaa.decision with input as _req(_payment, _restriction("paid_in_full", ["hiv"]))
	d.allow == true
}

test_allow_c5_agreed_yields_to_emergency if {
	d := data.hipaa.decision with input as _req({"purpose": "medical_emergency"}, _restriction("agreed", ["*"]))
	d.allow == true
}

test_allow_c5_required_by_law if {
	d := data.hipaa.decision with input as _req(
		{
			"requester": {"roles": ["privacy_officer"]},
			"purpose": "required_by_law",
			"recipient": {"type": "health_plan"},
		},
		_restriction("paid_in_full", ["*"]),
	)
	d.allow == true
}

test_deny_c5_paid_in_full_does_not_yield_to_emergency if {
	d := data.hipaa.decision with input as _req({"purpose": "medical_emergency"}, _restriction("paid_in_full", ["*"]))
	"PATIENT_RESTRICTION" in fx.codes(d)
}

# docs/rules.md C5: a matching restriction binds unless the purpose is required_by_law; the reason only
# adds exceptions, so a restriction without one (null or missing) is not ignored.
_no_reason := object.remove(_restriction(null, ["*"]), ["reason"])

test_deny_c5_reason_null if {
	d := data.hipaa.decision with input as _req(_payment, _restriction(null, ["*"]))
	d.allow == false
	d.reasons == [{
		"code": "PATIENT_RESTRICTION", "rule": "C5",
		"citation": "45 CFR 164.522(a)(1)(iii), (a)(1)(v), (a)(1)(vi)",
		"message": "A restriction the patient requested applies to this recipient, purpose and information.",
		"restriction_reasons": [null],
	}]
}

test_deny_c5_reason_missing if {
	d := data.hipaa.decision with input as _req(_payment, _no_reason)
	d.allow == false
	[[r.code, r.restriction_reasons] | some r in d.reasons] == [["PATIENT_RESTRICTION", [null]]]
}

test_deny_c5_reason_missing_does_not_yield_to_emergency if {
	d := data.hipaa.decision with input as _req({"purpose": "medical_emergency"}, _no_reason)
	"PATIENT_RESTRICTION" in fx.codes(d)
}

test_allow_c5_reason_missing_required_by_law if {
	d := data.hipaa.decision with input as _req(
		{
			"requester": {"roles": ["privacy_officer"]},
			"purpose": "required_by_law",
			"recipient": {"type": "health_plan"},
		},
		_no_reason,
	)
	d.allow == true
}

# v1.2: no restriction binds individual access, HHS or a 164.512 disclosure (164.522(a)(1)(v)).
test_allow_c5_restriction_never_binds_164_512 if {
	every case in [
		["public_health", "public_health_authority", "paid_in_full"],
		["required_by_law", "other", null],
		["law_enforcement", "law_enforcement", "agreed"],
		["individual_access", "patient", "paid_in_full"],
	] {
		d := data.hipaa.decision with input as _req(
			{
				"requester": {"roles": ["privacy_officer"]}, "purpose": case[0], "recipient": {"type": case[1]},
				"context": {"legal_process": "court_order"},
			},
			{"recipient_types": [case[1]], "purposes": [case[0]], "categories": ["*"], "reason": case[2]},
		)
		not "PATIENT_RESTRICTION" in fx.codes(d)
	}
}

test_deny_c5_restriction_binds_family_notification if {
	d := data.hipaa.decision with input as _req(
		{
			"requester": {"roles": ["nurse"]},
			"purpose": "family_notification",
			"recipient": {"type": "family"},
			"patient": {"objects": false},
		},
		{"recipient_types": ["family"], "purposes": ["family_notification"], "categories": ["*"], "reason": "agreed"},
	)
	d.allow == false
	"PATIENT_RESTRICTION" in fx.codes(d)
}
