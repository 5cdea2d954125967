"""``hipaa-gate serve`` and ``hipaa-gate decide`` as real processes (OPA + gunicorn)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from service.opa.sidecar import free_port
from service.records.patient_ref import DEVELOPMENT_KEY, patient_ref
from tests.conftest import read_log, request_body

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).parent / "hipaa-gate")
REPO = Path(__file__).resolve().parent.parent


def this_checkout_first(env: dict[str, str]) -> dict[str, str]:
    """``env`` with this checkout first on PYTHONPATH: the CLI (an editable install, maybe of
    another checkout of the repo) then runs the ``service`` package these tests belong to."""
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


LEAK_ID = "p-test-leak-7f3a9c"


def marked_pids(marker: str) -> set[int]:
    """Live processes whose environment carries ``marker`` (serve, OPA, gunicorn + workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.add(int(entry.name))
    return found


def wait_gone(marker: str, timeout: float = 15) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = marked_pids(marker)
        if not left:
            return left
        time.sleep(0.1)
    return marked_pids(marker)


class Served:
    def __init__(
        self,
        tmp_path: Path,
        *,
        port: int | None = None,
        opa_port: int | None = None,
        **env_overrides: str,
    ) -> None:
        self.marker = f"hipaa-gate-test-{uuid.uuid4()}"
        self.port = port or free_port()
        self.opa_port = opa_port or free_port()
        self.log_path = tmp_path / "decision-log.jsonl"
        self.out_path = tmp_path / "serve.out"
        self.err_path = tmp_path / "serve.err"
        env = {k: v for k, v in os.environ.items() if not k.startswith("HIPAA_GATE_")}
        env.update(
            HIPAA_GATE_OPA_BIN=os.environ.get("HIPAA_GATE_OPA_BIN", ""),
            HIPAA_GATE_BIND=f"127.0.0.1:{self.port}",
            HIPAA_GATE_OPA_ADDR=f"127.0.0.1:{self.opa_port}",
            HIPAA_GATE_BUILD_DIR=str(tmp_path / "build"),
            HIPAA_GATE_DECISION_LOG=str(self.log_path),
            HIPAA_GATE_DEV_MODE="1",
            HIPAA_GATE_WORKERS="2",
            HIPAA_GATE_THREADS="2",
            HIPAA_GATE_GRACEFUL_TIMEOUT="5",
            HIPAA_GATE_TEST_MARKER=self.marker,
        )
        if not env["HIPAA_GATE_OPA_BIN"]:
            del env["HIPAA_GATE_OPA_BIN"]
        env.update(env_overrides)
        self.env = this_checkout_first(env)
        self.url = f"http://127.0.0.1:{self.port}"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                [CLI, "serve"], env=env, stdout=out, stderr=err, cwd=tmp_path
            )

    def wait_ready(self, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                resp = requests.get(f"{self.url}/readyz", timeout=2)
                last = resp.json()
                if resp.status_code == 200:
                    return last
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"not ready: {last}\n{self.output()}")

    def output(self) -> str:
        return self.out_path.read_text(errors="replace") + self.err_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)

    def kill_all(self) -> None:
        for pid in marked_pids(self.marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def served(tmp_path):
    server = Served(tmp_path)
    yield server
    server.stop()
    server.kill_all()


def test_serve_runs_opa_and_gunicorn_and_stops_cleanly(served):
    ready = served.wait_ready()
    assert ready["status"] == "ready"
    pids = marked_pids(served.marker)
    assert len(pids) >= 4  # serve, OPA, gunicorn master, workers

    # OPA is on loopback and hardened: the shim's document answers, raw data does not.
    opa = f"http://127.0.0.1:{served.opa_port}"
    assert requests.get(f"{opa}/v1/data/config", timeout=5).status_code == 401

    body = request_body()
    body["patient"]["id"] = LEAK_ID
    resp = requests.post(f"{served.url}/v1/disclosures/decide", json=body, timeout=5)
    assert resp.status_code == 200, resp.text
    assert resp.json()["allow"] is True
    assert resp.json()["policy_revision"] == ready["policy_revision"]
    assert "Server" not in resp.headers or not any(c.isdigit() for c in resp.headers["Server"])

    # several workers x threads append to one log: every line whole, one per decision
    denied = request_body()
    denied["requester"]["mfa"] = False
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda _: requests.post(
                    f"{served.url}/v1/disclosures/decide", json=denied, timeout=10
                ),
                range(40),
            )
        )
    assert {a.status_code for a in answers} == {200}
    records = read_log(served.log_path)
    assert len(records) == 41
    assert {r["decision_id"] for r in records[1:]} == {a.json()["decision_id"] for a in answers}

    # metrics aggregate every worker (prometheus multiprocess mode)
    text = requests.get(f"{served.url}/metrics", timeout=5).text
    total = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("hipaa_gate_requests_total{") and 'endpoint="decide"' in line
    )
    assert total == 41

    # a chunked body over the limit is refused before parsing
    def chunks():
        yield b'{"request_id": "'
        for _ in range(80):
            yield b"a" * 1024
        yield b'"}'

    resp = requests.post(
        f"{served.url}/v1/disclosures/decide",
        data=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "request_too_large"

    assert served.stop() == 0
    assert wait_gone(served.marker) == set()

    # the raw patient id reached no output: decision log, stdout, stderr (OPA's and gunicorn's)
    log_text = served.log_path.read_text()
    assert patient_ref(DEVELOPMENT_KEY, LEAK_ID) in log_text
    everything = log_text + served.output()
    assert LEAK_ID not in everything
    access = [  # the access log is JSON: one parsed record per request
        json.loads(line)
        for line in served.out_path.read_text().splitlines()
        if '"http_access"' in line and '"/v1/disclosures/decide"' in line
    ]
    assert len(access) == 42  # 41 decisions and the 413, one line each
    fields = ["method", "path", "status", "bytes", "duration_us", "request_id"]
    for line in access:
        assert line["logger"] == "gunicorn.access"
        assert line["level"] == "info"
        assert set(line) - {"decision_id"} == {"event", "logger", "level", "timestamp", *fields}
        assert line["method"] == "POST"
        assert line["duration_us"].isdigit()
        assert line["bytes"].isdigit()
        assert line["timestamp"].endswith("Z")
    decided = {line["decision_id"]: line for line in access if line["status"] == "200"}
    for answer in answers:
        line = decided[answer.json()["decision_id"]]
        assert line["request_id"] == answer.headers["X-Request-ID"] == answer.json()["request_id"]
        assert line["bytes"] == str(len(answer.content))
    assert [line["status"] for line in access].count("413") == 1


def test_ctrl_c_stops_both(served):
    served.wait_ready()
    assert len(marked_pids(served.marker)) >= 4
    served.proc.send_signal(signal.SIGINT)
    assert served.proc.wait(30) == 0
    assert wait_gone(served.marker) == set()
    assert '"signal": "SIGINT"' in served.output()


def test_when_opa_dies_serve_stops_gunicorn_and_fails(served):
    served.wait_ready()
    opa_pids = [
        pid
        for pid in marked_pids(served.marker)
        if b"--server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert len(opa_pids) == 1
    os.kill(opa_pids[0], signal.SIGKILL)
    assert served.proc.wait(30) != 0
    assert wait_gone(served.marker) == set()


def test_serve_uses_a_remote_opa_without_starting_one(tmp_path, opa_server):
    server = Served(tmp_path, HIPAA_GATE_OPA_URL=opa_server.url)
    try:
        server.wait_ready()
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in marked_pids(server.marker)]
        assert not any(b"--server" in c for c in commands)
        assert server.stop() == 0
        assert wait_gone(server.marker) == set()
    finally:
        server.stop()
        server.kill_all()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"HIPAA_GATE_DEV_MODE": "0"}, "PATIENT_REF_KEY"),
        ({"HIPAA_GATE_KEEPALIVE": "75s"}, "HIPAA_GATE_KEEPALIVE"),
        ({"HIPAA_GATE_GRACEFUL_TIMEOUT": "ten"}, "HIPAA_GATE_GRACEFUL_TIMEOUT"),
    ],
)
def test_serve_refuses_a_bad_configuration_before_starting_anything(tmp_path, env, named):
    server = Served(tmp_path, **env)
    try:
        assert server.proc.wait(30) == 2
        assert named in server.output()
        assert wait_gone(server.marker) == set()
    finally:
        server.kill_all()


def run_decide(args, stdin: bytes, tmp_path: Path, **env_extra: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIPAA_GATE_")}
    if os.environ.get("HIPAA_GATE_OPA_BIN"):
        env["HIPAA_GATE_OPA_BIN"] = os.environ["HIPAA_GATE_OPA_BIN"]
    env.update(
        HIPAA_GATE_DEV_MODE="1",
        HIPAA_GATE_DECISION_LOG=str(tmp_path / "cli-log.jsonl"),
        HIPAA_GATE_BUILD_DIR=str(tmp_path / "build"),
        **env_extra,
    )
    return subprocess.run(
        [CLI, "decide", *args],
        input=stdin,
        env=this_checkout_first(env),
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_decide_cli_with_a_running_opa(tmp_path, opa_server):
    denied = request_body()
    denied["requester"]["mfa"] = False
    result = run_decide(
        ["-"], json.dumps(denied).encode(), tmp_path, HIPAA_GATE_OPA_URL=opa_server.url
    )
    assert result.returncode == 1, result.stderr
    answer = json.loads(result.stdout)  # stdout holds exactly the decision
    assert answer["allow"] is False
    assert "MFA_REQUIRED" in {r["code"] for r in answer["reasons"]}
    assert b"disclosure_decision" in result.stderr
    (record,) = read_log(tmp_path / "cli-log.jsonl")
    assert record["decision_id"] == answer["decision_id"]


def test_decide_cli_starts_its_own_opa(tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request_body()), encoding="utf-8")
    result = run_decide([str(path)], b"", tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["allow"] is True


def test_decide_cli_reports_invalid_requests(tmp_path, opa_server):
    result = run_decide(["-"], b'{"purpose": 1}', tmp_path, HIPAA_GATE_OPA_URL=opa_server.url)
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["code"] == "invalid_request"


def test_serve_with_an_opa_token_makes_opa_demand_it(tmp_path):
    """HIPAA_GATE_OPA_TOKEN: serve starts OPA with --authentication=token and the token in its
    environment; the shim (gunicorn) sends it, anything else gets 401 from OPA itself."""
    from tests.test_opa_hardening import OPA_TEST_TOKEN, proc_environ

    port = free_port()
    with socket.socket() as held:  # keep the first port from being handed out twice
        held.bind(("127.0.0.1", port))
        opa_port = free_port()
    server = Served(tmp_path, port=port, opa_port=opa_port, HIPAA_GATE_OPA_TOKEN=OPA_TEST_TOKEN)
    try:
        assert server.wait_ready()["status"] == "ready"  # the shim's probe query got through
        resp = requests.post(f"{server.url}/v1/disclosures/decide", json=request_body(), timeout=5)
        assert resp.status_code == 200, resp.text
        assert resp.json()["allow"] is True
        opa = f"http://127.0.0.1:{server.opa_port}/v1/data/hipaa/decision"
        for headers in ({}, {"Authorization": "Bearer tok-opa-test-wrong"}):
            assert (
                requests.post(opa, json={"input": {}}, headers=headers, timeout=5).status_code
                == 401
            )
        auth = {"Authorization": f"Bearer {OPA_TEST_TOKEN}"}
        assert requests.post(opa, json={"input": {}}, headers=auth, timeout=5).status_code == 200
        opa_pids = [
            pid
            for pid in marked_pids(server.marker)
            if b"--server" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert len(opa_pids) == 1
        cmdline = Path(f"/proc/{opa_pids[0]}/cmdline").read_bytes().split(b"\0")
        assert b"--authentication=token" in cmdline
        assert OPA_TEST_TOKEN.encode() not in b" ".join(cmdline)
        assert proc_environ(opa_pids[0])["HIPAA_GATE_OPA_TOKEN"] == OPA_TEST_TOKEN
        assert OPA_TEST_TOKEN not in server.output()
        assert server.stop() == 0
        assert wait_gone(server.marker) == set()
    finally:
        server.stop()
        server.kill_all()
