"""Every error is a JSON answer with a fixed code; nothing ever yields a stack trace."""

from __future__ import annotations

import io
import json

import pytest

from tests.conftest import request_body

DECIDE = "/v1/disclosures/decide"


def error_of(resp, status, code):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Traceback" not in resp.get_data(as_text=True)
    assert resp.headers["X-Request-ID"]
    return body["error"]


def post_chunked(client, raw, content_type="application/json", coding="chunked"):
    """POST ``raw`` as gunicorn hands a chunked body on: no length, input terminated."""
    return client.post(
        DECIDE,
        input_stream=io.BytesIO(raw),
        headers={"Content-Type": content_type, "Transfer-Encoding": coding},
        environ_overrides={"wsgi.input_terminated": True},
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"",
        b"not json",
        b'{"purpose": NaN}',
        b'{"purpose": Infinity}',
        b'{"purpose": -Infinity}',
        b'{"purpose": "treatment", "purpose": "payment"}',
        b'{"patient": {"id": "a", "id": "b"}}',
        b'{"purpose": "\xff\xfe"}',
        b"\xef\xbb\xbf{}",
        b"[" * 50_000,
        b'{"a": 1} trailing',
    ],
)
def test_not_json_is_invalid_json(client, raw):
    resp = client.post(DECIDE, data=raw, content_type="application/json")
    error_of(resp, 400, "invalid_json")


def test_invalid_request_lists_every_problem(client):
    body = request_body(purpose="gossip", extra=True)
    body["requester"].pop("mfa")
    resp = client.post(DECIDE, json=body)
    error = error_of(resp, 400, "invalid_request")
    assert [d["path"] for d in error["details"]] == ["/extra", "/purpose", "/requester/mfa"]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
        "application/jsonx",
        None,
    ],
)
def test_wrong_media_type_is_415(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    resp = client.post(DECIDE, data=json.dumps(request_body()), headers=headers)
    error_of(resp, 415, "unsupported_media_type")


def test_charset_utf8_is_accepted(client):
    resp = client.post(
        DECIDE,
        data=json.dumps(request_body(purpose="nope")),
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )
    error_of(resp, 400, "invalid_request")


def test_body_over_the_limit_is_413_before_parsing(app_factory):
    client = app_factory(MAX_BODY_BYTES=1024).test_client()
    raw = b'{"x": "' + b"a" * 2000 + b'"'  # not even valid JSON: the size check comes first
    resp = client.post(DECIDE, data=raw, content_type="application/json")
    error_of(resp, 413, "request_too_large")


def test_default_limit_is_64_kib(client):
    filler = "a" * (64 * 1024)
    raw = json.dumps(request_body(request_id=filler)).encode()
    resp = client.post(DECIDE, data=raw, content_type="application/json")
    error_of(resp, 413, "request_too_large")


def test_chunked_body_over_the_limit_is_413(app_factory):
    client = app_factory(MAX_BODY_BYTES=1024).test_client()
    raw = b'{"x": "' + b"a" * 5000 + b'"}'
    resp = post_chunked(client, raw)
    error_of(resp, 413, "request_too_large")


def test_chunked_body_at_the_limit_is_read_whole(app_factory):
    raw = json.dumps(request_body(purpose="nope")).encode()
    client = app_factory(MAX_BODY_BYTES=len(raw)).test_client()
    resp = post_chunked(client, raw)
    error_of(resp, 400, "invalid_request")


def test_chunked_body_over_the_limit_is_413_whatever_its_media_type(app_factory):
    # Size comes before media type (docs/api.md), also when only reading tells the size.
    client = app_factory(MAX_BODY_BYTES=1024).test_client()
    resp = post_chunked(client, b"a" * 5000, "text/plain")
    error_of(resp, 413, "request_too_large")
    small = post_chunked(client, b"a" * 10, "text/plain")
    error_of(small, 415, "unsupported_media_type")


@pytest.mark.parametrize("coding", ["gzip, chunked", "deflate, chunked", "x-gzip, chunked"])
def test_a_transfer_coding_left_undone_is_501(client, coding):
    # gunicorn undoes only the chunking and passes the still-encoded body on.
    resp = post_chunked(client, json.dumps(request_body()).encode(), coding=coding)
    error_of(resp, 501, "not_implemented")


def test_identity_then_chunked_is_read_as_chunked(client):
    resp = post_chunked(
        client, json.dumps(request_body(purpose="nope")).encode(), coding="identity, chunked"
    )
    error_of(resp, 400, "invalid_request")


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ("patient_id", "/patient/id"),
        ("user_id", "/requester/user_id"),
        ("key", "/context/k\\ud800"),
    ],
)
def test_a_lone_surrogate_is_invalid_json_naming_the_string(client, where, path):
    raw = json.dumps(request_body())
    if where == "patient_id":
        raw = raw.replace('"p-test-0001"', '"p-test-\\ud800"')
    elif where == "user_id":
        raw = raw.replace('"u-102"', '"u-\\udfff-102"')
    else:
        raw = raw[:-1] + ', "context": {"k\\ud800": true}}'
    error = error_of(
        client.post(DECIDE, data=raw, content_type="application/json"), 400, "invalid_json"
    )
    assert error["details"] == [{"path": path, "message": "not Unicode text (lone surrogate)"}]


def test_a_surrogate_pair_is_ordinary_text(client):
    raw = json.dumps(request_body()).replace(
        '"Test Cardiology"', '"Test \\ud83e\\udec0 Cardiology"'
    )
    resp = client.post(DECIDE, data=raw, content_type="application/json")
    assert resp.status_code == 200, resp.get_data(as_text=True)


def test_unknown_path_is_json_404(client):
    error_of(client.get("/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_json_405_with_allow(client):
    resp = client.get(DECIDE)
    error_of(resp, 405, "method_not_allowed")
    assert "POST" in resp.headers["Allow"]
    error_of(client.delete("/healthz"), 405, "method_not_allowed")


def test_unexpected_exception_is_a_bare_500_and_logs_no_message(app_factory, capfd):
    app = app_factory()

    def boom():
        raise ValueError("p-test-0001 must never be echoed")

    app.add_url_rule("/boom", "boom", boom)
    resp = app.test_client().get("/boom")
    error = error_of(resp, 500, "internal_error")
    assert "p-test-0001" not in resp.get_data(as_text=True)
    assert error["details"] == []
    out, err = capfd.readouterr()
    logged = [json.loads(line) for line in out.splitlines() if '"internal_error"' in line]
    assert logged
    assert logged[0]["exc_type"] == "ValueError"
    assert "p-test-0001" not in out + err


class TestBearerTokens:
    TOKENS = "tok-alpha-000000000001,tok-beta-000000000002"

    @pytest.fixture
    def authed(self, app_factory):
        return app_factory(API_TOKENS=self.TOKENS).test_client()

    def test_missing_token_is_401(self, authed):
        resp = authed.post(DECIDE, json=request_body())
        error_of(resp, 401, "unauthorized")
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(
        "header",
        [
            "Bearer tok-alpha-00000000000",
            "Bearer tok-alpha-000000000001x",
            "Basic tok-alpha-000000000001",
            "tok-alpha-000000000001",
            "Bearer ",
            "Bearer tok-alpha-000000000001,tok-beta-000000000002",
        ],
    )
    def test_wrong_token_is_401(self, authed, header):
        resp = authed.post(DECIDE, json=request_body(), headers={"Authorization": header})
        error_of(resp, 401, "unauthorized")

    @pytest.mark.parametrize("token", ["tok-alpha-000000000001", "tok-beta-000000000002"])
    def test_each_configured_token_passes(self, authed, token):
        resp = authed.post(
            DECIDE, json=request_body(purpose="x"), headers={"Authorization": f"Bearer {token}"}
        )
        error_of(resp, 400, "invalid_request")  # got past auth to validation

    def test_other_v1_endpoints_need_the_token_too(self, authed):
        error_of(authed.get("/v1/state-laws/CA"), 401, "unauthorized")
        error_of(authed.get("/v1/business-associates/findings"), 401, "unauthorized")
        error_of(authed.post("/v1/breach-notifications/plan", json={}), 401, "unauthorized")

    def test_operations_endpoints_stay_open(self, authed):
        assert authed.get("/healthz").status_code == 200
        assert authed.get("/metrics").status_code == 200
        assert authed.get("/openapi.json").status_code == 200
        assert authed.get("/readyz").status_code in (200, 503)

    def test_token_file(self, app_factory, tmp_path):
        path = tmp_path / "tokens"
        path.write_text("# gateway tokens\n\ntok-file-000000000003\n", encoding="utf-8")
        client = app_factory(API_TOKENS=f"@{path}").test_client()
        ok = {"Authorization": "Bearer tok-file-000000000003"}
        error_of(client.post(DECIDE, json={}, headers=ok), 400, "invalid_request")
        bad = {"Authorization": "Bearer # gateway tokens"}
        error_of(client.post(DECIDE, json={}, headers=bad), 401, "unauthorized")

    def test_tokens_are_kept_only_as_hashes(self, app_factory):
        app = app_factory(API_TOKENS=self.TOKENS)
        stored = app.extensions["hipaa_gate"].config["API_TOKENS"]
        assert len(stored) == 2
        assert all(isinstance(t, bytes) and len(t) == 32 for t in stored)
        assert b"tok-alpha" not in b"".join(stored)


def test_every_response_carries_a_request_id(client):
    for resp in (client.get("/healthz"), client.get("/nope"), client.post(DECIDE, json={})):
        assert resp.headers["X-Request-ID"]
