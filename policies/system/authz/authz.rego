# METADATA
# title: OPA API authorization for the hipaa-gate sidecar
# description: |
#   Evaluated by OPA (--authorization=basic) for every request to its REST API.
#   The sidecar answers only the policy queries the shim makes and health checks;
#   policy and data writes, ad-hoc queries, config, status and reads of raw data
#   are refused. Bundle ownership refuses policy and data writes a second time.
#   When OPA's own environment holds a non-empty HIPAA_GATE_OPA_TOKEN (the sidecar
#   then runs with --authentication=token), a query must also carry that token as
#   its bearer token (input.identity). The token never enters the bundle: it is
#   read from the OPA process's environment through opa.runtime().
package system.authz

# The documents the shim may evaluate (POST /v1/data/<path> with an input).
queryable_paths := {
	["v1", "data", "hipaa", "decision"],
	["v1", "data", "hipaa", "breach", "plan"],
	["v1", "data", "hipaa", "vendors", "findings"],
	["v1", "data", "hipaa", "state", "law"],
	["v1", "data", "hipaa", "state", "laws"],
	["v1", "data", "hipaa", "interop", "consult"],
	["v1", "data", "hipaa", "consents", "findings"],
	["v1", "data", "hipaa", "authorization_forms", "requirements"],
}

default allow := false

# Query parameters such as explain, metrics, instrument or provenance would expose
# evaluation internals and policy text: the shim never sends any, so none are allowed.
allow if {
	input.method == "POST"
	input.path in queryable_paths
	count(input.params) == 0
	authenticated
}

# Health, optionally with ?bundles (the bundles have been activated). No token is needed:
# it tells only whether OPA is up with its bundle, and the kubelet probes it (on the
# diagnostic listener, which this policy guards too) without a secret.
allow if {
	input.method == "GET"
	input.path == ["health"]
	object.keys(input.params) in {set(), {"bundles"}}
}

# The bearer token the sidecar was started with; unset or empty: no token is required.
# OPA sets input.identity only under --authentication=token, so a token configured
# without that flag refuses every query (fail closed).
token := object.get(opa.runtime(), ["env", "HIPAA_GATE_OPA_TOKEN"], "")

authenticated if token == ""

authenticated if {
	token != ""
	input.identity == token
}
