package hipaa.validation_test

import data.hipaa.fixtures_test as fx
import data.hipaa.validation

test_allow_input_valid_request if {
	count(validation.problems) == 0 with input as fx.base
}

test_deny_input_wrong_types if {
	cases := [
		{"patch": {"requester": {"mfa": "yes", "roles": [], "user_id": ""}}, "paths": {
			"/requester/mfa",
			"/requester/roles",
			"/requester/user_id",
		}},
		{
			"patch": {
				"patient": {"id": 7, "state": null, "restrictions": "none"},
			},
			"paths": {"/patient/id", "/patient/state", "/patient/restrictions"},
		},
		{
			"patch": {"purpose": "curiosity", "recipient": {"type": "neighbour"}},
			"paths": {"/purpose", "/recipient/type"},
		},
		{
			"patch": {
				"data": {"categories": ["secrets"], "elements": ["shoe_size"], "form": "pdf", "record_count": -1},
			},
			"paths": {
				"/data/categories", "/data/elements", "/data/form", "/data/record_count",
			},
		},
		{
			"patch": {"authorizations": [1], "context": [], "now": "yesterday"},
			"paths": {"/authorizations", "/context", "/now"},
		},
	]
	every case in cases {
		problems := validation.problems with input as object.union(fx.base, case.patch)
		{p.path | some p in problems} == case.paths
	}
}

test_deny_input_never_allows if {
	d := data.hipaa.decision with input as fx.request({"purpose": "curiosity"})
	d.allow == false
	fx.codes(d) == {"INVALID_INPUT"}
	d.reasons[0].rule == "INPUT"
	d.reasons[0].details == [{"path": "/purpose", "message": "one of the purposes is required"}]
}

test_deny_input_missing_now if {
	d := data.hipaa.decision with input as object.remove(fx.base, ["now"])
	fx.codes(d) == {"INVALID_INPUT"}
}

# Optional fields the policy reads: each is checked when present (request.schema.json), and a
# malformed one never allows (docs/rules.md). Each case is also denied with INVALID_INPUT alone, so the
# fast path is not laxer than `problems`.
_restriction := {
	"recipient_types": ["health_plan"], "purposes": ["payment"], "categories": ["*"],
	"reason": "paid_in_full",
}

_malformed_optional_cases := [
	{"patch": {"context": {"underwriting": "true"}}, "paths": {"/context/underwriting"}},
	{"patch": {"context": {"underwriting": 1}}, "paths": {"/context/underwriting"}},
	{"patch": {"context": {"against_patient": "true"}}, "paths": {"/context/against_patient"}},
	{"patch": {"context": {"oversight_of_originator": "true"}}, "paths": {"/context/oversight_of_originator"}},
	{
		"patch": {"context": {"professional_judgment": "yes", "court_order": 1, "subpoena": null}},
		"paths": {"/context/professional_judgment", "/context/court_order", "/context/subpoena"},
	},
	{
		"patch": {"context": {"approval_id": 7, "irb_waiver_id": true, "rationale": ["x"]}},
		"paths": {"/context/approval_id", "/context/irb_waiver_id", "/context/rationale"},
	},
	{"patch": {"context": {"data_use_agreement_id": {}}}, "paths": {"/context/data_use_agreement_id"}},
	{"patch": {"patient": {"objects": "true"}}, "paths": {"/patient/objects"}},
	{"patch": {"patient": {"agrees": 1}}, "paths": {"/patient/agrees"}},
	{"patch": {"patient": {"incapacitated": "true"}}, "paths": {"/patient/incapacitated"}},
	{
		"patch": {"patient": {"present": null, "deceased": "no", "minor_consented_care": "true"}},
		"paths": {"/patient/present", "/patient/deceased", "/patient/minor_consented_care"},
	},
	{"patch": {"patient": {"state": "ma"}}, "paths": {"/patient/state"}},
	{"patch": {"patient": {"state": "XX"}}, "paths": {"/patient/state"}},
	{"patch": {"requester": {"state": "ma"}}, "paths": {"/requester/state"}},
	{"patch": {"requester": {"state": 5}}, "paths": {"/requester/state"}},
	{"patch": {"recipient": {"state": "Calif."}}, "paths": {"/recipient/state"}},
	{"patch": {"patient": {"age": "15"}}, "paths": {"/patient/age"}},
	{"patch": {"patient": {"age": -1}}, "paths": {"/patient/age"}},
	{"patch": {"patient": {"age": 15.5}}, "paths": {"/patient/age"}},
	{"patch": {"patient": {"age": 151}}, "paths": {"/patient/age"}},
	{
		"patch": {"recipient": {"id": 5, "identity_verified": "yes", "involved_in_care": 0}},
		"paths": {"/recipient/id", "/recipient/identity_verified", "/recipient/involved_in_care"},
	},
	{"patch": {"data": {"part2_program": "false"}}, "paths": {"/data/part2_program"}},
	{
		"patch": {"patient": {"restrictions": [object.union(_restriction, {"recipient_types": "health_plan"})]}},
		"paths": {"/patient/restrictions/0/recipient_types"},
	},
	{
		"patch": {"patient": {"restrictions": [_restriction, object.union(_restriction, {"categories": "general"})]}},
		"paths": {"/patient/restrictions/1/categories"},
	},
	{
		"patch": {"patient": {"restrictions": [object.union(_restriction, {"purposes": ["curiosity"]})]}},
		"paths": {"/patient/restrictions/0/purposes"},
	},
	{
		"patch": {"patient": {"restrictions": [object.union(_restriction, {"reason": "other"})]}},
		"paths": {"/patient/restrictions/0/reason"},
	},
	{
		"patch": {"patient": {"restrictions": [{}]}},
		"paths": {
			"/patient/restrictions/0/recipient_types", "/patient/restrictions/0/purposes",
			"/patient/restrictions/0/categories",
		},
	},
	{
		"patch": {"authorizations": [fx.authorization("hipaa_authorization", {"purposes": {"p": "treatment"}})]},
		"paths": {"/authorizations/0/purposes"},
	},
	{
		"patch": {"authorizations": [fx.authorization("consent", {"id": 88, "signed": "true", "revoked": 0})]},
		"paths": {
			"/authorizations/0/type", "/authorizations/0/id", "/authorizations/0/signed",
			"/authorizations/0/revoked",
		},
	},
	{
		"patch": {"authorizations": [fx.authorization("hipaa_authorization", {
			"signed_on": "2025-12-1", "expires_on": "2027-13-01",
			"recipients": [""], "recipient_types": "provider", "categories": ["secrets"],
		})]},
		"paths": {
			"/authorizations/0/signed_on", "/authorizations/0/expires_on", "/authorizations/0/recipients",
			"/authorizations/0/recipient_types", "/authorizations/0/categories",
		},
	},
	{"patch": {"authorizations": [{"signed": true}]}, "paths": {"/authorizations/0/type"}},
]

test_deny_input_malformed_optional_fields if {
	every case in _malformed_optional_cases {
		problems := validation.problems with input as object.union(fx.base, case.patch)
		{p.path | some p in problems} == case.paths
	}
}

test_deny_input_malformed_optional_fields_never_allow if {
	every case in _malformed_optional_cases {
		d := data.hipaa.decision with input as object.union(fx.base, case.patch)
		d.allow == false
		fx.codes(d) == {"INVALID_INPUT"}
	}
}

# The reviewer's reproductions: each used to be allowed.
test_deny_input_underwriting_string_does_not_bypass_c7 if {
	d := data.hipaa.decision with input as fx.request({
		"data": {"categories": ["genetic"]},
		"context": {"underwriting": "true"},
	})
	fx.codes(d) == {"INVALID_INPUT"}
	d.reasons[0].details == [{"path": "/context/underwriting", "message": "a boolean is required"}]
}

test_deny_input_restriction_without_scope if {
	d := data.hipaa.decision with input as fx.request({
		"requester": {"roles": ["billing_specialist"]}, "purpose": "payment", "recipient": {"type": "health_plan"},
		"patient": {"restrictions": [{"recipient_types": "health_plan", "purposes": ["payment"], "categories": ["*"]}]},
	})
	fx.codes(d) == {"INVALID_INPUT"}
}

# Null where the contract allows it, and optional fields left out (their defaults apply).
test_allow_input_optional_fields_null_or_missing if {
	nulls := {
		"patient": {"age": null, "agrees": true, "objects": false},
		"requester": {"state": null},
		"recipient": {"id": null, "state": "CA"},
		"context": {"approval_id": null, "rationale": "care hand-off", "irb_waiver_id": ""},
		"authorizations": [object.remove(fx.authorization("hipaa_authorization", {"expires_on": null}), ["revoked"])],
	}
	count(validation.problems) == 0 with input as object.union(fx.base, nulls)
	missing := {
		"now": fx.now,
		"requester": object.remove(fx.base.requester, ["state"]),
		"patient": object.union(
			object.remove(fx.base.patient, ["age", "present", "agrees", "objects", "minor_consented_care"]),
			{"restrictions": [object.remove(_restriction, ["reason"])]},
		),
		"recipient": {"type": "provider"},
		"purpose": "treatment",
		"data": {"categories": ["general"]},
		"context": {},
	}
	count(validation.problems) == 0 with input as missing
	d := data.hipaa.decision with input as missing
	not "INVALID_INPUT" in fx.codes(d)
}

# v1.2 fields: enumerations, and the facts a purpose needs.
test_deny_input_v12_context if {
	cases := [
		{"patch": {"context": {"legal_process": "fax"}}, "path": "/context/legal_process"},
		{"patch": {"context": {"law_enforcement_reason": "hunch"}}, "path": "/context/law_enforcement_reason"},
		{"patch": {"context": {"abuse_victim": "teen"}}, "path": "/context/abuse_victim"},
		{"patch": {"context": {"government_function": "army"}}, "path": "/context/government_function"},
		{"patch": {"purpose": "abuse_report"}, "path": "/context/abuse_victim"},
		{"patch": {"purpose": "specialized_government_function"}, "path": "/context/government_function"},
		{"patch": {"context": {"legal_process": "court_order", "court_order": true}}, "path": "/context/legal_process"},
		{"patch": {"context": {"legal_process": "court_order", "subpoena": true}}, "path": "/context/legal_process"},
		{"patch": {"context": {"victim_agrees": "yes"}}, "path": "/context/victim_agrees"},
		{"patch": {"patient": {"inmate": 1}}, "path": "/patient/inmate"},
	]
	every case in cases {
		d := data.hipaa.decision with input as fx.request(case.patch)
		d.allow == false
		[r.code | some r in d.reasons] == ["INVALID_INPUT"]
		some detail in d.reasons[0].details
		detail.path == case.path
	}
}

test_allow_input_v12_context_given if {
	every patch in [
		{"purpose": "abuse_report", "context": {"abuse_victim": "adult"}},
		{"purpose": "specialized_government_function", "context": {"government_function": "military"}},
		{"context": {"legal_process": "discovery_request"}},
	] {
		count(validation.problems) == 0 with input as fx.request(patch)
		not validation.invalid with input as fx.request(patch)
	}
}

# The slow path judges a request without the v1.2 fields by their defaults.
test_allow_input_v12_fields_absent if {
	request := object.union(fx.base, {"context": {}, "patient": object.remove(fx.base.patient, ["inmate"])})
	count(validation.problems) == 0 with input as request
}
