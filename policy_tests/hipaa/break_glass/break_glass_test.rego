package hipaa.break_glass_test

import data.hipaa.fixtures_test as fx

_rationale := "Unresponsive patient in the ED; the on-call clinician is not in the role catalog."

# The break-glass context, merged into a request.
_bg := {"context": {"break_glass": true, "rationale": _rationale}}

# A treatment hand-off by a requester whose role may not act for treatment (S2 denies).
_outside_role := {"requester": {"roles": ["billing_specialist"]}}

# A medical emergency disclosure of many records without the privacy officer's approval (C6 denies).
_mass_casualty := {
	"requester": {"roles": ["physician"]}, "purpose": "medical_emergency",
	"data": {"record_count": 400},
}

_bg1_obligations := [
	{
		"code": "DOCUMENT_RATIONALE", "rule": "BG1", "rationale": _rationale,
		"citation": "45 CFR 164.312(a)(2)(ii), 164.308(a)(1)(ii)(D)",
		"message": "Record what was shared, with whom and why (the break-glass rationale).",
	},
	{
		"code": "NOTIFY_PRIVACY_OFFICER", "rule": "BG1",
		"citation": "45 CFR 164.312(a)(2)(ii), 164.308(a)(1)(ii)(D)",
		"message": "Notify the privacy officer promptly after the emergency access.",
	},
	{
		"code": "POST_EVENT_REVIEW", "rule": "BG1",
		"citation": "45 CFR 164.312(a)(2)(ii), 164.308(a)(1)(ii)(D)",
		"message": "Review the emergency access after the event and record the outcome.",
	},
]

_reason_codes(d) := {r.code | some r in d.reasons}

# --- S2: the role catalog -------------------------------------------------------------------

test_deny_s2_without_break_glass if {
	d := data.hipaa.decision with input as fx.request(_outside_role)
	d.allow == false
	_reason_codes(d) == {"ROLE_NOT_PERMITTED"}
	not "break_glass" in object.keys(d)
}

test_allow_bg1_overrides_s2_whole_decision if {
	d := data.hipaa.decision with input as fx.request(object.union(_outside_role, _bg))
	d == {
		"allow": true,
		"break_glass": true,
		"basis": [{
			"code": "TREATMENT",
			"citation": "45 CFR 164.506(c)(1)-(2)",
			"summary": "Disclosure to a health care provider (or EMS) for its treatment of the patient.",
			"rule": "P1",
		}],
		"reasons": [],
		"requirements": [],
		"obligations": _bg1_obligations,
		"minimum_necessary": {
			"applies": false,
			"permitted_elements": ["medications", "problem_list"],
			"withheld_elements": [],
		},
		"jurisdictions": ["WY"],
		"accountable": false,
		"policy_revision": "unbundled",
	}
}

test_allow_bg_not_needed_no_flag_no_obligations if {
	# The care coordinator may act for treatment: nothing is overridden, the decision is as without it.
	plain := data.hipaa.decision with input as fx.base
	d := data.hipaa.decision with input as fx.request(_bg)
	d == plain
	not "break_glass" in object.keys(d)
	d.obligations == []
}

# --- C6: bulk approval ----------------------------------------------------------------------

test_deny_c6_without_break_glass if {
	d := data.hipaa.decision with input as fx.request(_mass_casualty)
	d.allow == false
	_reason_codes(d) == {"APPROVAL_REQUIRED"}
}

test_allow_bg1_overrides_c6 if {
	d := data.hipaa.decision with input as fx.request(object.union(_mass_casualty, _bg))
	d.allow == true
	d.break_glass == true
	[b.code | some b in d.basis] == ["TREATMENT"]
	bg1 := {o.code | some o in d.obligations; o.rule == "BG1"}
	bg1 == {"DOCUMENT_RATIONALE", "NOTIFY_PRIVACY_OFFICER", "POST_EVENT_REVIEW"}
}

test_allow_bg1_overrides_s2_and_c6_together if {
	patch := object.union_n([_mass_casualty, {"requester": {"roles": ["researcher"]}}, _bg])
	without := data.hipaa.decision with input as fx.request(object.remove(patch, ["context"]))
	_reason_codes(without) == {"APPROVAL_REQUIRED", "ROLE_NOT_PERMITTED"}
	d := data.hipaa.decision with input as fx.request(patch)
	d.allow == true
	d.break_glass == true
}

# --- never S1, S3, S4 -----------------------------------------------------------------------

test_deny_bg_never_overrides_s1_mfa if {
	d := data.hipaa.decision with input as fx.request(object.union_n([_outside_role, _bg, {"requester": {"mfa": false}}]))
	d.allow == false
	_reason_codes(d) == {"MFA_REQUIRED", "BREAK_GLASS_CANNOT_OVERRIDE"}
	not "break_glass" in object.keys(d)
	d.obligations == []
}

test_deny_bg_never_overrides_s3_revoked_access if {
	revoked := {"requester": {"user_id": "u-revoked-1"}}
	d := data.hipaa.decision with input as fx.request(object.union_n([_outside_role, _bg, revoked]))
	d.allow == false
	_reason_codes(d) == {"ACCESS_REVOKED", "BREAK_GLASS_CANNOT_OVERRIDE"}
}

test_deny_bg_never_overrides_s4_recipient_verification if {
	unverified := {"recipient": {"identity_verified": false}}
	d := data.hipaa.decision with input as fx.request(object.union_n([_outside_role, _bg, unverified]))
	d.allow == false
	_reason_codes(d) == {"RECIPIENT_NOT_VERIFIED", "BREAK_GLASS_CANNOT_OVERRIDE"}
	some r in d.reasons
	r == {
		"code": "BREAK_GLASS_CANNOT_OVERRIDE", "rule": "BG3", "citation": "45 CFR 164.312(a)(2)(ii)",
		"message": concat(" ", [
			"Break-glass overrides only the role catalog (S2) and bulk approval (C6), never MFA (S1),",
			"revoked access (S3), recipient verification (S4) or a legal rule; the other reasons still deny.",
		]),
	}
}

# --- never a legal rule -----------------------------------------------------------------------

test_deny_bg_never_overrides_part2_consent if {
	# SUD records of a Part 2 program for treatment need a Part 2 consent (C2); break-glass is no consent.
	sud := {"data": {"categories": ["substance_use_disorder"], "part2_program": true}}
	d := data.hipaa.decision with input as fx.request(object.union_n([_outside_role, _bg, sud]))
	d.allow == false
	_reason_codes(d) == {"PART2_CONSENT_REQUIRED", "BREAK_GLASS_CANNOT_OVERRIDE"}
	"OBTAIN_PART2_CONSENT" in {r.code | some r in d.requirements}
}

test_deny_bg_never_overrides_psychotherapy_notes if {
	d := data.hipaa.decision with input as fx.request(object.union(
		_bg,
		{"data": {"categories": ["psychotherapy_notes"]}},
	))
	d.allow == false
	"BREAK_GLASS_CANNOT_OVERRIDE" in _reason_codes(d)
	count(_reason_codes(d)) > 1
}

test_deny_bg_never_overrides_the_state_overlay if {
	# California: abortion-related information to an out-of-state provider (Civ. Code 56.110).
	d := data.hipaa.decision with input as fx.request(object.union(_bg, {
		"patient": {"state": "CA"},
		"recipient": {"state": "TX"},
		"data": {"categories": ["reproductive_health"]},
	}))
	d.allow == false
	"BREAK_GLASS_CANNOT_OVERRIDE" in _reason_codes(d)
	some r in d.reasons
	r.code != "BREAK_GLASS_CANNOT_OVERRIDE"
	r.state == "CA"
}

test_deny_bg_no_permission_to_recipient if {
	# Treatment to a community organization has no P1 basis: break-glass creates none.
	d := data.hipaa.decision with input as fx.request(object.union(_bg, {"recipient": {"type": "community_organization"}}))
	d.allow == false
	"BREAK_GLASS_CANNOT_OVERRIDE" in _reason_codes(d)
	count(d.basis) == 0
}

# --- purposes ---------------------------------------------------------------------------------

test_deny_bg2_not_honoured_for_payment if {
	d := data.hipaa.decision with input as fx.request(object.union(_bg, {
		"requester": {"roles": ["researcher"]}, "purpose": "payment", "recipient": {"type": "health_plan"},
	}))
	d.allow == false
	_reason_codes(d) == {"ROLE_NOT_PERMITTED", "BREAK_GLASS_NOT_HONOURED"}
	some r in d.reasons
	r == {
		"code": "BREAK_GLASS_NOT_HONOURED", "rule": "BG2", "citation": "45 CFR 164.312(a)(2)(ii)",
		"message": "Break-glass is honoured only for treatment and medical_emergency; it did not override anything.",
		"purpose": "payment",
	}
}

test_deny_bg2_does_not_override_c6_for_operations if {
	d := data.hipaa.decision with input as fx.request(object.union(_bg, {
		"purpose": "health_care_operations", "recipient": {"type": "health_plan"},
		"data": {"record_count": 400},
	}))
	_reason_codes(d) == {"APPROVAL_REQUIRED", "BREAK_GLASS_NOT_HONOURED"}
}

test_allow_bg_other_purpose_allowed_anyway_unflagged if {
	patch := {"requester": {"roles": ["billing_specialist"]}, "purpose": "payment", "recipient": {"type": "health_plan"}}

	# The same rationale without break-glass (P2's DOCUMENT_RATIONALE carries it).
	d := data.hipaa.decision with input as fx.request(object.union(patch, _bg))
	plain := data.hipaa.decision with input as fx.request(object.union(patch, {"context": {"rationale": _rationale}}))
	plain.allow == true
	d == plain
}

test_allow_bg1_medical_emergency_outside_role if {
	d := data.hipaa.decision with input as fx.request(object.union(_bg, {
		"requester": {"roles": ["billing_specialist"]}, "purpose": "medical_emergency",
		"recipient": {"type": "first_responder"},
	}))
	d.allow == true
	d.break_glass == true
}

# --- input ------------------------------------------------------------------------------------

test_deny_bg_without_rationale_invalid if {
	d := data.hipaa.decision with input as fx.request(object.union(_outside_role, {"context": {"break_glass": true}}))
	d.allow == false
	[r.code | some r in d.reasons] == ["INVALID_INPUT"]
	d.reasons[0].details == [{
		"path": "/context/rationale",
		"message": "a non-blank rationale is required when context.break_glass is true",
	}]
}

test_deny_bg_blank_rationale_invalid if {
	d := data.hipaa.decision with input as fx.request({"context": {"break_glass": true, "rationale": "  \t"}})
	[r.code | some r in d.reasons] == ["INVALID_INPUT"]
}

test_deny_bg_rationale_missing_from_context_invalid if {
	d := data.hipaa.decision with input as fx.request({"context": object.remove(
		object.union(fx.base.context, {"break_glass": true}),
		["rationale"],
	)})
	[r.code | some r in d.reasons] == ["INVALID_INPUT"]
}

test_deny_bg_not_a_boolean_invalid if {
	d := data.hipaa.decision with input as fx.request({"context": {"break_glass": "yes", "rationale": _rationale}})
	d.reasons[0].code == "INVALID_INPUT"
	{"path": "/context/break_glass", "message": "a boolean is required"} in d.reasons[0].details
}

test_deny_bg_false_changes_nothing if {
	plain := data.hipaa.decision with input as fx.request(_outside_role)
	d := data.hipaa.decision with input as fx.request(object.union(_outside_role, {"context": {"break_glass": false}}))
	d == plain
}
