package hipaa.minimum_necessary_test

import data.hipaa.fixtures_test as fx

_req(patch) := fx.request(patch)

test_allow_m_payment_view if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["billing_specialist"]}, "purpose": "payment", "recipient": {"type": "health_plan"},
		"data": {"elements": ["member_id", "dates_of_service", "billing_codes", "diagnoses", "clinical_notes", "ssn"]},
	})
	d.allow == true
	d.minimum_necessary == {
		"applies": true,
		"permitted_elements": ["billing_codes", "dates_of_service", "diagnoses", "member_id"],
		"withheld_elements": ["clinical_notes", "ssn"],
	}
	some o in d.obligations
	o == {
		"code": "MINIMUM_NECESSARY", "rule": "M", "citation": "45 CFR 164.502(b), 164.514(d)",
		"message": "Share only the permitted elements, the minimum necessary for the purpose.",
		"elements": ["billing_codes", "dates_of_service", "diagnoses", "member_id"],
	}
}

test_allow_m_view_when_nothing_requested if {
	d := data.hipaa.decision with input as _req({
		"purpose": "disaster_relief",
		"recipient": {"type": "disaster_relief_organization"},
		"data": {"elements": []},
	})
	d.minimum_necessary.permitted_elements == ["general_condition", "location", "name"]
}

test_allow_m_union_of_roles if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["billing_specialist", "case_manager"]}, "purpose": "health_care_operations",
		"recipient": {"type": "health_plan"}, "data": {"elements": ["care_plan", "ssn"]},
	})
	d.minimum_necessary.permitted_elements == ["care_plan"]
}

test_allow_m_operations_view_excludes_ssn if {
	d := data.hipaa.decision with input as _req({
		"purpose": "health_care_operations",
		"recipient": {"type": "health_plan"},
		"data": {"elements": []},
	})
	not "ssn" in d.minimum_necessary.permitted_elements
	"clinical_notes" in d.minimum_necessary.permitted_elements
}

test_allow_m_does_not_apply_to_provider_treatment if {
	d := data.hipaa.decision with input as _req({"data": {"elements": []}})
	d.minimum_necessary.applies == false
	"ssn" in d.minimum_necessary.permitted_elements
	not "MINIMUM_NECESSARY" in fx.codes(d)
}

test_deny_m_nothing_shared_on_deny if {
	d := data.hipaa.decision with input as _req({"requester": {"mfa": false}, "data": {"elements": ["diagnoses"]}})
	d.minimum_necessary.permitted_elements == []
	d.minimum_necessary.withheld_elements == ["diagnoses"]
	d.obligations == []
}

test_allow_m_no_elements_field_means_the_view if {
	request := fx.request({"purpose": "disaster_relief", "recipient": {"type": "disaster_relief_organization"}})
	d := data.hipaa.decision with input as json.remove(request, ["data/elements"])
	d.minimum_necessary.permitted_elements == ["general_condition", "location", "name"]
}
