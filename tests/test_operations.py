"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import re

from service.opa.sidecar import free_port
from tests.conftest import request_body

DECIDE = "/v1/disclosures/decide"


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


def test_ready_with_opa_policies_and_log(client, opa_server):
    resp = client.get("/readyz")
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert body == {
        "status": "ready",
        "checks": {"opa": "ok", "policies": "ok", "decision_log": "ok"},
        "policy_revision": opa_server.revision,
    }


def test_not_ready_without_opa(app_factory):
    resp = app_factory(OPA_URL=f"http://127.0.0.1:{free_port()}").test_client().get("/readyz")
    body = resp.get_json()
    assert resp.status_code == 503
    assert body["status"] == "not_ready"
    assert body["checks"]["opa"] != "ok"
    assert body["checks"]["decision_log"] == "ok"


def test_not_ready_when_the_log_is_not_writable(app_factory, tmp_path):
    client = app_factory(DECISION_LOG=str(tmp_path / "missing" / "log.jsonl")).test_client()
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["decision_log"].startswith("decision log not writable")


def test_not_ready_after_a_failed_write_until_a_write_succeeds(app_factory, tmp_path):
    path = tmp_path / "logs" / "log.jsonl"
    path.parent.mkdir()
    client = app_factory(DECISION_LOG=str(path)).test_client()
    assert client.get("/readyz").status_code == 200
    path.unlink()
    path.parent.rmdir()  # the log directory is gone: the write fails
    assert client.post(DECIDE, json=request_body()).status_code == 503
    path.parent.mkdir()
    resp = client.get("/readyz")  # writable again, but a write just failed
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["decision_log"].startswith("decision log write failed")
    assert client.post(DECIDE, json=request_body()).status_code == 200
    assert client.get("/readyz").status_code == 200


def test_a_full_disk_makes_readiness_fail(app_factory):
    client = app_factory(DECISION_LOG="/dev/full").test_client()
    assert client.post(DECIDE, json=request_body()).status_code == 503
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert "log" in resp.get_json()["checks"]["decision_log"]


def test_not_ready_on_an_unexpected_policy_revision(app_factory):
    resp = app_factory(POLICY_REVISION="sha256-something-else").test_client().get("/readyz")
    assert resp.status_code == 503
    assert "not the expected one" in resp.get_json()["checks"]["policies"]


def test_metrics_count_outcomes_latency_and_failures(app_factory, client, tmp_path):
    before = client.get("/metrics").get_data(as_text=True)
    assert client.post(DECIDE, json=request_body()).status_code == 200
    denied = request_body()
    denied["requester"]["mfa"] = False
    assert client.post(DECIDE, json=denied).status_code == 200
    assert client.post(DECIDE, json={}).status_code == 400
    down = app_factory(OPA_URL=f"http://127.0.0.1:{free_port()}").test_client()
    assert down.post(DECIDE, json=request_body()).status_code == 503
    no_log = app_factory(DECISION_LOG="/dev/full").test_client()
    assert no_log.post(DECIDE, json=request_body()).status_code == 503

    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.mimetype == "text/plain"
    after = resp.get_data(as_text=True)

    def delta(name, **labels):
        return metric(after, name, **labels) - metric(before, name, **labels)

    counts = "hipaa_gate_requests_total"
    assert delta(counts, endpoint="decide", outcome="allow", code="200") == 1
    assert delta(counts, endpoint="decide", outcome="deny", code="200") == 1
    assert delta(counts, endpoint="decide", outcome="error", code="400") == 1
    assert delta(counts, endpoint="decide", outcome="error", code="503") == 2
    assert delta("hipaa_gate_request_seconds_count", endpoint="decide") == 5
    # two answered + the decision log failure case; the unreachable OPA never answered
    assert delta("hipaa_gate_opa_seconds_count", document="hipaa.decision") == 3
    errors = "hipaa_gate_opa_errors_total"
    assert delta(errors, document="hipaa.decision", kind="connection") == 1
    assert delta("hipaa_gate_decision_log_write_failures_total") == 1
    assert 'le="0.005"' in after
