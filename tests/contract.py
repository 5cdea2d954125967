"""Field lists fixed by the decision API contract (docs/api.md), for tests."""

# Contract §5: the decision log record has exactly these fields
# (opa_decision_id "when OPA gives one").
LOG_FIELDS = {
    "timestamp",
    "event",
    "decision_id",
    "request_id",
    "opa_decision_id",
    "policy_revision",
    "requester",
    "patient_ref",
    "patient_state",
    "recipient",
    "purpose",
    "categories",
    "elements_permitted",
    "allow",
    "basis",
    "reasons",
    "obligations",
    "accountable",
    "latency_ms",
    "input",
}
# docs/interop.md §6: every record says where the request came from (`decide` or `cds-hooks`).
LOG_FIELDS |= {"source"}
# A CDS Hooks consult's record also names the hook instance, the consents relied on and the
# consent findings.
CDS_LOG_FIELDS = LOG_FIELDS | {"hook_instance", "consent_refs", "consent_findings"}
