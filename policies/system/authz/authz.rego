# METADATA
# title: OPA API authorization for the hipaa-gate sidecar
# description: |
#   Evaluated by OPA (--authorization=basic) for every request to its REST API.
#   The sidecar answers only the policy queries the shim makes and health checks;
#   policy and data writes, ad-hoc queries, config, status and reads of raw data
#   are refused. Bundle ownership refuses policy and data writes a second time.
package system.authz

# The documents the shim may evaluate (POST /v1/data/<path> with an input).
queryable_paths := {
	["v1", "data", "hipaa", "decision"],
	["v1", "data", "hipaa", "breach", "plan"],
	["v1", "data", "hipaa", "vendors", "findings"],
	["v1", "data", "hipaa", "state", "law"],
}

default allow := false

# Query parameters such as explain, metrics, instrument or provenance would expose
# evaluation internals and policy text: the shim never sends any, so none are allowed.
allow if {
	input.method == "POST"
	input.path in queryable_paths
	count(input.params) == 0
}

# Health, optionally with ?bundles (the bundles have been activated).
allow if {
	input.method == "GET"
	input.path == ["health"]
	object.keys(input.params) in {set(), {"bundles"}}
}
