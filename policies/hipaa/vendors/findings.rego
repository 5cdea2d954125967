# METADATA
# title: Business-associate oversight findings
# description: |
#   Checks every entry of the business-associate registry (data.config.business_associates)
#   and lists its problems as findings under 45 CFR 164.502(e), 164.504(e) and
#   164.308(b):
#   V1 BAA not executed, V2 BAA expired, V3 BAA expiring within 60 days, V4 a required
#   164.504(e)(2) clause missing (one finding per clause), V5 subcontractor flow-down not
#   confirmed, V6 review older than 12 months, V7 high risk without a current security
#   attestation, V8 a registry date that is not an ISO 8601 date, V9 BAA not in effect yet.
#   Input: {"now": RFC 3339} (optional; the evaluation time when absent). An input `now`
#   that is not RFC 3339 yields one INVALID_INPUT finding and nothing else, so a typo
#   never silently shortens the list.
#   Each finding: {vendor_id, vendor_name, code, severity, citation, message, rule, ...}.
#   `findings` is an array sorted by vendor id, code, then detail.
package hipaa.vendors

import data.hipaa.lib

# The registry; an absent document is an empty registry.
default registry := {}

registry := data.config.business_associates if is_object(data.config.business_associates)

# Days before expiry from which a BAA is reported as expiring.
expiry_warning_days := 60

# Months after which a review is overdue.
review_interval_months := 12

# The 164.504(e)(2) clauses a BAA must contain, with the paragraph each rests on.
required_clauses := {
	"permitted_uses": {
		"citation": "45 CFR 164.504(e)(2)(i), (e)(2)(ii)(A)",
		"wording": "the permitted and required uses and disclosures",
	},
	"safeguards": {
		"citation": "45 CFR 164.504(e)(2)(ii)(B), 164.314(a)",
		"wording": "appropriate safeguards and compliance with the Security Rule",
	},
	"breach_reporting": {
		"citation": "45 CFR 164.504(e)(2)(ii)(C), 164.410",
		"wording": "reporting of improper uses, security incidents and breaches of unsecured PHI",
	},
	"subcontractors": {
		"citation": "45 CFR 164.504(e)(2)(ii)(D), 164.502(e)(1)(ii)",
		"wording": "subcontractors agreeing to the same restrictions and conditions",
	},
	"individual_access": {
		"citation": "45 CFR 164.504(e)(2)(ii)(E), 164.524",
		"wording": "making PHI available for the individual's access",
	},
	"amendment": {
		"citation": "45 CFR 164.504(e)(2)(ii)(F), 164.526",
		"wording": "making PHI available for amendment",
	},
	"accounting": {
		"citation": "45 CFR 164.504(e)(2)(ii)(G), 164.528",
		"wording": "information for an accounting of disclosures",
	},
	"hhs_access": {
		"citation": "45 CFR 164.504(e)(2)(ii)(I)",
		"wording": "internal practices, books and records available to the Secretary",
	},
	"return_or_destroy": {
		"citation": "45 CFR 164.504(e)(2)(ii)(J)",
		"wording": "return or destruction of PHI at termination",
	},
	"termination": {
		"citation": "45 CFR 164.504(e)(2)(iii)",
		"wording": "the covered entity's right to terminate for a material violation",
	},
}

# METADATA
# title: Evaluation time
# description: input.now (RFC 3339) when given, else the time of evaluation.
now_ns := time.parse_rfc3339_ns(input.now) if {
	is_string(input.now)
} else := time.now_ns() if {
	not input.now
}

today := time.format([now_ns, "UTC", "2006-01-02"])

expiry_horizon := time.format([time.add_date(now_ns, 0, 0, expiry_warning_days), "UTC", "2006-01-02"])

review_cutoff := time.format([time.add_date(now_ns, 0, 0 - review_interval_months, 0), "UTC", "2006-01-02"])

# METADATA
# title: Findings
# description: Every finding, sorted by vendor id, code and detail (the document the API serves).
# entrypoint: true
findings := [_keyed[key] | some key in sort(object.keys(_keyed))]

_keyed[[f.vendor_id, f.code, object.get(f, "detail", "")]] := f if some f in _all

_all contains f if some f in invalid_input

_all contains f if {
	not _input_invalid
	some f in vendor_findings
}

_input_invalid if count(invalid_input) > 0

# METADATA
# title: Invalid input
# description: input.now is present but is not an RFC 3339 time.
# custom:
#   rule: V0
#   code: INVALID_INPUT
#   severity: high
#   citation: hipaa-gate decision API (input.now is RFC 3339 UTC)
#   message: input.now is not an RFC 3339 time; no finding was computed.
invalid_input contains lib.result(rego.metadata.chain(), {"vendor_id": null, "severity": "high", "field": "now"}) if {
	input.now
	not now_ns
}

# METADATA
# title: BAA not executed
# description: The registry lists the vendor but its BAA is not executed (pending, terminated or unknown).
# custom:
#   rule: V1
#   code: BAA_NOT_EXECUTED
#   severity: critical
#   citation: 45 CFR 164.502(e)(1)-(2), 164.504(e)
#   message: The business associate agreement is not executed; no PHI may be disclosed to this vendor.
vendor_findings contains _finding(rego.metadata.chain(), id, {"status": _status(entry)}) if {
	some id, entry in registry
	not _executed(entry)
}

# METADATA
# title: BAA expired
# description: The executed BAA's expiry date is before today.
# custom:
#   rule: V2
#   code: BAA_EXPIRED
#   severity: critical
#   citation: 45 CFR 164.502(e)(1)-(2), 164.504(e)
#   message: The business associate agreement has expired; no PHI may be disclosed until it is renewed.
vendor_findings contains _finding(rego.metadata.chain(), id, {"expires_on": entry.baa.expires_on}) if {
	some id, entry in registry
	_executed(entry)
	_valid_date(entry.baa.expires_on)
	entry.baa.expires_on < today
}

# METADATA
# title: BAA not yet effective
# description: The executed BAA's effective date is after today.
# custom:
#   rule: V9
#   code: BAA_NOT_YET_EFFECTIVE
#   severity: high
#   citation: 45 CFR 164.502(e)(1)-(2), 164.504(e)
#   message: The business associate agreement is not in effect yet; no PHI may be disclosed before it is.
vendor_findings contains _finding(rego.metadata.chain(), id, {"effective_on": entry.baa.effective_on}) if {
	some id, entry in registry
	_executed(entry)
	_valid_date(entry.baa.effective_on)
	entry.baa.effective_on > today
}

# METADATA
# title: BAA expiring
# description: The executed BAA expires within 60 days of now (today included).
# custom:
#   rule: V3
#   code: BAA_EXPIRING
#   severity: medium
#   citation: 45 CFR 164.502(e)(1)-(2), 164.504(e)
#   message: The business associate agreement expires within 60 days; renew it before then.
vendor_findings contains _finding(rego.metadata.chain(), id, {"expires_on": entry.baa.expires_on}) if {
	some id, entry in registry
	_executed(entry)
	_valid_date(entry.baa.expires_on)
	entry.baa.expires_on >= today
	entry.baa.expires_on <= expiry_horizon
}

# METADATA
# title: Required BAA clause missing
# description: A clause 164.504(e)(2) requires is not marked present in the registry (one finding per clause).
# custom:
#   rule: V4
#   code: BAA_CLAUSE_MISSING
#   severity: high
#   citation: 45 CFR 164.504(e)(2)
#   message: The business associate agreement lacks a clause 45 CFR 164.504(e)(2) requires.
vendor_findings contains _finding(rego.metadata.chain(), id, extra) if {
	some id, entry in registry
	some clause, spec in required_clauses
	not _clause_present(entry, clause)
	extra := {
		"detail": clause,
		"clause": clause,
		"citation": spec.citation,
		"message": sprintf("The business associate agreement lacks the clause on %s.", [spec.wording]),
	}
}

# METADATA
# title: Subcontractor flow-down not confirmed
# description: |
#   The vendor has not confirmed that its subcontractors who handle PHI signed agreements with
#   the same restrictions (the BA's own duty, distinct from the BAA clause that requires it).
# custom:
#   rule: V5
#   code: SUBCONTRACTOR_FLOW_DOWN_UNCONFIRMED
#   severity: medium
#   citation: 45 CFR 164.502(e)(1)(ii), 164.504(e)(5)
#   message: Subcontractor flow-down agreements are not confirmed for this vendor.
vendor_findings contains _finding(rego.metadata.chain(), id, {}) if {
	some id, entry in registry
	not entry.subcontractor_flow_down == true
}

# METADATA
# title: Review overdue
# description: The last oversight review is older than 12 months (or not recorded).
# custom:
#   rule: V6
#   code: REVIEW_OVERDUE
#   severity: medium
#   citation: 45 CFR 164.308(a)(1)(ii)(A), 164.308(a)(8), 164.504(e)(1)(ii)
#   message: The vendor has not been reviewed in the last 12 months.
vendor_findings contains _finding(rego.metadata.chain(), id, extra) if {
	some id, entry in registry
	not _reviewed_recently(entry)
	extra := {"last_review_on": object.get(entry, "last_review_on", null)}
}

# METADATA
# title: High risk without a current security attestation
# description: A vendor rated high risk has no security attestation that is current at now.
# custom:
#   rule: V7
#   code: SECURITY_ATTESTATION_MISSING
#   severity: high
#   citation: 45 CFR 164.308(b)(1), 164.314(a)(1)
#   message: The vendor is rated high risk and has no current security attestation.
vendor_findings contains _finding(rego.metadata.chain(), id, {"risk_rating": "high"}) if {
	some id, entry in registry
	entry.risk_rating == "high"
	not _attestation_current(entry)
}

# METADATA
# title: Registry date invalid
# description: A date in the registry entry is not an ISO 8601 date (YYYY-MM-DD); checks that need it cannot run.
# custom:
#   rule: V8
#   code: REGISTRY_DATE_INVALID
#   severity: high
#   citation: 45 CFR 164.504(e), 164.316(b)(1)
#   message: A registry date is not an ISO 8601 date (YYYY-MM-DD); fix the registry entry.
vendor_findings contains _finding(rego.metadata.chain(), id, {"detail": field, "field": field}) if {
	some id, entry in registry
	some field, value in _dates(entry)
	value != null
	not _valid_date(value)
}

_finding(chain, id, extra) := lib.result(chain, object.union(
	{
		"vendor_id": id,
		"vendor_name": object.get(registry[id], "name", id),
		"severity": chain[0].annotations.custom.severity,
	},
	extra,
))

_status(entry) := entry.baa.status if is_string(entry.baa.status)

else := "unknown"

_executed(entry) if entry.baa.status == "executed"

_clause_present(entry, clause) if entry.baa.clauses[clause] == true

_reviewed_recently(entry) if {
	_valid_date(entry.last_review_on)
	entry.last_review_on >= review_cutoff
}

_attestation_current(entry) if {
	_valid_date(entry.security_attestation.attested_on)
	_valid_date(entry.security_attestation.expires_on)
	entry.security_attestation.attested_on <= today
	entry.security_attestation.expires_on >= today
}

_dates(entry) := {
	"baa.effective_on": object.get(entry, ["baa", "effective_on"], null),
	"baa.expires_on": object.get(entry, ["baa", "expires_on"], null),
	"last_review_on": object.get(entry, "last_review_on", null),
	"security_attestation.attested_on": object.get(entry, ["security_attestation", "attested_on"], null),
	"security_attestation.expires_on": object.get(entry, ["security_attestation", "expires_on"], null),
}

_valid_date(value) if {
	is_string(value)
	regex.match(`^\d{4}-\d{2}-\d{2}$`, value)
	_ = time.parse_ns("2006-01-02", value)
}
