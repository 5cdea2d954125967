package hipaa.consents_test

import data.hipaa.consents

every_element := {
	"patient": true, "information": true, "recipient": true, "purpose": true, "statements": true,
	"expiration": true, "signature": true, "date": true, "discloser": true,
}

# A consent of `kind` with every element present and general information only.
complete(kind) := {
	"ref": "Consent/c-test-1",
	"kind": kind,
	"elements": every_element,
	"categories": ["substance_use_disorder"],
	"opt_out_honored": false,
}

without(consent, element) := object.union(
	object.remove(consent, ["elements"]),
	{"elements": object.remove(every_element, [element])},
)

test_allow_complete_part2_consent_has_no_finding if {
	found := consents.findings with input as {"consents": [complete("part2")]}
	found == []
	count(consents.defective) == 0 with input as {"consents": [complete("part2")]}
}

test_allow_complete_hipaa_authorization_has_no_finding if {
	auth := object.union(complete("hipaa_authorization"), {"categories": ["general", "hiv"]})
	found := consents.findings with input as {"consents": [auth]}
	found == []
}

test_allow_no_consents if {
	consents.findings == [] with input as {}
	consents.findings == [] with input as {"consents": "not a list"}
}

test_deny_part2_consent_without_revocation_statement if {
	found := consents.findings with input as {"consents": [without(complete("part2"), "statements")]}
	found == [{
		"consent": "Consent/c-test-1",
		"code": "PART2_CONSENT_ELEMENT_MISSING",
		"citation": "42 CFR 2.31(a)(6)",
		"message": "The consent lacks the statement of the right to revoke (no signed form is attached to verify it).",
		"rule": "CF1",
		"element": "statements",
		"defective": true,
	}]
	consents.defective == {"Consent/c-test-1"} with input as {"consents": [without(complete("part2"), "statements")]}
}

test_deny_part2_consent_without_anything_lists_every_element if {
	bare := {"ref": "Consent/c-test-2", "kind": "part2"}
	found := consents.findings with input as {"consents": [bare]}
	got := {[f.element, f.citation] | some f in found}
	got == {
		["patient", "42 CFR 2.31(a)(1)"], ["information", "42 CFR 2.31(a)(3)"],
		["recipient", "42 CFR 2.31(a)(4)"], ["purpose", "42 CFR 2.31(a)(5)"],
		["statements", "42 CFR 2.31(a)(6)"], ["expiration", "42 CFR 2.31(a)(7)"],
		["signature", "42 CFR 2.31(a)(8)"], ["date", "42 CFR 2.31(a)(9)"],
	}
}

test_deny_hipaa_authorization_without_expiration if {
	found := consents.findings with input as {"consents": [without(complete("hipaa_authorization"), "expiration")]}
	found == [{
		"consent": "Consent/c-test-1",
		"code": "AUTHORIZATION_ELEMENT_MISSING",
		"citation": "45 CFR 164.508(c)(1)(v)",
		"message": "The consent lacks an expiration date or event.",
		"rule": "CF2",
		"element": "expiration",
		"defective": true,
	}]
}

test_deny_element_that_is_not_true_counts_as_missing if {
	elements := object.union(every_element, {"discloser": "yes"})
	consent := object.union(object.remove(complete("hipaa_authorization"), ["elements"]), {"elements": elements})
	found := consents.findings with input as {"consents": [consent]}
	[f.element | some f in found] == ["discloser"]
}

test_deny_psychotherapy_notes_combined_with_other_information if {
	consent := object.union(
		complete("psychotherapy_notes_authorization"),
		{"categories": ["general", "psychotherapy_notes"]},
	)
	found := consents.findings with input as {"consents": [consent]}
	found == [{
		"consent": "Consent/c-test-1",
		"code": "PSYCHOTHERAPY_NOTES_AUTHORIZATION_COMBINED",
		"citation": "45 CFR 164.508(b)(3)(ii)",
		"message": "A psychotherapy-notes authorization is combined with one for other information; it is not relied on.",
		"rule": "CF3",
		"categories": ["general", "psychotherapy_notes"],
		"defective": true,
	}]
}

test_allow_psychotherapy_notes_alone if {
	alone := object.union(complete("psychotherapy_notes_authorization"), {"categories": ["psychotherapy_notes"]})
	found := consents.findings with input as {"consents": [alone]}
	found == []
}

test_deny_opt_out_is_reported_not_binding if {
	opt_out := {"ref": "Consent/c-test-3", "kind": "opt_out", "opt_out_honored": false}
	found := consents.findings with input as {"consents": [opt_out]}
	found == [{
		"consent": "Consent/c-test-3",
		"code": "CONSENT_OPT_OUT_NOT_BINDING",
		"citation": "45 CFR 164.522(a)(1)(ii)",
		"message": "The opt-out is a requested restriction the entity has not agreed to; HIPAA's permissions still apply.",
		"rule": "CF4",
		"defective": false,
	}]
	count(consents.defective) == 0 with input as {"consents": [opt_out]}
}

test_allow_honoured_opt_out_is_reported_as_applied if {
	opt_out := {"ref": "Consent/c-test-3", "kind": "opt_out", "opt_out_honored": true}
	found := consents.findings with input as {"consents": [opt_out]}
	[f.code | some f in found] == ["CONSENT_OPT_OUT_HONORED"]
}

test_deny_consent_without_ref_is_named_unknown if {
	found := consents.findings with input as {"consents": [{"kind": "opt_out"}]}
	[f.consent | some f in found] == ["Consent/unknown"]
}

test_allow_findings_sorted_by_consent if {
	a := object.union(without(complete("part2"), "date"), {"ref": "Consent/b"})
	b := object.union(without(complete("part2"), "date"), {"ref": "Consent/a"})
	[f.consent | some f in consents.findings] == ["Consent/a", "Consent/b"] with input as {"consents": [a, b, "x"]}
}
