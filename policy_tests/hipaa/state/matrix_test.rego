# Table-driven tests over the shipped matrix: every rule of the eight priority states denies
# without an authorization and allows with one (helpers in overlay_test.rego).
package hipaa.state_test

import data.hipaa.state

# ------------------------------------------------------------------ every priority-state rule, both ways

_priority := {"CA", "NY", "TX", "FL", "IL", "WA", "MA", "PA"}

# [state, matrix category, a purpose that needs consent there]
_rule_cases contains [st, mcat, entry.consent_required_for[0]] if {
	some st in _priority
	some mcat, entry in _laws[st].categories
	mcat != "minors"
	count(entry.consent_required_for) > 0
}

test_deny_every_priority_rule_without_authorization if {
	count(_rule_cases) >= 25
	every c in _rule_cases {
		reasons := state.reasons with input as _req(c[0], c[1], c[2], "health_plan")
		[c[0], c[1]] in _reason_keys(reasons)
	}
}

test_allow_every_priority_rule_with_authorization if {
	every c in _rule_cases {
		req := _with_auth(_req(c[0], c[1], c[2], "health_plan"), _auth([c[1]], [c[2]], ["health_plan"]))
		count(state.reasons) == 0 with input as req
	}
}
