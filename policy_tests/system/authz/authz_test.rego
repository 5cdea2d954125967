package system.authz_test

import data.system.authz

test_allow_decision_query if {
	authz.allow with input as {"method": "POST", "path": ["v1", "data", "hipaa", "decision"], "params": {}}
}

test_allow_breach_plan_query if {
	authz.allow with input as {"method": "POST", "path": ["v1", "data", "hipaa", "breach", "plan"], "params": {}}
}

test_allow_health if {
	authz.allow with input as {"method": "GET", "path": ["health"], "params": {}}
}

test_deny_policy_write if {
	not authz.allow with input as {"method": "PUT", "path": ["v1", "policies", "evil"]}
}

test_deny_data_write if {
	not authz.allow with input as {"method": "PUT", "path": ["v1", "data", "config", "revoked_access"]}
}

test_deny_data_patch if {
	not authz.allow with input as {"method": "PATCH", "path": ["v1", "data"]}
}

test_deny_raw_data_read if {
	not authz.allow with input as {"method": "GET", "path": ["v1", "data", "config"]}
}

test_deny_other_document_query if {
	not authz.allow with input as {"method": "POST", "path": ["v1", "data", "system", "authz", "allow"]}
}

test_deny_ad_hoc_query if {
	not authz.allow with input as {"method": "POST", "path": ["v1", "query"]}
}

test_deny_config_and_status if {
	not authz.allow with input as {"method": "GET", "path": ["v1", "config"]}
	not authz.allow with input as {"method": "GET", "path": ["v1", "status"]}
}

test_deny_missing_input if {
	not authz.allow with input as {}
}

test_allow_health_bundles if {
	authz.allow with input as {"method": "GET", "path": ["health"], "params": {"bundles": [""]}}
}

test_deny_health_plugins if {
	not authz.allow with input as {"method": "GET", "path": ["health"], "params": {"plugins": [""]}}
}

test_deny_decision_query_with_explain if {
	not authz.allow with input as {
		"method": "POST",
		"path": ["v1", "data", "hipaa", "decision"],
		"params": {"explain": ["full"]},
	}
}

test_deny_decision_query_with_provenance if {
	not authz.allow with input as {
		"method": "POST",
		"path": ["v1", "data", "hipaa", "decision"],
		"params": {"provenance": ["true"]},
	}
}
