package hipaa.bulk_test

import data.hipaa.fixtures_test as fx

_ops(records, approval) := fx.request({
	"purpose": "health_care_operations", "recipient": {"type": "health_plan"},
	"data": {"record_count": records}, "context": {"approval_id": approval},
})

test_allow_c6_at_threshold if {
	d := data.hipaa.decision with input as _ops(50, null)
	d.allow == true
}

test_deny_c6_above_threshold if {
	d := data.hipaa.decision with input as _ops(51, null)
	d.allow == false
	"OBTAIN_PRIVACY_OFFICER_APPROVAL" in fx.codes(d)
	some r in d.reasons
	r == {
		"code": "APPROVAL_REQUIRED", "citation": "45 CFR 164.308(a)(1)(ii)(B), 164.514(d)(3)(ii)",
		"message": "A bulk disclosure needs the privacy officer's approval.", "rule": "C6",
		"record_count": 51, "threshold": 50,
	}
}

test_allow_c6_with_approval if {
	d := data.hipaa.decision with input as _ops(5000, "appr-0001")
	d.allow == true
}

test_allow_c6_treatment_needs_no_approval if {
	d := data.hipaa.decision with input as fx.request({"data": {"record_count": 5000}})
	d.allow == true
}

test_deny_c6_threshold_is_policy_data if {
	d := data.hipaa.decision with input as _ops(11, null) with data.config.thresholds.bulk_record_count as 10
	"APPROVAL_REQUIRED" in fx.codes(d)
}

test_deny_c6_default_threshold_without_data if {
	d := data.hipaa.decision with input as _ops(51, null) with data.config.thresholds as {}
	"APPROVAL_REQUIRED" in fx.codes(d)
}
