package hipaa.genetic_test

import data.hipaa.fixtures_test as fx

_genetic(underwriting) := fx.request({
	"requester": {"roles": ["privacy_officer"]}, "purpose": "payment", "recipient": {"type": "health_plan"},
	"data": {"categories": ["genetic"]}, "context": {"underwriting": underwriting},
	"authorizations": [fx.authorization("hipaa_authorization", {"purposes": ["payment"], "categories": ["genetic"]})],
})

test_deny_c7_underwriting_even_with_authorization if {
	d := data.hipaa.decision with input as _genetic(true)
	d.allow == false
	"GENETIC_UNDERWRITING_PROHIBITED" in fx.codes(d)
}

test_allow_c7_genetic_for_claims if {
	d := data.hipaa.decision with input as _genetic(false)
	d.allow == true
}
