"""/openapi.json describes the real API: real responses validate against it, and a
property-based test finds no 500 and no non-JSON error."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from service.opa.sidecar import free_port
from tests.conftest import request_body

BASE = "urn:hipaa-gate:openapi"


@pytest.fixture(scope="module")
def spec(opa_server, tmp_path_factory):
    from service.app import create_app

    log = tmp_path_factory.mktemp("openapi") / "log.jsonl"
    app = create_app({"OPA_URL": opa_server.url, "DECISION_LOG": str(log), "DEV_MODE": True})
    return app.test_client().get("/openapi.json").get_json()


@pytest.fixture(scope="module")
def check(spec):
    registry = Registry().with_resource(BASE, DRAFT202012.create_resource(spec))

    def check_response(path: str, method: str, resp) -> None:
        operation = spec["paths"][path][method.lower()]
        responses = operation["responses"]
        status = str(resp.status_code)
        assert status in responses, f"{method} {path} answered {status}, not documented"
        content = responses[status].get("content", {})
        if resp.mimetype == "application/json":
            schema = content["application/json"]["schema"]
            ref = schema.get("$ref", None)
            target = {"$ref": BASE + ref} if ref else schema
            validator = Draft202012Validator(
                target, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
            errors = sorted(validator.iter_errors(resp.get_json()), key=str)
            assert not errors, [e.message for e in errors]
        else:
            assert resp.mimetype in content
        if "headers" in responses[status]:
            assert "X-Request-ID" in resp.headers

    return check_response


def test_document_is_openapi_31_and_covers_every_route(spec, app):
    assert spec["openapi"].startswith("3.1")
    routes = {
        (rule.rule.replace("<code>", "{state}"), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(p, m) for p, ops in spec["paths"].items() for m in ops}
    assert routes == documented
    Draft202012Validator.check_schema(spec["components"]["schemas"]["DecisionRequest"])
    assert spec["components"]["schemas"]["DecisionRequest"]["properties"]["purpose"]


def test_embedded_request_schema_is_the_file_in_the_repo(spec):
    from service.opa.input import load_schema

    assert spec["components"]["schemas"]["DecisionRequest"] == load_schema("request.schema.json")


def test_real_responses_match_the_document(client, app_factory, check):
    decide = "/v1/disclosures/decide"
    denied = request_body()
    denied["requester"]["mfa"] = False
    cases = [
        ("POST", decide, {"json": request_body()}),
        ("POST", decide, {"json": denied}),
        ("POST", decide, {"json": {"purpose": 1}}),
        ("POST", decide, {"data": "{", "content_type": "application/json"}),
        ("POST", decide, {"data": "x", "content_type": "text/plain"}),
        ("POST", decide, {"data": "x" * 70000, "content_type": "application/json"}),
        ("GET", decide, {"path": decide, "documented_as": "post"}),
        (
            "POST",
            "/v1/breach-notifications/plan",
            {"json": {"discovered_on": "2026-11-02", "affected": {"CA": 600}}},
        ),
        ("POST", "/v1/breach-notifications/plan", {"json": {"affected": {}}}),
        ("GET", "/v1/state-laws/{state}", {"path": "/v1/state-laws/CA"}),
        ("GET", "/v1/state-laws/{state}", {"path": "/v1/state-laws/ZZ"}),
        ("GET", "/v1/business-associates/findings", {}),
        ("GET", "/healthz", {}),
        ("GET", "/readyz", {}),
        ("GET", "/metrics", {}),
        ("GET", "/openapi.json", {}),
    ]
    for method, path, kwargs in cases:
        url = kwargs.pop("path", path)
        documented_as = kwargs.pop("documented_as", method)  # a 405 is listed on the real method
        check(path, documented_as, client.open(url, method=method, **kwargs))
    down = app_factory(OPA_URL=f"http://127.0.0.1:{free_port()}").test_client()
    check(decide, "POST", down.post(decide, json=request_body()))
    check("/readyz", "GET", down.get("/readyz"))
    check("/v1/state-laws/{state}", "GET", down.get("/v1/state-laws/CA"))
    authed = app_factory(API_TOKENS="tok-openapi-0000000001").test_client()
    check(decide, "POST", authed.post(decide, json=request_body()))
    no_log = app_factory(DECISION_LOG="/dev/full").test_client()
    check(decide, "POST", no_log.post(decide, json=request_body()))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    [
        "requester",
        "patient",
        "recipient",
        "purpose",
        "data",
        "authorizations",
        "context",
        "request_id",
        "now",
        "extra",
    ]
)


@st.composite
def mutated_requests(draw):
    body = request_body()
    for _ in range(draw(st.integers(0, 3))):
        target = draw(field_names)
        if draw(st.booleans()) and isinstance(body.get(target), dict) and body[target]:
            key = draw(st.sampled_from(sorted(body[target])))
            body[target][key] = draw(json_values)
        elif draw(st.booleans()):
            body.pop(target, None)
        else:
            body[target] = draw(json_values)
    return json.dumps(body).encode()


bodies = (
    mutated_requests() | json_values.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=200)
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "", "application/xml"]
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, content_type=content_types)
def test_no_input_yields_a_500_or_a_non_json_error(client, body, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    resp = client.post("/v1/disclosures/decide", data=body, headers=headers)
    assert resp.status_code in {200, 400, 413, 415}, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    answer = resp.get_json()
    if resp.status_code == 200:
        assert isinstance(answer["allow"], bool)
    else:
        assert set(answer) == {"error"}
        assert answer["error"]["code"] in {
            "invalid_json",
            "invalid_request",
            "request_too_large",
            "unsupported_media_type",
        }
