package hipaa.permissions_test

import data.hipaa.fixtures_test as fx

# --- P9 serious threat

test_allow_p9_serious_threat if {
	d := data.hipaa.decision with input as _req({
		"purpose": "serious_threat",
		"recipient": {"type": "at_risk_person"},
		"context": {"serious_imminent_threat": true},
	})
	d.allow == true
	{"SERIOUS_THREAT", "NOTIFY_PRIVACY_OFFICER", "POST_EVENT_REVIEW", "ACCOUNT_FOR_DISCLOSURE"} & fx.codes(d) == {
		"SERIOUS_THREAT", "NOTIFY_PRIVACY_OFFICER", "POST_EVENT_REVIEW", "ACCOUNT_FOR_DISCLOSURE",
	}
}

test_deny_p9_without_threat if {
	d := data.hipaa.decision with input as _req({"purpose": "serious_threat", "recipient": {"type": "at_risk_person"}})
	fx.codes(d) == {"NO_PERMISSION"}
	fx.rules(d) == {"P9"}
}

# --- P10 - P16, P23 (164.512 and HHS)

test_allow_p10_required_by_law if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "required_by_law",
		"recipient": {"type": "other"},
	})
	d.allow == true
	d.minimum_necessary.applies == false
}

test_deny_p10_role_may_not_act if {
	d := data.hipaa.decision with input as _req({"purpose": "required_by_law", "recipient": {"type": "other"}})
	d.allow == false
	"ROLE_NOT_PERMITTED" in fx.codes(d)
}

test_allow_p11_public_health if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["nurse"]},
		"purpose": "public_health",
		"recipient": {"type": "public_health_authority"},
	})
	d.allow == true
	"PUBLIC_HEALTH" in fx.codes(d)
}

test_deny_p11_public_health_to_employer if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["nurse"]},
		"purpose": "public_health",
		"recipient": {"type": "other"},
	})
	d.allow == false
}

test_allow_p12_health_oversight if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "health_oversight",
		"recipient": {"type": "health_oversight_agency"},
	})
	"HEALTH_OVERSIGHT" in fx.codes(d)
	d.allow == true
}

test_deny_p12_oversight_to_other if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "health_oversight",
		"recipient": {"type": "other"},
	})
	d.allow == false
}

test_allow_p13_court_order if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "judicial_proceeding",
		"recipient": {"type": "court"},
		"context": {"court_order": true},
	})
	d.allow == true
}

test_allow_p13_subpoena_with_assurances_to_counsel if {
	d := data.hipaa.decision with input as _req({
		"requester": _po, "purpose": "judicial_proceeding", "recipient": {"type": "other"},
		"context": {"subpoena": true, "satisfactory_assurances": true},
	})
	"JUDICIAL_PROCEEDING" in fx.codes(d)
}

test_deny_p13_subpoena_alone if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "judicial_proceeding",
		"recipient": {"type": "court"},
		"context": {"subpoena": true},
	})
	fx.codes(d) == {"NO_PERMISSION", "OBTAIN_COURT_ORDER"}
	fx.rules(d) == {"P13"}
}

test_deny_p14_law_enforcement_bare_subpoena if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "law_enforcement",
		"recipient": {"type": "law_enforcement"},
		"context": {"subpoena": true},
	})
	d.allow == false
	fx.codes(d) == {"NO_PERMISSION", "OBTAIN_COURT_ORDER"}
	fx.rules(d) == {"P14"}
}

test_allow_p14_law_enforcement_court_order if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "law_enforcement",
		"recipient": {"type": "law_enforcement"},
		"context": {"court_order": true},
	})
	"LAW_ENFORCEMENT" in fx.codes(d)
}

test_deny_p14_no_process if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "law_enforcement",
		"recipient": {"type": "law_enforcement"},
	})
	fx.codes(d) == {"NO_PERMISSION", "OBTAIN_COURT_ORDER"}
	fx.rules(d) == {"P14"}
}

test_allow_p15_coroner if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "coroner_medical_examiner",
		"recipient": {"type": "coroner_medical_examiner"},
	})
	"CORONER_MEDICAL_EXAMINER" in fx.codes(d)
}

test_deny_p15_coroner_purpose_to_family if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "coroner_medical_examiner",
		"recipient": {"type": "family"},
	})
	d.allow == false
}

test_allow_p16_hhs if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "hhs_compliance",
		"recipient": {"type": "hhs"},
	})
	d.allow == true
	d.minimum_necessary.applies == false
}

test_deny_p16_hhs_purpose_to_other if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "hhs_compliance",
		"recipient": {"type": "other"},
	})
	d.allow == false
}

test_allow_p23_research_waiver if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["researcher"]}, "purpose": "research", "recipient": {"type": "researcher"},
		"context": {"irb_waiver_id": "irb-0001"},
	})
	d.allow == true
	"RESEARCH_WAIVER" in fx.codes(d)
	some b in d.basis
	b.irb_waiver_id == "irb-0001"
}

test_deny_p23_research_without_waiver if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["researcher"]}, "purpose": "research", "recipient": {"type": "researcher"},
		"context": {"irb_waiver_id": ""},
	})
	fx.codes(d) == {"NO_PERMISSION", "OBTAIN_PATIENT_AUTHORIZATION"}
}

# --- P17, P18 authorization, marketing and sale

test_allow_p17_authorization if {
	d := data.hipaa.decision with input as _req({
		"requester": _po, "purpose": "research", "recipient": {"type": "researcher", "id": "univ-0001"},
		"authorizations": [
			fx.authorization("hipaa_authorization", {"recipients": ["univ-0001"], "purposes": ["research"]}),
		],
	})
	d.allow == true
	[b.code | some b in d.basis] == ["PATIENT_AUTHORIZATION"]
	d.minimum_necessary.applies == false
	d.accountable == false
}

test_deny_p17_revoked_authorization if {
	d := data.hipaa.decision with input as _req({
		"requester": _po, "purpose": "research", "recipient": {"type": "researcher", "id": "univ-0001"},
		"authorizations": [fx.authorization("hipaa_authorization", {"purposes": ["research"], "revoked": true})],
	})
	fx.codes(d) == {"AUTHORIZATION_INVALID", "OBTAIN_PATIENT_AUTHORIZATION"}
	fx.rules(d) == {"P17"}
}

test_allow_p18_marketing_with_authorization if {
	d := data.hipaa.decision with input as _req({
		"requester": _po, "purpose": "marketing", "recipient": {"type": "other"},
		"authorizations": [fx.authorization("hipaa_authorization", {"purposes": ["marketing"]})],
	})
	d.allow == true
}

test_allow_p18_deidentified_data_is_not_phi if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "sale_of_phi",
		"recipient": {"type": "other"},
		"data": {"form": "deidentified", "elements": ["age"]},
	})
	d.allow == true
	fx.codes(d) == {"DEIDENTIFIED"}
}

test_deny_p18_marketing_to_ba_with_baa if {
	d := data.hipaa.decision with input as _req({
		"requester": _po,
		"purpose": "marketing",
		"recipient": {"type": "business_associate", "id": "ba-care-analytics"},
	})
	d.allow == false
	some r in d.reasons
	r.rule == "P18"
}

# --- P19, P20 training and legal services

test_allow_p19_training if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["therapist"]},
		"purpose": "training",
		"recipient": {"type": "workforce"},
	})
	d.allow == true
	"HEALTH_CARE_OPERATIONS" in fx.codes(d)
}

test_deny_p19_training_outside_workforce if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["therapist"]},
		"purpose": "training",
		"recipient": {"type": "other"},
	})
	d.allow == false
}

test_allow_p20_legal_defense if {
	every recipient in [{"type": "workforce"}, {"type": "court"}] {
		d := data.hipaa.decision with input as _req({
			"requester": {"roles": ["therapist"]},
			"purpose": "legal_defense",
			"recipient": recipient,
		})
		d.allow == true
		[b.rule | some b in d.basis] == ["P20"]
	}
}

test_deny_p20_legal_defense_role if {
	d := data.hipaa.decision with input as _req({"purpose": "legal_defense", "recipient": {"type": "other"}})
	"ROLE_NOT_PERMITTED" in fx.codes(d)
}

test_allow_p6_did_not_object_when_asked if {
	d := data.hipaa.decision with input as _req(_family({"patient": {"objects": false}}))
	d.allow == true
}
