package hipaa.vendors_test

import data.hipaa.vendors

now := "2026-11-28T09:14:03Z"

at_now := {"now": now}

all_clauses := {
	"permitted_uses": true,
	"safeguards": true,
	"breach_reporting": true,
	"subcontractors": true,
	"individual_access": true,
	"amendment": true,
	"accounting": true,
	"hhs_access": true,
	"return_or_destroy": true,
	"termination": true,
}

# A registry entry with nothing to report at `now`.
good := {
	"name": "Synthetic Analytics Co",
	"kind": "business_associate",
	"baa": {
		"status": "executed",
		"effective_on": "2025-01-01",
		"expires_on": "2028-01-01",
		"purposes": ["payment"],
		"clauses": all_clauses,
	},
	"subcontractor_flow_down": true,
	"risk_rating": "high",
	"last_review_on": "2026-06-01",
	"security_attestation": {"attested_on": "2026-03-01", "expires_on": "2027-03-01"},
}

# `obj` with the top-level fields of `patch` replaced (object.union alone would merge deeply).
replaced(obj, patch) := object.union(object.remove(obj, object.keys(patch)), patch)

# A registry of one entry `ba-test`: `good` with the top-level fields of `patch` replaced.
one(patch) := {"ba-test": replaced(good, patch)}

codes(findings) := {f.code | some f in findings}

baa_with(fields) := {"baa": replaced(good.baa, fields)}

test_allow_compliant_vendor_has_no_finding if {
	registry := one({})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	result == []
}

test_allow_empty_registry if {
	vendors.findings == [] with data.config.business_associates as {} with input as at_now
}

test_allow_absent_registry if {
	vendors.findings == [] with data.config as {} with input as at_now
}

test_deny_baa_pending_whole_finding if {
	registry := one(baa_with({"status": "pending"}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	result == [{
		"vendor_id": "ba-test",
		"vendor_name": "Synthetic Analytics Co",
		"code": "BAA_NOT_EXECUTED",
		"severity": "critical",
		"citation": "45 CFR 164.502(e)(1)-(2), 164.504(e)",
		"message": "The business associate agreement is not executed; no PHI may be disclosed to this vendor.",
		"rule": "V1",
		"status": "pending",
	}]
}

test_deny_baa_terminated if {
	registry := one(baa_with({"status": "terminated"}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	codes(result) == {"BAA_NOT_EXECUTED"}
}

test_deny_baa_status_missing if {
	registry := one({"baa": {"clauses": all_clauses}})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	some f in result
	f.code == "BAA_NOT_EXECUTED"
	f.status == "unknown"
}

test_allow_baa_executed if {
	registry := one({})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	not "BAA_NOT_EXECUTED" in codes(result)
}

test_deny_baa_expired if {
	registry := one(baa_with({"expires_on": "2026-11-27"}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	result == [{
		"vendor_id": "ba-test",
		"vendor_name": "Synthetic Analytics Co",
		"code": "BAA_EXPIRED",
		"severity": "critical",
		"citation": "45 CFR 164.502(e)(1)-(2), 164.504(e)",
		"message": "The business associate agreement has expired; no PHI may be disclosed until it is renewed.",
		"rule": "V2",
		"expires_on": "2026-11-27",
	}]
}

test_allow_baa_expiring_today_is_not_expired if {
	registry := one(baa_with({"expires_on": "2026-11-28"}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	codes(result) == {"BAA_EXPIRING"}
}

test_allow_baa_without_expiry_date if {
	registry := one(baa_with({"expires_on": null}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	codes(result) == set()
}

test_allow_expired_pending_baa_reports_not_executed_only if {
	registry := one(baa_with({"status": "pending", "expires_on": "2020-01-01"}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	codes(result) == {"BAA_NOT_EXECUTED"}
}

test_deny_baa_not_yet_effective if {
	registry := one(baa_with({"effective_on": "2026-11-29"}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	[[f.code, f.severity, f.effective_on] | some f in result] == [["BAA_NOT_YET_EFFECTIVE", "high", "2026-11-29"]]
}

test_allow_baa_effective_today if {
	registry := one(baa_with({"effective_on": "2026-11-28"}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	result == []
}

test_deny_baa_expiring_on_day_60 if {
	registry := one(baa_with({"expires_on": "2027-01-27"}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	some f in result
	f.code == "BAA_EXPIRING"
	f.severity == "medium"
	f.expires_on == "2027-01-27"
}

test_allow_baa_expiring_on_day_61 if {
	registry := one(baa_with({"expires_on": "2027-01-28"}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	codes(result) == set()
}

test_deny_each_missing_clause if {
	every clause, spec in vendors.required_clauses {
		registry := one(baa_with({"clauses": replaced(all_clauses, {clause: false})}))
		result := vendors.findings with data.config.business_associates as registry with input as at_now
		result == [{
			"vendor_id": "ba-test",
			"vendor_name": "Synthetic Analytics Co",
			"code": "BAA_CLAUSE_MISSING",
			"severity": "high",
			"citation": spec.citation,
			"message": sprintf("The business associate agreement lacks the clause on %s.", [spec.wording]),
			"rule": "V4",
			"clause": clause,
			"detail": clause,
		}]
	}
}

test_deny_termination_clause_cites_e2_iii if {
	registry := one(baa_with({"clauses": object.remove(all_clauses, ["termination"])}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	some f in result
	f.clause == "termination"
	f.citation == "45 CFR 164.504(e)(2)(iii)"
}

test_deny_no_clauses_recorded_lists_all_ten if {
	registry := one(baa_with({"clauses": {}}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	clauses := {f.clause | some f in result; f.code == "BAA_CLAUSE_MISSING"}
	clauses == {
		"permitted_uses", "safeguards", "breach_reporting", "subcontractors", "individual_access",
		"amendment", "accounting", "hhs_access", "return_or_destroy", "termination",
	}
}

test_allow_all_clauses_present if {
	registry := one({})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	not "BAA_CLAUSE_MISSING" in codes(result)
}

test_deny_subcontractor_flow_down_false if {
	registry := one({"subcontractor_flow_down": false})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	codes(result) == {"SUBCONTRACTOR_FLOW_DOWN_UNCONFIRMED"}
}

test_deny_subcontractor_flow_down_absent if {
	registry := one({"subcontractor_flow_down": null})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	codes(result) == {"SUBCONTRACTOR_FLOW_DOWN_UNCONFIRMED"}
}

test_deny_review_older_than_12_months if {
	registry := one({"last_review_on": "2025-11-27"})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	some f in result
	f.code == "REVIEW_OVERDUE"
	f.last_review_on == "2025-11-27"
	f.rule == "V6"
}

test_allow_review_exactly_12_months_old if {
	registry := one({"last_review_on": "2025-11-28"})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	codes(result) == set()
}

test_deny_review_never_recorded if {
	registry := one({"last_review_on": null})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	codes(result) == {"REVIEW_OVERDUE"}
}

test_deny_high_risk_without_attestation if {
	registry := one({"security_attestation": null})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	result == [{
		"vendor_id": "ba-test",
		"vendor_name": "Synthetic Analytics Co",
		"code": "SECURITY_ATTESTATION_MISSING",
		"severity": "high",
		"citation": "45 CFR 164.308(b)(1), 164.314(a)(1)",
		"message": "The vendor is rated high risk and has no current security attestation.",
		"rule": "V7",
		"risk_rating": "high",
	}]
}

test_deny_high_risk_with_expired_attestation if {
	registry := one({"security_attestation": {"attested_on": "2025-01-01", "expires_on": "2026-01-01"}})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	codes(result) == {
		"SECURITY_ATTESTATION_MISSING",
	}
}

test_deny_high_risk_with_future_dated_attestation if {
	registry := one({"security_attestation": {"attested_on": "2026-12-01", "expires_on": "2027-12-01"}})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	codes(result) == {
		"SECURITY_ATTESTATION_MISSING",
	}
}

test_allow_medium_risk_without_attestation if {
	registry := one({"risk_rating": "medium", "security_attestation": null})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	codes(result) == set()
}

test_allow_high_risk_with_current_attestation if {
	registry := one({})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	not "SECURITY_ATTESTATION_MISSING" in codes(result)
}

test_deny_invalid_registry_date if {
	registry := one({"last_review_on": "01/06/2026"})
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	some f in result
	f.code == "REGISTRY_DATE_INVALID"
	f.field == "last_review_on"
	f.severity == "high"
}

test_deny_invalid_calendar_date if {
	registry := one(baa_with({"expires_on": "2027-02-30"}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	"REGISTRY_DATE_INVALID" in codes(result)
}

test_allow_valid_and_null_dates if {
	registry := one(baa_with({"effective_on": null}))
	result := vendors.findings with data.config.business_associates as registry with input as at_now
	not "REGISTRY_DATE_INVALID" in codes(result)
}

test_deny_invalid_now_reports_input_error_only if {
	result := vendors.findings with data.config.business_associates as {"ba-x": {"name": "X"}}
		with input as {"now": "yesterday"}
	[f.code | some f in result] == ["INVALID_INPUT"]
	result[0].field == "now"
}

test_allow_now_defaults_to_evaluation_time if {
	registry := one({"last_review_on": "2026-11-01"})
	result := vendors.findings with data.config.business_associates as registry
		with input as {}
		with time.now_ns as time.parse_rfc3339_ns("2027-12-01T00:00:00Z")

	# On 2027-12-01 the review (2026-11-01) is overdue, the BAA (2028-01-01) expires within 60 days
	# and the attestation (2027-03-01) has lapsed.
	{f.code | some f in result} == {"REVIEW_OVERDUE", "BAA_EXPIRING", "SECURITY_ATTESTATION_MISSING"}
}

test_allow_findings_sorted_by_vendor_then_code if {
	result := vendors.findings with data.config.business_associates as {
		"ba-b": replaced(good, {"last_review_on": null, "subcontractor_flow_down": false}),
		"ba-a": replaced(good, {"last_review_on": null}),
	}
		with input as at_now
	[[f.vendor_id, f.code] | some f in result] == [
		["ba-a", "REVIEW_OVERDUE"],
		["ba-b", "REVIEW_OVERDUE"],
		["ba-b", "SUBCONTRACTOR_FLOW_DOWN_UNCONFIRMED"],
	]
}

test_deny_vendor_name_defaults_to_id if {
	result := vendors.findings with data.config.business_associates as {"ba-anon": object.remove(
		replaced(good, {"last_review_on": null}),
		["name"],
	)}
		with input as at_now
	result[0].vendor_name == "ba-anon"
}

# The shipped example registry (policies/config/business_associates): only the expired and the
# pending example vendors have problems.
test_deny_shipped_registry_flags_expired_and_pending_vendors if {
	result := vendors.findings with input as at_now
	{[f.vendor_id, f.code] | some f in result} == {
		["ba-expired-vendor", "BAA_EXPIRED"],
		["ba-expired-vendor", "REVIEW_OVERDUE"],
		["ba-expired-vendor", "SECURITY_ATTESTATION_MISSING"],
		["ba-pending-vendor", "BAA_NOT_EXECUTED"],
		["ba-pending-vendor", "BAA_CLAUSE_MISSING"],
		["ba-pending-vendor", "SUBCONTRACTOR_FLOW_DOWN_UNCONFIRMED"],
	}
}
