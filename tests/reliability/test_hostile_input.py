"""Hostile input against the real gunicorn + OPA stack: zero 500s, every error in contract shape.

Property-based fuzzing (hypothesis: arbitrary JSON, schema-shaped bodies from the request JSON
Schema, single-field mutations of a valid request, random bytes; schemathesis against the
served /openapi.json) plus hand-written attacks: deep nesting, huge arrays, wrong encodings,
duplicate keys, NaN/Infinity, control characters, oversized and chunked bodies.
"""

from __future__ import annotations

import contextlib
import copy
import json
import socket

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import harness

pytestmark = pytest.mark.integration

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
LIMIT = 64 * 1024
ALLOWED_STATUSES = {200, 400, 413, 415}


@pytest.fixture(scope="module")
def hostile(rel_bundle, tmp_path_factory):
    stack = harness.start_stack(
        tmp_path_factory.mktemp("hostile"), rel_bundle[0], workers=2, threads=4
    )
    yield stack
    stack.stop()
    # Whatever was thrown at it, the decision log holds only complete JSON records...
    log = harness.read_decision_log(stack.decision_log)
    assert not log.partial_tail
    for rec in log.records:
        harness.check_record(rec)
    # ...and no process printed a secret or a raw patient id we sent.
    leaks = harness.scan_for_secrets(stack.captured_files(), stack.secrets.needles())
    assert not leaks, leaks


def post(stack: harness.Stack, data: bytes, headers: dict[str, str] | None = None):
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    r = requests.post(stack.url + "/v1/disclosures/decide", data=data, headers=hdrs, timeout=30)
    return r.status_code, r.content


def check_answer(status: int, content: bytes, allowed=ALLOWED_STATUSES) -> object:
    """A decision or a contract-shaped error; never a 5xx, never a non-JSON body."""
    assert status in allowed, (status, content[:300])
    payload = harness.strict_json_loads(content)
    if status == 200:
        harness.check_decision_shape(payload)
    else:
        harness.check_error_shape(status, payload)
    return payload


def valid_body(stack: harness.Stack) -> dict:
    return harness.valid_request(0, stack.secrets)


# ------------------------------------------------------------------------------ properties

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)


@FUZZ
@given(value=json_values)
def test_arbitrary_json_is_rejected_in_shape(hostile, value):
    status, content = post(hostile, json.dumps(value).encode())
    payload = check_answer(status, content, {400})
    assert payload["error"]["code"] == "invalid_request"
    assert payload["error"]["details"], "invalid_request must name the problem"


@FUZZ
@given(raw=st.binary(max_size=300))
def test_random_bytes_are_rejected_in_shape(hostile, raw):
    status, content = post(hostile, raw)
    check_answer(status, content, {400})


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


_TEMPLATE = harness.base_request(pid="p-test-0001", rid="rel-mutation")
_PATHS = [p for p in _paths(_TEMPLATE) if p]


def _pointer(path) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


@FUZZ
@given(path=st.sampled_from(_PATHS), value=json_values)
def test_one_bad_field_is_named_by_its_path(hostile, path, value):
    body = copy.deepcopy(_TEMPLATE)
    target = body
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    status, content = post(hostile, json.dumps(body).encode())
    payload = check_answer(status, content, {200, 400})
    if status == 400:
        assert payload["error"]["code"] == "invalid_request"
        pointers = [d["path"] for d in payload["error"]["details"]]
        bad = _pointer(path)
        # The error names the mutated field, something inside it, or the object holding it.
        assert any(
            p == bad or p.startswith(bad + "/") or bad.startswith(p + "/") or p == ""
            for p in pointers
        ), (bad, pointers)


# ------------------------------------------------------------------------------ named attacks


def _decide_with(stack: harness.Stack, mutate) -> tuple[int, dict]:
    body = valid_body(stack)
    mutate(body)
    status, content = post(stack, json.dumps(body).encode())
    return status, check_answer(status, content)


def test_deep_nesting_is_a_400_not_a_crash(hostile):
    for depth in (10_000, 30_000):
        raw = b"[" * depth + b"]" * depth
        status, content = post(hostile, raw)
        payload = check_answer(status, content, {400})
        assert payload["error"]["code"] in {"invalid_json", "invalid_request"}
    # Deep but parseable nesting hidden in a field the schema ignores.
    body = valid_body(hostile)
    nested: object = "x"
    for _ in range(500):
        nested = {"a": nested}
    body["context"] = {"note": nested}
    status, content = post(hostile, json.dumps(body).encode())
    check_answer(status, content, {200, 400})


def test_huge_arrays_are_bounded(hostile):
    # Within the size limit: thousands of entries in a field the policy iterates.
    status, _ = _decide_with(hostile, lambda b: b["data"].update(categories=["general"] * 5000))
    assert status in (200, 400)
    status, _ = _decide_with(hostile, lambda b: b["data"].update(elements=["name"] * 5000))
    assert status in (200, 400)
    status, _ = _decide_with(hostile, lambda b: b["requester"].update(roles=["x"] * 6000))
    assert status == 400
    status, content = post(hostile, json.dumps([0] * 20_000).encode())
    assert check_answer(status, content, {400})["error"]["code"] == "invalid_request"
    # Over the limit: refused before it is parsed.
    status, content = post(hostile, json.dumps(["general"] * 20_000).encode())
    assert check_answer(status, content, {413})["error"]["code"] == "request_too_large"


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("utf-16", lambda s: s.encode("utf-16")),
        ("utf-32", lambda s: s.encode("utf-32")),
        ("latin-1 bytes", lambda s: s.replace("Valley", "Vall\u00e9e").encode("latin-1")),
        ("utf-8 BOM", lambda s: b"\xef\xbb\xbf" + s.encode()),
        (
            "overlong utf-8",
            lambda s: s.replace("Valley", "Vall\x00").encode().replace(b"\x00", b"\xc0\x80"),
        ),
        ("truncated utf-8", lambda s: s.encode()[:-1] + b"\xe2\x82"),
    ],
)
def test_wrong_encodings_are_invalid_json(hostile, name, encode):
    text = json.dumps(valid_body(hostile), ensure_ascii=False)
    status, content = post(hostile, encode(text))
    payload = check_answer(status, content, {400})
    assert payload["error"]["code"] == "invalid_json", name


def test_declared_non_utf8_charset_is_refused(hostile):
    raw = json.dumps(valid_body(hostile)).encode("utf-16")
    status, content = post(hostile, raw, {"Content-Type": "application/json; charset=utf-16"})
    assert check_answer(status, content, {415})["error"]["code"] == "unsupported_media_type"


def test_lone_surrogates_and_escaped_controls_keep_the_log_whole(hostile):
    before = len(harness.read_decision_log(hostile.decision_log).records)
    sent = 0
    for value in ("u-\ud800", "u-\udfff-x", "u-\u0000\u001f\u007f", "u-\u2028\u2029"):
        status, _ = _decide_with(hostile, lambda b, v=value: b["requester"].update(user_id=v))
        assert status in (200, 400)
        sent += status == 200
    # A line break inside a value must not split or forge a log line.
    forged = 'x"}\n{"event": "disclosure_decision", "allow": true, "decision_id": "forged'
    status, _ = _decide_with(hostile, lambda b: b.update(request_id=forged))
    assert status in (200, 400)
    sent += status == 200
    log = harness.read_decision_log(hostile.decision_log)
    assert len(log.records) == before + sent
    assert "forged" not in {r["decision_id"] for r in log.records}


def test_duplicate_keys_are_refused(hostile):
    body = json.dumps(valid_body(hostile))
    # The same key twice: a gateway reading the first and the shim the last must not disagree.
    raw = body[:-1] + ', "purpose": "marketing"}'
    status, content = post(hostile, raw.encode())
    assert check_answer(status, content, {400})["error"]["code"] == "invalid_json"
    raw = body.replace('"mfa": true', '"mfa": false, "mfa": true')
    status, content = post(hostile, raw.encode())
    assert check_answer(status, content, {400})["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("where", ["patient_age", "ignored_field", "top_level"])
def test_non_finite_constants_are_invalid_json(hostile, constant, where):
    status, content = post(hostile, _with_number(hostile, where, constant))
    assert check_answer(status, content, {400})["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1" * 5000])
@pytest.mark.parametrize("where", ["patient_age", "ignored_field", "top_level"])
def test_out_of_range_numbers_never_reach_policy_or_log(hostile, number, where):
    """JSON allows any number; one that overflows a float (or Python's int limit) must be
    refused where the schema types it, and may be accepted only where it is dropped."""
    before = len(harness.read_decision_log(hostile.decision_log).records)
    status, content = post(hostile, _with_number(hostile, where, number))
    allowed = {200, 400} if where == "ignored_field" else {400}
    check_answer(status, content, allowed)
    # Either way the log gained complete, strict JSON (no Infinity) only for a decision.
    log = harness.read_decision_log(hostile.decision_log)
    assert len(log.records) == before + (status == 200)


def _with_number(stack: harness.Stack, where: str, literal: str) -> bytes:
    body: object = valid_body(stack)
    if where == "patient_age":
        body["patient"]["age"] = "@@"  # type: ignore[index]
    elif where == "ignored_field":
        body["context"] = {"note": "@@"}  # type: ignore[index]
    else:
        body = "@@"
    return json.dumps(body).replace('"@@"', literal).encode()


def test_raw_control_characters_are_invalid_json(hostile):
    for ch in ("\x00", "\x01", "\x1b", "\n", "\x7f"):
        text = json.dumps(valid_body(hostile)).replace("Valley", "Val" + ch + "ley")
        status, content = post(hostile, text.encode())
        if ch == "\x7f":  # DEL is valid JSON; the schema may still refuse it in a name
            payload = check_answer(status, content, {200, 400})
            if status == 400:
                assert payload["error"]["code"] == "invalid_request"
                assert [d["path"] for d in payload["error"]["details"]] == ["/recipient/name"]
        else:
            assert check_answer(status, content, {400})["error"]["code"] == "invalid_json"


def test_oversized_body_with_content_length(hostile):
    body = valid_body(hostile)
    body["context"] = {"note": "x" * (LIMIT + 1)}
    status, content = post(hostile, json.dumps(body).encode())
    assert check_answer(status, content, {413})["error"]["code"] == "request_too_large"


def test_a_413_does_not_break_the_next_request_on_the_connection(hostile):
    """A gateway pools connections and streams bodies. The 413 comes back before the body is
    read; the server must then either announce `Connection: close` or go on serving the
    connection. Announcing keep-alive and then dropping it makes the gateway's NEXT request
    (unrelated and valid) fail with no answer at all."""
    port = hostile.shim.port
    big = b'{"x": "' + b"a" * (LIMIT + 4096) + b'"}'
    good = json.dumps(valid_body(hostile)).encode()

    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        first = harness.raw_decide_request(port, big)
        sock.sendall(first[:2048])  # headers and the start of the body; the rest streams later
        head = harness.read_one_response(sock)
        assert head is not None
        assert head.split(b" ")[1] == b"413", head
        headers = head.decode("latin-1").lower()
        if "connection: close" in headers:
            return  # announced: the client knows to open a new connection
        try:
            sock.sendall(first[2048:])
            sock.sendall(harness.raw_decide_request(port, good))
            nxt = harness.read_one_response(sock)
        except OSError as exc:
            nxt = f"{type(exc).__name__}".encode()
    assert nxt is not None, "413 said keep-alive, then the connection was dropped"
    assert nxt.split(b" ")[1] == b"200", nxt


def _raw_http(port: int, head: bytes, chunks: list[bytes], *, with_headers: bool = False):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        for c in chunks:
            try:
                sock.sendall(c)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered early and closed; read what it said
        data = b""
        while True:
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            data += part
    head_out, _, payload = data.partition(b"\r\n\r\n")
    status = int(head_out.split(b" ", 2)[1])
    headers = head_out.decode("latin-1").lower()
    if "transfer-encoding: chunked" in headers:
        payload = _dechunk(payload)
    return (status, payload, headers) if with_headers else (status, payload)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


def _chunked(payload: bytes, size: int = 4096) -> list[bytes]:
    parts = [payload[i : i + size] for i in range(0, len(payload), size)]
    return [b"%x\r\n%s\r\n" % (len(p), p) for p in parts] + [b"0\r\n\r\n"]


def _chunked_head(port: int) -> bytes:
    return (
        "POST /v1/disclosures/decide HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


def test_chunked_bodies_without_content_length(hostile):
    port = hostile.shim.port
    # Small and valid: decided like any other request (the positive control).
    small = json.dumps(valid_body(hostile)).encode()
    status, payload = _raw_http(port, _chunked_head(port), _chunked(small, 64))
    check_answer(status, payload, {200})
    # Over the limit with no Content-Length to refuse up front: cut off at the limit, 413.
    body = valid_body(hostile)
    body["context"] = {"note": "x" * (4 * LIMIT)}
    status, payload = _raw_http(port, _chunked_head(port), _chunked(json.dumps(body).encode()))
    assert check_answer(status, payload, {413})["error"]["code"] == "request_too_large"


def test_lying_content_length_is_refused_without_waiting(hostile):
    port = hostile.shim.port
    head = (
        "POST /v1/disclosures/decide HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 1000000000000\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    status, payload = _raw_http(port, head, [b"{}"])
    assert check_answer(status, payload, {413})["error"]["code"] == "request_too_large"


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        (None, 415),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("multipart/form-data; boundary=x", 415),
        ("application/json; charset=utf-8", 200),
    ],
)
def test_media_types(hostile, content_type, status):
    raw = json.dumps(valid_body(hostile)).encode()
    headers = {} if content_type is None else {"Content-Type": content_type}
    r = requests.post(
        hostile.url + "/v1/disclosures/decide",
        data=raw,
        headers=headers,
        timeout=30,
    )
    if content_type is None:
        assert "content-type" not in {k.lower() for k in r.request.headers}
    check_answer(r.status_code, r.content, {status})


@pytest.mark.parametrize(
    "raw", [b"", b" ", b"null", b"[]", b'"decide"', b"42", b"true", b"{}", b"{", b"{}}"]
)
def test_degenerate_bodies(hostile, raw):
    status, content = post(hostile, raw)
    assert check_answer(status, content, {400})["error"]["code"] in {
        "invalid_json",
        "invalid_request",
    }


def test_wrong_method_and_unknown_path_answer_in_shape(hostile):
    for method, path, status in [
        ("GET", "/v1/disclosures/decide", 405),
        ("PUT", "/v1/disclosures/decide", 405),
        ("DELETE", "/v1/disclosures/decide", 405),
        ("GET", "/v1/nope", 404),
        ("POST", "/../../etc/passwd", 404),
        ("GET", "/%00", 404),
    ]:
        r = requests.request(method, hostile.url + path, timeout=30)
        assert r.status_code == status, (method, path, r.status_code)
        harness.check_error_shape(status, harness.strict_json_loads(r.content))


# ------------------------------------------------------------------------------ schemathesis


def _rebase_refs(node, base: str):
    """``#/$defs/x`` inside an embedded schema resource -> ``#<base>/$defs/x``.

    The served document embeds the request JSON Schemas whole, each with its own ``$id``, so
    their local ``#/$defs/...`` references are relative to that schema (correct in JSON Schema
    2020-12). schemathesis resolves them against the document root instead and then cannot
    build a body at all. Rewriting them to document-absolute pointers changes no meaning.
    """
    if isinstance(node, dict):
        return {
            k: ("#" + base + v[1:])
            if k == "$ref" and isinstance(v, str) and v.startswith("#/")
            else _rebase_refs(v, base)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase_refs(v, base) for v in node]
    return node


def test_schemathesis_against_the_served_openapi(hostile):
    """Every operation of the served /openapi.json, fuzzed with schema-valid and schema-invalid
    data: no 5xx, every status/content type/body as the document says, invalid data refused."""
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import (
        content_type_conformance,
        negative_data_rejection,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    doc = requests.get(hostile.url + "/openapi.json", timeout=30).json()
    for name, sch in list(doc["components"]["schemas"].items()):
        if "$id" in sch:
            sch = dict(sch)
            sch.pop("$id")
            doc["components"]["schemas"][name] = _rebase_refs(sch, f"/components/schemas/{name}")
    schema = schemathesis.openapi.from_dict(doc)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    operations = [r.ok() for r in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "POST /v1/disclosures/decide",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /openapi.json",
    }
    failures: list[str] = []
    statuses: dict[str, list[int]] = {}
    for op in operations:
        has_input = bool(op.body) or any(True for _ in op.iter_parameters())
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if has_input else [])
        for mode in modes:
            extra = [negative_data_rejection] if mode is GenerationMode.NEGATIVE else []
            key = f"{op.method.upper()} {op.path} {mode.value}"
            seen = statuses.setdefault(key, [])
            with contextlib.suppress(AssertionError):  # recorded in failures
                _fuzz_operation(op, mode, hostile.url, checks + extra, failures, seen)
    assert not failures, "\n".join(failures)
    # Bodies were really generated: schema-valid decision requests got decisions.
    assert 200 in statuses["POST /v1/disclosures/decide positive"], statuses
    assert set(statuses["POST /v1/disclosures/decide negative"]) <= {400, 413, 415}, statuses


def _fuzz_operation(op, mode, base_url: str, checks: list, failures: list[str], seen: list[int]):
    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(base_url=base_url, timeout=30)
        seen.append(response.status_code)
        try:
            case.validate_response(response, checks=checks)
        except AssertionError as exc:  # schemathesis' failures are AssertionErrors
            failures.append(f"{op.method.upper()} {op.path} ({mode.value}): {str(exc)[:600]}")
            raise

    run()


# A synthetic marker in each refused head: it must be neither echoed to the client nor logged.
_MARK = b"SYNTHMARK7Q"
_MALFORMED_HEADS = {
    "request-line-over-limit": (
        b"GET /healthz?" + _MARK + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n",
        414,
        "uri_too_long",
        "request line",
    ),
    "too-many-headers": (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-M: "
        + _MARK
        + b"\r\n"
        + b"".join(b"X-H%d: v\r\n" % i for i in range(60)),
        431,
        "request_header_fields_too_large",
        "headers",
    ),
    "header-over-limit": (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + _MARK + b"b" * 9000 + b"\r\n",
        431,
        "request_header_fields_too_large",
        "headers",
    ),
    "content-length-and-chunked": (
        b"POST /v1/disclosures/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n",
        400,
        "invalid_request",
        "headers",
    ),
    "two-content-lengths": (
        b"POST /v1/disclosures/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Content-Length: 5\r\n",
        400,
        "invalid_request",
        "headers",
    ),
    "nul-in-method": (
        b"G\x00T /healthz?" + _MARK + b" HTTP/1.1\r\nHost: x\r\n",
        400,
        "invalid_request",
        None,
    ),
    "space-before-colon": (
        b"GET /healthz HTTP/1.1\r\nHost : " + _MARK + b"\r\n",
        400,
        "invalid_request",
        "headers",
    ),
    "unknown-http-version": (
        b"GET /healthz?" + _MARK + b" HTTP/9.9\r\nHost: x\r\n",
        400,
        "invalid_request",
        "HTTP version",
    ),
}


@pytest.mark.parametrize("case", sorted(_MALFORMED_HEADS))
def test_malformed_and_oversized_heads_are_refused(hostile, case):
    # gunicorn's limits (gunicorn_config: request line, header count and size) and its refusal of
    # ambiguous framing (request smuggling) and malformed heads, before the app sees anything;
    # the answer is the API's JSON error (service.server.worker), not gunicorn's HTML page.
    head, expected, code, part = _MALFORMED_HEADS[case]
    status, payload, headers = _raw_http(
        hostile.shim.port, head + b"Connection: close\r\n\r\n", [b"abcd"], with_headers=True
    )
    assert status == expected
    assert "content-type: application/json" in headers
    error = check_answer(status, payload, {expected})["error"]
    assert error["code"] == code
    if part is not None:
        assert error["details"] == [{"path": "", "message": f"the {part} cannot be accepted"}]
    assert _MARK not in payload
    # gunicorn's warning about the refusal keeps the kind of error, not the input or the client.
    stdout = hostile.shim.stdout()
    assert _MARK.decode() not in stdout
    assert "Invalid request from ip=" not in stdout
    refusals = [
        json.loads(line) for line in stdout.splitlines() if "Invalid request refused: " in line
    ]
    assert refusals
    # ...and no request id: the refused request has none (not the thread's previous one's).
    assert all("request_id" not in line for line in refusals), refusals[-1]
    status, _ = _raw_http(
        hostile.shim.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []
    )
    assert status == 200  # and the worker still answers
