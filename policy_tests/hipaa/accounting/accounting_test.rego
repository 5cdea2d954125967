package hipaa.accounting_test

import data.hipaa.fixtures_test as fx

_req(patch) := fx.request(patch)

test_allow_a_public_health_is_accountable if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["nurse"]},
		"purpose": "public_health",
		"recipient": {"type": "public_health_authority"},
	})
	d.allow == true
	d.accountable == true
	{
		"code": "ACCOUNT_FOR_DISCLOSURE", "rule": "A", "citation": "45 CFR 164.528; 42 CFR 2.25",
		"message": "Record this disclosure for the patient's accounting of disclosures.",
	} in d.obligations
}

test_allow_a_tpo_is_not_accountable if {
	d := data.hipaa.decision with input as _req({})
	d.allow == true
	d.accountable == false
	not "ACCOUNT_FOR_DISCLOSURE" in fx.codes(d)
}

test_allow_a_limited_data_set_is_not_accountable if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["nurse"]}, "purpose": "public_health", "recipient": {"type": "public_health_authority"},
		"data": {"form": "limited_data_set", "elements": ["zip_code"]}, "context": {"data_use_agreement_id": "dua-1"},
	})
	d.allow == true
	d.accountable == false
}

# 164.528(a)(1)(viii) excludes a limited data set disclosed under 164.514(e) (research, public
# health, operations with a DUA), not any disclosure of data in that form.
test_allow_limited_data_set_form_outside_164_514e_is_accountable if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["care_coordinator"]}, "purpose": "serious_threat",
		"recipient": {"type": "law_enforcement", "id": "pd-0001"},
		"data": {"form": "limited_data_set", "elements": ["zip_code"]},
		"context": {"serious_imminent_threat": true},
	})
	d.allow == true
	[b.code | some b in d.basis] == ["SERIOUS_THREAT"]
	d.accountable == true
	"ACCOUNT_FOR_DISCLOSURE" in fx.codes(d)
}

test_deny_a_denied_disclosure_is_not_accountable if {
	d := data.hipaa.decision with input as _req({
		"requester": {"roles": ["nurse"], "mfa": false},
		"purpose": "public_health",
		"recipient": {"type": "public_health_authority"},
	})
	d.allow == false
	d.accountable == false
	d.obligations == []
}
