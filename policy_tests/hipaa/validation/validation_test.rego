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
