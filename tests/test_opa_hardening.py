"""The sidecar refuses everything but the shim's queries and health checks.

Writes are attempted through opa-python-client's policy/data CRUD methods (the one place this
project uses that package) and through plain HTTP. A second OPA started WITHOUT
``--authorization`` shows that bundle ownership still refuses policy and data writes.
"""

from __future__ import annotations

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

from service.sidecar import OpaSidecar, free_port

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
    ["hipaa/decision", "hipaa/breach/plan", "hipaa/vendors/findings", "hipaa/state/law"],
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
    from service.sidecar import OPA_RUNTIME_ENV, opa_env

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
