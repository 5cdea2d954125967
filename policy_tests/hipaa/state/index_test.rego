package hipaa.state_test

import data.hipaa.state

_matrix := {
	"TX": {"name": "Texas", "last_reviewed": "2026-11-01", "categories": {"hiv": {}}, "breach_notice": {}},
	"CA": {
		"name": "California", "last_reviewed": "2026-11-28",
		"categories": {"std": {}, "hiv": {}}, "breach_notice": {},
	},
}

test_allow_laws_lists_each_matrix_state_once_in_code_order if {
	laws := state.laws with data.config.state_laws as _matrix
	laws == [
		{"state": "CA", "name": "California", "last_reviewed": "2026-11-28", "categories": ["hiv", "std"]},
		{"state": "TX", "name": "Texas", "last_reviewed": "2026-11-01", "categories": ["hiv"]},
	]
}

test_deny_laws_is_empty_without_a_matrix if {
	laws := state.laws with data.config.state_laws as {}
	laws == []
}
