"""Fail closed: no decision from OPA, or no decision log record, means 503 and never allow."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from service.opa.client import OpaClient, OpaError
from service.opa.sidecar import OpaSidecar, build_bundle, free_port
from service.paths import policy_dir
from tests.conftest import read_log, request_body

DECIDE = "/v1/disclosures/decide"

# A real OPA serving a deliberately broken decision document, keyed by purpose.
ODD_POLICY = """package hipaa

decision := {"allow": "yes"} if input.purpose == "payment"

decision := {"allow": true, "basis": [], "reasons": []} if input.purpose == "research"

decision := {"allow": true, "basis": [{"code": "X"}], "reasons": [{"code": "Y"}]} if {
	input.purpose == "training"
}

decision := ["not", "an", "object"] if input.purpose == "marketing"

decision := {"allow": true, "basis": "X", "reasons": []} if input.purpose == "hhs_compliance"

decision := {"allow": true, "basis": [{"code": "TREATMENT"}]} if input.purpose == "legal_defense"

decision := {"allow": false} if input.purpose == "sale_of_phi"

decision := {
	"allow": false, "basis": [], "reasons": [{"code": "NO_PERMISSION"}], "requirements": [],
	"obligations": [], "minimum_necessary": {}, "jurisdictions": [],
} if input.purpose == "public_health"
"""


@pytest.fixture(scope="module")
def odd_opa(tmp_path_factory):
    root = tmp_path_factory.mktemp("odd")
    policies = root / "policies"
    (policies / "system" / "authz").mkdir(parents=True)
    shutil.copy(policy_dir() / "system" / "authz" / "authz.rego", policies / "system" / "authz")
    (policies / "hipaa").mkdir()
    (policies / "hipaa" / "odd.rego").write_text(ODD_POLICY, encoding="utf-8")
    bundle, revision = build_bundle(policies, root / "build")
    with OpaSidecar(bundle, f"127.0.0.1:{free_port()}", revision=revision) as sidecar:
        sidecar.wait_ready()
        yield sidecar


class SilentPeer:
    """A TCP listener that accepts connections and never answers (a hung sidecar)."""

    def __init__(self, close_at_once: bool = False) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.close_at_once = close_at_once
        self.accepted = 0
        self.conns: list[socket.socket] = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            if self.close_at_once:
                conn.close()
            else:
                self.conns.append(conn)

    def close(self) -> None:
        self._stop = True
        self.thread.join()
        for conn in self.conns:
            conn.close()
        self.sock.close()


def assert_denied_503(resp, code):
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["error"]["code"] == code
    assert "allow" not in body
    assert "allow" not in resp.get_data(as_text=True)


def test_opa_unreachable_is_503_and_still_logged(app_factory, decision_log_path):
    client = app_factory(OPA_URL=f"http://127.0.0.1:{free_port()}").test_client()
    resp = client.post(DECIDE, json=request_body())
    assert_denied_503(resp, "policy_engine_unavailable")
    (record,) = read_log(decision_log_path)
    assert record["allow"] is False
    assert record["reasons"] == ["policy_engine_unavailable"]
    assert record["basis"] == []
    assert record["obligations"] == []
    assert record["request_id"] == "gw-test-0001"


def test_opa_read_timeout_is_503_without_a_retry(app_factory):
    peer = SilentPeer()
    try:
        client = app_factory(
            OPA_URL=f"http://127.0.0.1:{peer.port}", OPA_READ_TIMEOUT=0.3
        ).test_client()
        started = time.monotonic()
        resp = client.post(DECIDE, json=request_body())
        elapsed = time.monotonic() - started
        assert_denied_503(resp, "policy_engine_unavailable")
        assert peer.accepted == 1  # a read timeout is not retried
        assert elapsed < 5  # bounded by the read timeout, not hanging
    finally:
        peer.close()


def test_connection_error_is_retried_exactly_once(app_factory):
    peer = SilentPeer(close_at_once=True)
    try:
        client = app_factory(OPA_URL=f"http://127.0.0.1:{peer.port}").test_client()
        resp = client.post(DECIDE, json=request_body())
        assert_denied_503(resp, "policy_engine_unavailable")
        time.sleep(0.1)
        assert peer.accepted == 2
    finally:
        peer.close()


def test_client_reports_kinds():
    port = free_port()
    with pytest.raises(OpaError) as info:
        OpaClient(f"http://127.0.0.1:{port}").query("hipaa/decision", {})
    assert info.value.kind == "connection"
    peer = SilentPeer()
    try:
        with pytest.raises(OpaError) as info:
            OpaClient(f"http://127.0.0.1:{peer.port}", read_timeout=0.2).query("x", {})
        assert info.value.kind == "timeout"
    finally:
        peer.close()


@pytest.mark.parametrize(
    "purpose",
    [
        "treatment",
        "payment",
        "research",
        "training",
        "marketing",
        "hhs_compliance",
        "legal_defense",
        "sale_of_phi",
        "public_health",
    ],
    ids=[
        "undefined",
        "allow-not-boolean",
        "allow-without-basis",
        "allow-with-reasons",
        "not-an-object",
        "basis-not-a-list",
        "allow-missing-contract-fields",
        "bare-deny",
        "no-policy-revision",
    ],
)
def test_unusable_decision_from_a_real_opa_is_503(app_factory, odd_opa, decision_log_path, purpose):
    client = app_factory(OPA_URL=odd_opa.url, POLICY_REVISION=None).test_client()
    resp = client.post(DECIDE, json=request_body(purpose=purpose))
    assert_denied_503(resp, "policy_engine_unavailable")
    (record,) = read_log(decision_log_path)
    assert record["allow"] is False


def test_opa_refusing_the_query_is_503(app_factory, opa_server):
    # Any path but the allowed documents is refused by the sidecar's authz policy (HTTP 401).
    client = app_factory(OPA_URL=f"{opa_server.url}/v1/data/nothing").test_client()
    assert_denied_503(client.post(DECIDE, json=request_body()), "policy_engine_unavailable")


def test_unwritable_decision_log_is_503_decision_log_unavailable(app_factory, capfd, opa_server):
    client = app_factory(DECISION_LOG="/dev/full").test_client()
    capfd.readouterr()
    resp = client.post(DECIDE, json=request_body())
    assert_denied_503(resp, "decision_log_unavailable")
    # the denial is still recorded where possible: on stdout
    out = capfd.readouterr().out
    records = [json.loads(line) for line in out.splitlines() if "disclosure_decision" in line]
    assert len(records) == 1
    assert records[0]["allow"] is False
    assert records[0]["reasons"] == ["decision_log_unavailable"]
    assert records[0]["basis"] == []
    # The policy did decide (it was not acted on): the record names the revision that decided.
    assert records[0]["policy_revision"] == opa_server.revision


def test_missing_log_directory_is_503(app_factory, tmp_path):
    client = app_factory(DECISION_LOG=str(tmp_path / "gone" / "log.jsonl")).test_client()
    assert_denied_503(client.post(DECIDE, json=request_body()), "decision_log_unavailable")


def test_log_recovers_when_the_directory_comes_back(app_factory, tmp_path):
    path = tmp_path / "later" / "log.jsonl"
    client = app_factory(DECISION_LOG=str(path)).test_client()
    assert_denied_503(client.post(DECIDE, json=request_body()), "decision_log_unavailable")
    Path(path.parent).mkdir()
    resp = client.post(DECIDE, json=request_body())
    assert resp.status_code == 200
    assert len(read_log(path)) == 1
