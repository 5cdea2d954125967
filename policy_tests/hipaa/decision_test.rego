package hipaa_test

import data.hipaa.fixtures_test as fx

test_allow_p1_provider_handoff_whole_decision if {
	d := data.hipaa.decision with input as fx.base
	d == {
		"allow": true,
		"basis": [{
			"code": "TREATMENT",
			"citation": "45 CFR 164.506(c)(1)-(2)",
			"summary": "Disclosure to a health care provider (or EMS) for its treatment of the patient.",
			"rule": "P1",
		}],
		"reasons": [],
		"requirements": [],
		"obligations": [],
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

test_deny_input_empty_object_whole_decision if {
	d := data.hipaa.decision with input as {}
	d.allow == false
	[r.code | some r in d.reasons] == ["INVALID_INPUT"]
	d.basis == []
	d.requirements == []
	d.obligations == []
	d.minimum_necessary.permitted_elements == []
	d.accountable == false
	count(d.reasons[0].details) > 5
}

test_deny_input_not_an_object if {
	d := data.hipaa.decision with input as ["not", "an", "object"]
	d.allow == false
	{"path": "", "message": "the input is not an object"} in d.reasons[0].details
}

test_deny_p0_no_permission_whole_reason if {
	d := data.hipaa.decision with input as fx.request({
		"requester": {"roles": ["privacy_officer"]},
		"purpose": "research",
		"recipient": {"type": "researcher", "id": "univ-0001"},
	})
	d.allow == false
	d.reasons == [{
		"code": "NO_PERMISSION",
		"citation": "45 CFR 164.502(a), 164.508(a)(1)",
		"message": "No permission of the Privacy Rule applies to this disclosure.",
		"rule": "P0",
	}]
	d.requirements == [{
		"code": "OBTAIN_PATIENT_AUTHORIZATION",
		"message": "Obtain the patient's written authorization for this disclosure (45 CFR 164.508).",
		"rule": "P0",
	}]
	d.obligations == []
	d.minimum_necessary == {
		"applies": true,
		"permitted_elements": [],
		"withheld_elements": ["medications", "problem_list"],
	}
}

test_allow_p0_not_raised_when_a_basis_applies if {
	d := data.hipaa.decision with input as fx.base
	not "NO_PERMISSION" in fx.codes(d)
}

test_deny_p0_not_repeated_when_a_permission_rule_explains if {
	d := data.hipaa.decision with input as fx.request({
		"purpose": "family_involvement",
		"recipient": {"type": "family", "involved_in_care": true},
		"patient": {"objects": true},
	})
	fx.codes(d) == {"PATIENT_OBJECTED"}
}

test_deny_p0_part2_consent_alone_is_not_a_hipaa_basis if {
	# A Part 2 consent covers the SUD records but nothing permits the general records under HIPAA.
	d := data.hipaa.decision with input as fx.request({
		"requester": {"roles": ["privacy_officer"]},
		"purpose": "research",
		"recipient": {"type": "researcher", "id": "univ-0001"},
		"data": {"categories": ["general", "substance_use_disorder"], "part2_program": true},
		"authorizations": [fx.authorization("part2_consent", {
			"purposes": ["research"],
			"categories": ["substance_use_disorder"],
		})],
	})
	d.allow == false

	# The consent on file stands for an authorization only for the SUD records (rule P17).
	{"PART2_CONSENT", "AUTHORIZATION_INVALID"} & fx.codes(d) == {"PART2_CONSENT", "AUTHORIZATION_INVALID"}
}

test_allow_every_item_names_its_rule if {
	d := data.hipaa.decision with input as fx.request({
		"requester": {"roles": ["billing_specialist"]},
		"purpose": "payment",
		"recipient": {"type": "health_plan", "id": "plan-0001"},
		"data": {"elements": ["member_id", "clinical_notes"]},
		"context": {"rationale": "claim follow-up"},
	})
	d.allow == true
	every key in ["basis", "obligations"] {
		every item in d[key] {
			is_string(item.rule)
		}
	}
	fx.rules(d) == {"P2", "M"}
	{
		"code": "DOCUMENT_RATIONALE", "message": "Record why this information is needed for payment.",
		"rule": "P2", "citation": "45 CFR 164.506(c)(1), (c)(3)", "rationale": "claim follow-up",
	} in d.obligations
}

test_allow_policy_revision_from_bundle if {
	d := data.hipaa.decision with input as fx.base with data.system.bundles as {
		"hipaa": {"manifest": {"revision": "rev-42"}},
	}
	d.policy_revision == "rev-42"
}

test_deny_reasons_and_requirements_sorted_and_deduplicated if {
	d := data.hipaa.decision with input as fx.request({
		"requester": {"mfa": false},
		"recipient": {"identity_verified": false},
	})
	[r.code | some r in d.reasons] == ["MFA_REQUIRED", "RECIPIENT_NOT_VERIFIED"]
	[r.code | some r in d.requirements] == ["COMPLETE_MFA", "VERIFY_RECIPIENT_IDENTITY"]
}

test_allow_state_overlay_items_are_unioned if {
	notice := {
		"code": "STATE_REDISCLOSURE_NOTICE",
		"rule": "C4",
		"state": "WY",
		"text": "example",
		"citation": "example",
	}
	d := data.hipaa.decision with input as fx.base with data.hipaa.state.obligations as {notice}
	notice in d.obligations
}

test_deny_state_overlay_reason_overrides if {
	reason := {
		"code": "STATE_LAW_CONSENT_REQUIRED",
		"rule": "C4",
		"state": "WY",
		"citation": "example",
		"message": "example",
	}
	d := data.hipaa.decision with input as fx.base with data.hipaa.state.reasons as {reason}
	d.allow == false
	d.reasons == [reason]
	d.obligations == []
}
