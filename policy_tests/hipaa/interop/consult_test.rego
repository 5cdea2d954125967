package hipaa.interop_test

import data.hipaa.interop

# A Part 2 TPO consent to a treating provider, as the shim translates it.
tpo_consent := {
	"id": "Consent/c-test-p2",
	"type": "part2_tpo_consent",
	"signed": true,
	"signed_on": "2026-01-10",
	"expires_on": "2030-01-10",
	"revoked": false,
	"recipients": ["npi-0000000001"],
	"purposes": ["treatment"],
	"categories": ["substance_use_disorder"],
}

request := {
	"now": "2026-12-07T08:00:00Z",
	"request_id": "rego-test",
	"requester": {"user_id": "u-test", "roles": ["physician"], "mfa": true},
	"patient": {"id": "p-test-0001", "state": "CA", "restrictions": []},
	"recipient": {"type": "provider", "id": "npi-0000000001", "identity_verified": true},
	"purpose": "treatment",
	"data": {"categories": ["substance_use_disorder"], "part2_program": true},
	"authorizations": [tpo_consent],
	"context": {},
}

facts(elements) := [{
	"ref": "Consent/c-test-p2",
	"kind": "part2",
	"elements": elements,
	"categories": ["substance_use_disorder"],
}]

every_element := {
	"patient": true, "information": true, "recipient": true, "purpose": true, "statements": true,
	"expiration": true, "signature": true, "date": true,
}

test_allow_treatment_under_complete_part2_consent if {
	result := interop.consult with input as object.union(request, {"consents": facts(every_element)})
	result.decision.allow == true
	"PART2_CONSENT" in {b.code | some b in result.decision.basis}
	result.consent_findings == []
	result.defective == []
}

test_deny_defective_part2_consent_is_named if {
	elements := object.remove(every_element, ["purpose"])
	result := interop.consult with input as object.union(request, {"consents": facts(elements)})
	[f.code | some f in result.consent_findings] == ["PART2_CONSENT_ELEMENT_MISSING"]
	result.defective == ["Consent/c-test-p2"]
}

test_deny_without_the_consent_is_no_part2_consent if {
	result := interop.consult with input as object.remove(request, ["authorizations"])
	result.decision.allow == false
	"OBTAIN_PART2_CONSENT" in {r.code | some r in result.decision.requirements}
	result.defective == []
}
