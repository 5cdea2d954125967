package system.authz_test

import data.system.authz

# OPA's runtime (opa.runtime()) as the sidecar sees it: without and with HIPAA_GATE_OPA_TOKEN.
# The tests never depend on the environment `opa test` itself runs in.
no_token := {"env": {"PATH": "/usr/bin"}}

empty_token := {"env": {"HIPAA_GATE_OPA_TOKEN": ""}}

with_token := {"env": {"HIPAA_GATE_OPA_TOKEN": "tok-opa-0123456789"}}

decision_query := {"method": "POST", "path": ["v1", "data", "hipaa", "decision"], "params": {}}

test_allow_decision_query if {
	authz.allow with input as {"method": "POST", "path": ["v1", "data", "hipaa", "decision"], "params": {}}
		with opa.runtime as no_token
}

test_allow_breach_plan_query if {
	authz.allow with input as {"method": "POST", "path": ["v1", "data", "hipaa", "breach", "plan"], "params": {}}
		with opa.runtime as no_token
}

test_allow_authorization_requirements_query if {
	path := ["v1", "data", "hipaa", "authorization_forms", "requirements"]
	authz.allow with input as {"method": "POST", "path": path, "params": {}}
		with opa.runtime as no_token
}

test_deny_authorization_forms_data_read if {
	not authz.allow with input as {"method": "POST", "path": ["v1", "data", "hipaa", "authorization_forms"], "params": {}}
		with opa.runtime as no_token
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

test_allow_decision_query_with_an_empty_token_configured if {
	authz.allow with input as decision_query with opa.runtime as empty_token
}

test_allow_decision_query_ignores_an_identity_when_no_token_is_configured if {
	authz.allow with input as object.union(decision_query, {"identity": "anything"}) with opa.runtime as no_token
}

test_allow_decision_query_with_the_configured_token if {
	authz.allow with input as object.union(decision_query, {"identity": "tok-opa-0123456789"})
		with opa.runtime as with_token
}

test_deny_decision_query_without_a_token_when_one_is_configured if {
	not authz.allow with input as decision_query with opa.runtime as with_token
}

test_deny_decision_query_with_a_wrong_token if {
	not authz.allow with input as object.union(decision_query, {"identity": "tok-opa-0123456789x"})
		with opa.runtime as with_token
	not authz.allow with input as object.union(decision_query, {"identity": "tok-opa-012345678"})
		with opa.runtime as with_token
	not authz.allow with input as object.union(decision_query, {"identity": ""})
		with opa.runtime as with_token
}

test_deny_other_queries_even_with_the_configured_token if {
	not authz.allow with input as {
		"method": "GET",
		"path": ["v1", "data", "config"],
		"params": {},
		"identity": "tok-opa-0123456789",
	}
		with opa.runtime as with_token
	not authz.allow with input as {
		"method": "PUT",
		"path": ["v1", "policies", "evil"],
		"params": {},
		"identity": "tok-opa-0123456789",
	}
		with opa.runtime as with_token
}

test_allow_health_without_a_token_when_one_is_configured if {
	authz.allow with input as {"method": "GET", "path": ["health"], "params": {}} with opa.runtime as with_token
	authz.allow with input as {"method": "GET", "path": ["health"], "params": {"bundles": [""]}}
		with opa.runtime as with_token
}

test_allow_interop_consult_query if {
	authz.allow with input as {"method": "POST", "path": ["v1", "data", "hipaa", "interop", "consult"], "params": {}}
		with opa.runtime as no_token
}

test_allow_consent_findings_query if {
	authz.allow with input as {"method": "POST", "path": ["v1", "data", "hipaa", "consents", "findings"], "params": {}}
		with opa.runtime as no_token
}

test_deny_interop_package_read if {
	not authz.allow with input as {"method": "GET", "path": ["v1", "data", "hipaa", "interop"], "params": {}}
}
