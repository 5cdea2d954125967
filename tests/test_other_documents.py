"""The thin endpoints for the other policy documents (breach plan, state laws, BA findings)."""

from __future__ import annotations

import pytest

from service.opa.sidecar import free_port

PLAN = "/v1/breach-notifications/plan"


def test_breach_plan(client):
    resp = client.post(
        PLAN, json={"discovered_on": "2026-11-02", "affected": {"CA": 1200, "TX": 40}}
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    plan = resp.get_json()
    assert "errors" not in plan
    assert set(plan["states"]) == {"CA", "TX"}
    assert plan["earliest_deadline"]["date"] >= "2026-11-02"
    assert resp.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"affected": {"CA": 1}}, ["/discovered_on"]),
        ({"discovered_on": "2026-11-02", "affected": {"CA": -1}}, ["/affected/CA"]),
        ({"discovered_on": "2026-11-02", "affected": {"ca": 1}}, ["/affected/ca"]),
        ({"discovered_on": "2026-11-02", "affected": {}}, ["/affected"]),
        ({"discovered_on": "2026-11-02", "affected": {"CA": 1}, "x": 1}, ["/x"]),
        ({"discovered_on": 20261102, "affected": {"CA": 1}}, ["/discovered_on"]),
    ],
)
def test_breach_plan_shape_is_checked_in_python(client, body, paths):
    resp = client.post(PLAN, json=body)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert [d["path"] for d in error["details"]] == paths


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"discovered_on": "2026-02-30", "affected": {"CA": 1}}, "/discovered_on"),
        ({"discovered_on": "2026-11-02", "affected": {"ZZ": 1}}, "/affected/ZZ"),
    ],
)
def test_breach_plan_errors_from_the_policy_become_invalid_request(client, body, path):
    resp = client.post(PLAN, json=body)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert path in [d["path"] for d in error["details"]]
    assert all(set(d) == {"path", "message"} for d in error["details"])


@pytest.mark.parametrize("code", ["CA", "ca", "NY"])
def test_state_law_entry(client, code):
    resp = client.get(f"/v1/state-laws/{code}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["state"] == code.upper()


@pytest.mark.parametrize("code", ["ZZ", "XX", "CAL", "1A", "C"])
def test_unknown_state_is_404(client, code):
    resp = client.get(f"/v1/state-laws/{code}")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


def test_vendor_findings(client):
    resp = client.get("/v1/business-associates/findings")
    assert resp.status_code == 200
    findings = resp.get_json()
    assert isinstance(findings, list)
    vendors = {f["vendor_id"] for f in findings}
    assert {"ba-expired-vendor", "ba-pending-vendor"} <= vendors


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", PLAN, {"discovered_on": "2026-11-02", "affected": {"CA": 1}}),
        ("GET", "/v1/state-laws/CA", None),
        ("GET", "/v1/business-associates/findings", None),
    ],
)
def test_opa_down_is_503(app_factory, method, path, body):
    client = app_factory(OPA_URL=f"http://127.0.0.1:{free_port()}").test_client()
    resp = client.open(path, method=method, json=body)
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "policy_engine_unavailable"
