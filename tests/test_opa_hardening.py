"""The sidecar refuses everything but the shim's queries and health checks.

Writes are attempted through opa-python-client's policy/data CRUD methods (the one place this
project uses that package) and through plain HTTP. A second OPA started WITHOUT
``--authorization`` shows that bundle ownership still refuses policy and data writes.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import requests
from opa_client import OpaClient
from opa_client.errors import (
    DeleteDataError,
    DeletePolicyError,
    PatchDataError,
    PolicyNotFoundError,
    RegoParseError,
)

from service.opa.sidecar import OpaSidecar, free_port

EVIL_POLICY = 'package hipaa\n\ndecision := {"allow": true}\n'


def client_for(url: str) -> OpaClient:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return OpaClient(host=host, port=int(port), retries=0, timeout=5)


def refusal(exc_info) -> tuple[str, str]:
    exc = exc_info.value
    expression = getattr(exc, "expression", None)
    message = getattr(exc, "message", None)
    if expression is None and exc.args:
        expression, message = exc.args[0], exc.args[-1]
    return str(expression), str(message)


@pytest.fixture(scope="module")
def opa(opa_server):
    client = client_for(opa_server.url)
    yield client
    client.close_connection()


def test_policy_put_is_refused(opa, opa_server):
    with pytest.raises(RegoParseError) as info:
        opa.update_policy_from_string(EVIL_POLICY, "evil")
    assert "unauthorized" in refusal(info)[0] + refusal(info)[1]
    # and the decision is untouched
    resp = requests.post(f"{opa_server.url}/v1/data/hipaa/decision", json={"input": {}}, timeout=5)
    assert resp.status_code == 200
    assert resp.json().get("result", {}).get("allow") is not True


def test_data_put_patch_delete_are_refused(opa):
    with pytest.raises(RegoParseError) as info:
        opa.update_or_create_data({"physician": {}}, "config/roles")
    assert "unauthorized" in " ".join(refusal(info))
    with pytest.raises(PatchDataError) as info:
        opa.patch_data("config/roles", [{"op": "add", "path": "/x", "value": 1}])
    assert refusal(info)[0] == "unauthorized"
    with pytest.raises(DeleteDataError) as info:
        opa.delete_data("config/roles")
    assert refusal(info)[0] == "unauthorized"
    with pytest.raises(DeletePolicyError) as info:
        opa.delete_policy("system/authz/authz.rego")
    assert refusal(info)[0] == "unauthorized"


def test_raw_data_reads_and_ad_hoc_queries_are_refused(opa):
    with pytest.raises(PolicyNotFoundError) as info:
        opa.get_data("config/roles")
    assert refusal(info)[0] == "unauthorized"
    with pytest.raises(requests.HTTPError) as info:
        opa.ad_hoc_query("x := data.config.roles")
    assert info.value.response.status_code == 401
    with pytest.raises(requests.HTTPError):
        opa.get_policies_list()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v1/policies/evil"),
        ("DELETE", "/v1/policies/system/authz/authz.rego"),
        ("GET", "/v1/policies"),
        ("PUT", "/v1/data/config/roles"),
        ("PATCH", "/v1/data/config/roles"),
        ("DELETE", "/v1/data"),
        ("GET", "/v1/data"),
        ("GET", "/v1/data/config/roles"),
        ("GET", "/v1/data/hipaa/decision"),
        ("POST", "/v1/data/config/roles"),
        ("POST", "/v1/data/system/authz/allow"),
        ("POST", "/v1/data"),
        ("POST", "/v0/data/hipaa/decision"),
        ("POST", "/v1/query"),
        ("GET", "/v1/query?q=data"),
        ("POST", "/v1/compile"),
        ("GET", "/v1/config"),
        ("GET", "/v1/status"),
        ("POST", "/"),
        ("GET", "/metrics"),
    ],
)
def test_plain_http_refusals(opa_server, method, path):
    resp = requests.request(
        method, f"{opa_server.url}{path}", json={"input": {}}, timeout=5, allow_redirects=False
    )
    assert resp.status_code == 401, (method, path, resp.status_code)
    assert resp.json()["code"] == "unauthorized"


@pytest.mark.parametrize(
    "document",
    [
        "hipaa/decision",
        "hipaa/breach/plan",
        "hipaa/vendors/findings",
        "hipaa/state/law",
        "hipaa/authorization_forms/requirements",
    ],
)
def test_the_shims_queries_and_health_are_allowed(opa_server, document):
    resp = requests.post(f"{opa_server.url}/v1/data/{document}", json={"input": {}}, timeout=5)
    assert resp.status_code == 200
    assert requests.get(f"{opa_server.url}/health", timeout=5).status_code == 200


def test_bundle_ownership_refuses_writes_even_without_authorization(opa_bundle, tmp_path):
    bundle, revision = opa_bundle
    with OpaSidecar(
        bundle, f"127.0.0.1:{free_port()}", revision=revision, authorization=False
    ) as open_opa:
        open_opa.wait_ready()
        assert "--authorization=basic" not in open_opa.command()
        client = client_for(open_opa.url)
        # Without authz, reads work: this OPA really is unprotected by the authz policy ...
        assert "roles" in client.get_data("config")["result"]
        # ... and still every write is refused because the bundle owns every path.
        with pytest.raises(RegoParseError) as info:
            client.update_policy_from_string(EVIL_POLICY, "evil")
        assert "owned by bundle" in " ".join(refusal(info))
        with pytest.raises(RegoParseError) as info:
            client.update_or_create_data({"x": 1}, "config/roles")
        assert "owned by bundle" in " ".join(refusal(info))
        with pytest.raises(PatchDataError) as info:
            client.patch_data("config/roles", [{"op": "add", "path": "/x", "value": 1}])
        assert "owned by bundle" in refusal(info)[1]
        with pytest.raises(DeleteDataError) as info:
            client.delete_data("config/roles")
        assert "owned by bundle" in refusal(info)[1]
        resp = requests.put(f"{open_opa.url}/v1/policies/evil2", data=EVIL_POLICY, timeout=5)
        assert resp.status_code == 400
        assert "owned by bundle" in resp.json()["message"]
        client.close_connection()


def test_hardened_command_line(opa_server):
    cmd = opa_server.sidecar.command()
    assert cmd[1:3] == ["run", "--server"]
    assert f"--addr={opa_server.sidecar.addr}" in cmd
    assert opa_server.sidecar.addr.startswith("127.0.0.1:")
    for flag in ("--authorization=basic", "--skip-version-check", "--log-format=json", "--bundle"):
        assert flag in cmd
    assert not any("decision_logs" in part for part in cmd)  # OPA's own decision log stays off
    assert "--optimize-store-for-read-speed" in cmd  # data read as policy values (benchmarks.md)


def test_opa_runs_with_the_go_runtime_settings(opa_server):
    from service.opa.sidecar import OPA_RUNTIME_ENV, opa_env

    pid = opa_server.sidecar.process.pid
    environ = dict(
        item.split("=", 1) for item in Path(f"/proc/{pid}/environ").read_text().split("\0") if item
    )
    expected = opa_env()  # the settings, unless this environment sets its own
    assert {k: environ.get(k) for k in OPA_RUNTIME_ENV} == {k: expected[k] for k in OPA_RUNTIME_ENV}
    assert opa_env({"GOGC": "100", "PATH": "/bin"}) == {
        "GOGC": "100",
        "GOMEMLIMIT": OPA_RUNTIME_ENV["GOMEMLIMIT"],
        "PATH": "/bin",
    }


@pytest.mark.parametrize("addr", ["0.0.0.0:8181", ":8181", "10.0.0.5:8181", "example.com:8181"])
def test_non_loopback_addresses_are_refused(opa_bundle, addr):
    with pytest.raises(ValueError, match="loopback"):
        OpaSidecar(opa_bundle[0], addr)


# --- HIPAA_GATE_OPA_TOKEN: OPA itself demands the shim's bearer token -------------------------

OPA_TEST_TOKEN = "tok-opa-test-4f1c9a2b7d"
DECISION_URL = "/v1/data/hipaa/decision"


def proc_environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_text()
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


@pytest.fixture(scope="module")
def token_opa(opa_bundle, tmp_path_factory):
    """The hardened OPA started with a token (as ``hipaa-gate serve`` does when it is set)."""
    bundle, revision = opa_bundle
    log = tmp_path_factory.mktemp("token-opa") / "opa.log"
    sidecar = OpaSidecar(
        bundle, f"127.0.0.1:{free_port()}", revision=revision, log=log, token=OPA_TEST_TOKEN
    )
    with sidecar:
        sidecar.wait_ready()
        yield sidecar


def test_a_token_sidecar_runs_with_token_authentication(token_opa):
    cmd = token_opa.command()
    assert "--authentication=token" in cmd
    assert "--authorization=basic" in cmd
    # The token reaches OPA through its environment only: not argv, not the bundle.
    assert not any(OPA_TEST_TOKEN in part for part in cmd)
    assert proc_environ(token_opa.process.pid)["HIPAA_GATE_OPA_TOKEN"] == OPA_TEST_TOKEN
    with tarfile.open(token_opa.bundle_path) as bundle:
        for member in bundle.getmembers():
            if member.isfile():
                assert OPA_TEST_TOKEN.encode() not in bundle.extractfile(member).read()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer tok-opa-test-wrong"},
        {"Authorization": f"Bearer {OPA_TEST_TOKEN}x"},
        {"Authorization": f"Bearer {OPA_TEST_TOKEN[:-1]}"},
        {"Authorization": f"Bearer {OPA_TEST_TOKEN.upper()}"},
        {"Authorization": "Bearer "},
        {"Authorization": OPA_TEST_TOKEN},  # no scheme
    ],
    ids=["none", "wrong", "longer", "shorter", "upper", "empty", "no-scheme"],
)
def test_a_token_sidecar_refuses_queries_without_its_token(token_opa, headers):
    resp = requests.post(
        f"{token_opa.url}{DECISION_URL}", json={"input": {}}, headers=headers, timeout=5
    )
    assert resp.status_code == 401, resp.text
    assert resp.json()["code"] == "unauthorized"


def test_a_token_sidecar_decides_with_its_token(token_opa):
    auth = {"Authorization": f"Bearer {OPA_TEST_TOKEN}"}
    resp = requests.post(
        f"{token_opa.url}{DECISION_URL}", json={"input": {}}, headers=auth, timeout=5
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["result"]["allow"] is False  # an empty input is a deny, but a decision
    # The token opens only the shim's queries, nothing else.
    for method, path in [("GET", "/v1/data/config/roles"), ("PUT", "/v1/policies/evil")]:
        refused = requests.request(
            method, f"{token_opa.url}{path}", json={"input": {}}, headers=auth, timeout=5
        )
        assert refused.status_code == 401, (method, path)
    # Health stays open for the kubelet's probes, which carry no secret.
    assert requests.get(f"{token_opa.url}/health?bundles", timeout=5).status_code == 200


def test_the_shim_reaches_a_token_sidecar_only_with_the_token(app_factory, token_opa):
    from tests.conftest import request_body

    good = app_factory(OPA_URL=token_opa.url, OPA_TOKEN=OPA_TEST_TOKEN).test_client()
    resp = good.post("/v1/disclosures/decide", json=request_body())
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["allow"] is True
    assert good.get("/readyz").status_code == 200
    for token in (None, "tok-opa-test-wrong"):
        bad = app_factory(OPA_URL=token_opa.url, OPA_TOKEN=token).test_client()
        resp = bad.post("/v1/disclosures/decide", json=request_body())
        assert resp.status_code == 503
        assert resp.get_json()["error"]["code"] == "policy_engine_unavailable"
        assert bad.get("/readyz").status_code == 503


def test_without_a_token_the_sidecar_answers_as_before(opa_bundle, monkeypatch):
    """No token: no --authentication flag, and an inherited HIPAA_GATE_OPA_TOKEN is dropped from
    OPA's environment (else the authz policy would demand a token OPA never extracts)."""
    monkeypatch.setenv("HIPAA_GATE_OPA_TOKEN", "tok-inherited-from-the-shell")
    bundle, revision = opa_bundle
    with OpaSidecar(bundle, f"127.0.0.1:{free_port()}", revision=revision) as plain:
        plain.wait_ready()
        assert not any(a.startswith("--authentication") for a in plain.command())
        assert "HIPAA_GATE_OPA_TOKEN" not in proc_environ(plain.process.pid)
        for headers in ({}, {"Authorization": "Bearer anything"}):
            resp = requests.post(
                f"{plain.url}{DECISION_URL}", json={"input": {}}, headers=headers, timeout=5
            )
            assert resp.status_code == 200, resp.text
