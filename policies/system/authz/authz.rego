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

allow if {
	input.method == "POST"
	input.path in queryable_paths
}

allow if {
	input.method == "GET"
	input.path == ["health"]
}
