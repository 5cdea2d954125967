"""Security properties of the running processes (what tests/test_opa_hardening.py and
tests/test_http_errors.py do not already prove in-process).

- Who listens where: the listening sockets of OPA and of every gunicorn process, read from
  /proc/net/tcp{,6}, are exactly the configured loopback address; another loopback address of
  this machine gets a refusal (a specific bind, not a wildcard). Non-loopback addresses of the
  machine are deliberately not dialled: traffic stays on the loopback range.
- OPA's REST API through URL tricks and query parameters: nothing but the plain decision query
  and health answers.
- API tokens on the real server: every /v1/* route, every way of presenting a wrong token, is a
  401 before the body is read, and leaves no decision record; the check is timing-safe.
- No raw patient id, token or HMAC key in any output of any process.
- No HMAC key, no start (gunicorn directly; `hipaa-gate serve` is covered by test_serve.py).
- No version banners in any response header, including gunicorn's own error pages.
"""

from __future__ import annotations

import ast
import base64
import json
import re
import secrets
import socket
from pathlib import Path

import pytest
import requests

from . import harness

pytestmark = pytest.mark.integration

SERVICE_DIR = harness.REPO / "service"
EQUALITY = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)


# ------------------------------------------------------------------------------ listening


def test_opa_and_shim_listen_on_one_loopback_socket_each(stack_factory):
    stack = stack_factory(workers=2)
    opa_sockets = harness.listening_sockets([stack.opa.pid])
    # One socket: the API on the configured loopback address (no diagnostic or pprof port).
    assert opa_sockets == {("127.0.0.1", stack.opa.port)}
    # The master and both workers (the second may still be booting when /readyz first answers).
    harness.wait_for(lambda: len(stack.shim.child_pids()) >= 3, 60, what="two workers")
    shim_pids = stack.shim.child_pids()
    assert harness.listening_sockets(shim_pids) == {("127.0.0.1", stack.shim.port)}
    for port in (stack.opa.port, stack.shim.port):
        assert harness.refused("127.0.0.2", port), f"port {port} answers on 127.0.0.2"
        assert not harness.refused("127.0.0.1", port)


# ------------------------------------------------------------------------------ OPA's API


def _raw_request(port: int, method: str, target: str, body: bytes = b'{"input": {}}'):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + body
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), payload


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("POST", "//v1/data/hipaa/decision"),
        ("POST", "/v1/data/hipaa/decision/../../config/roles"),
        ("POST", "/v1/data/hipaa/decision/%2e%2e/%2e%2e/config/roles"),
        ("POST", "/v1/data/hipaa%2Fdecision"),
        ("POST", "/v1/data/hipaa/./decision"),
        ("POST", "/v1/data/hipaa/decision/"),
        ("POST", "/v1/data/hipaa/decision/allow"),
        ("POST", "/v1/data/hipaa"),
        ("POST", "/V1/data/hipaa/decision"),
        ("POST", "http://127.0.0.1/v1/data/config/roles"),
        ("POST", "/v1/data/hipaa/decision;/../config"),
        ("GET", "/v1/data/hipaa/decision"),
        ("OPTIONS", "/v1/data/hipaa/decision"),
        ("GET", "/health/live"),
        ("GET", "/health/ready"),
        ("GET", "/debug/pprof"),
        ("GET", "/debug/pprof/heap"),
    ],
)
def test_opa_url_tricks_reach_nothing(opa_for_security, method, target):
    status, payload = _raw_request(opa_for_security.port, method, target)
    assert status in (301, 401, 404, 405), (status, payload[:200])
    assert b'"result"' not in payload


@pytest.mark.parametrize(
    "query",
    ["explain=full", "explain=debug", "explain=notes", "provenance", "instrument", "metrics"],
)
def test_opa_decision_query_refuses_debug_parameters(opa_for_security, query):
    """The allowed decision path must not become a window on policy internals: an evaluation
    trace (explain) walks the policy and its data, provenance names the OPA version and the
    bundle's path, instrument/metrics time the internals."""
    status, payload = _raw_request(
        opa_for_security.port, "POST", f"/v1/data/hipaa/decision?{query}"
    )
    assert status == 401, (status, payload[:200])
    for leak in (b"explanation", b"provenance", b"metrics"):
        assert leak not in payload


def test_opa_plain_decision_and_health_still_answer(opa_for_security):
    status, payload = _raw_request(opa_for_security.port, "POST", "/v1/data/hipaa/decision")
    assert status == 200
    assert b'"result"' in payload
    status, _ = _raw_request(opa_for_security.port, "GET", "/health?bundles", b"")
    assert status == 200


@pytest.fixture(scope="module")
def opa_for_security(rel_bundle, tmp_path_factory):
    opa = harness.Opa(
        rel_bundle[0], harness.free_port(), tmp_path_factory.mktemp("opa-sec") / "opa.log"
    )
    opa.start()
    yield opa
    opa.stop()


# ------------------------------------------------------------------------------ API tokens


def _v1_routes(stack: harness.Stack, tmp_path: Path) -> list[tuple[str, str]]:
    """Every (method, concrete path) under /v1/: the app's URL map and the served OpenAPI."""
    from service.app import create_app

    app = create_app(
        {"DEV_MODE": True, "DECISION_LOG": str(tmp_path / "unused.jsonl"), "OPA_URL": stack.opa.url}
    )
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/v1/"):
            path = re.sub(r"<[^>]+>", "CA", rule.rule)
            for method in rule.methods or ():
                routes.add((method, path))
    doc = requests.get(stack.url + "/openapi.json", timeout=30).json()
    for path, ops in doc["paths"].items():
        if path.startswith("/v1/"):
            for method in ops:
                routes.add((method.upper(), re.sub(r"\{[^}]+\}", "CA", path)))
    return sorted(routes)


def test_no_v1_call_succeeds_without_a_valid_token(stack_factory, tmp_path):
    good = [f"tok-{secrets.token_hex(16)}", f"tok-{secrets.token_hex(16)}"]
    sec = harness.Secrets(tokens=list(good))
    stack = stack_factory(secrets_=sec, env={"HIPAA_GATE_API_TOKENS": ",".join(good)})
    token = good[0]
    wrong = f"tok-{secrets.token_hex(16)}"
    sec.tokens.append(wrong)  # a presented token must not be logged either
    presented = [
        {},
        {"Authorization": f"Bearer {wrong}"},
        {"Authorization": f"Bearer {token}x"},
        {"Authorization": f"Bearer {token[:-1]}"},
        {"Authorization": f"Bearer {token.upper()}"},
        {"Authorization": "Bearer "},
        {"Authorization": token},
        {"Authorization": f"Token {token}"},
        {"Authorization": "Basic " + base64.b64encode(f"{token}:".encode()).decode()},
        {"X-Api-Key": token},
        {"Cookie": f"token={token}"},
    ]
    routes = _v1_routes(stack, tmp_path)
    assert ("POST", "/v1/disclosures/decide") in routes
    body = json.dumps(harness.valid_request(0, sec)).encode()
    calls = 0
    for method, path in routes:
        for headers in presented:
            for query in ("", f"?access_token={token}&token={token}"):
                r = requests.request(
                    method,
                    stack.url + path + query,
                    data=body if method in ("POST", "PUT", "PATCH") else None,
                    headers={"Content-Type": "application/json", **headers},
                    timeout=30,
                )
                calls += 1
                assert r.status_code == 401, (method, path, headers, query, r.status_code)
                if method != "HEAD":  # HEAD answers carry no body
                    payload = harness.strict_json_loads(r.content)
                    assert harness.check_error_shape(401, payload) == "unauthorized"
                assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert calls >= 5 * len(presented)

    # Refused before the body is read: bad JSON and oversized bodies are still 401.
    for raw in (b"{not json", b"[" * 10_000, b"x" * (70 * 1024)):
        r = requests.post(
            stack.url + "/v1/disclosures/decide",
            data=raw,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert r.status_code == 401, (r.status_code, r.text[:200])
    assert not stack.decision_log.exists() or stack.decision_log.read_bytes() == b"", (
        "an unauthenticated call left a decision record"
    )

    # The configured tokens work (both of them), with the scheme in any case.
    for tok, scheme in ((good[0], "Bearer"), (good[1], "bearer")):
        o = harness.decide(
            stack.url, harness.valid_request(0, sec), headers={"Authorization": f"{scheme} {tok}"}
        )
        assert o.status == 200, o.payload
        assert o.allowed
    assert len(harness.read_decision_log(stack.decision_log).records) == 2


def _function_defs(tree: ast.AST) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def test_token_check_is_timing_safe():
    """The Authorization header goes to a function that compares with compare_digest, and no
    code in service/ compares anything token-like with ==, != or `in`."""
    trees = {p: ast.parse(p.read_text(), str(p)) for p in sorted(SERVICE_DIR.rglob("*.py"))}
    defs: dict[str, ast.FunctionDef] = {}
    for tree in trees.values():
        defs.update(_function_defs(tree))

    checkers = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name | ast.Attribute)
                and any("Authorization" in ast.unparse(a) for a in node.args)
            ):
                name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                checkers.add(name)
    checkers.discard("get")
    assert checkers, "no function receives the Authorization header"
    for name in checkers:
        fn = defs[name]
        calls = {ast.unparse(n.func) for n in ast.walk(fn) if isinstance(n, ast.Call)}
        assert calls & {"hmac.compare_digest", "secrets.compare_digest", "compare_digest"}, name
        assert not any(isinstance(n, ast.Return) and _short_circuits(n) for n in ast.walk(fn))

    token_like = re.compile(r"token|digest|secret|api_key", re.IGNORECASE)
    offenders = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) for o in operands):
                continue  # comparing with a literal (a scheme name, a config key) is not a secret
            equality = any(isinstance(op, EQUALITY) for op in node.ops)
            if equality and any(token_like.search(ast.unparse(o)) for o in operands):
                offenders.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, offenders


def _short_circuits(ret: ast.Return) -> bool:
    """``return compare_digest(...)`` inside a loop would stop at the first match."""
    return ret.value is not None and "compare_digest" in ast.unparse(ret.value)


# ------------------------------------------------------------------------------ secrets in output


def test_no_secret_reaches_any_output(stack_factory):
    tokens = [f"tok-{secrets.token_hex(16)}"]
    sec = harness.Secrets(tokens=list(tokens))
    stack = stack_factory(secrets_=sec, env={"HIPAA_GATE_API_TOKENS": tokens[0]})
    auth = {"Authorization": f"Bearer {tokens[0]}"}

    decided = [harness.valid_request(i, sec) for i in range(12)]
    outcomes = harness.run_load(stack.url, decided, clients=4, headers=auth)
    assert all(o.status == 200 for o in outcomes)

    def pid() -> str:
        p = harness.patient_id()
        sec.patient_ids.add(p)
        return p

    wrong = f"tok-{secrets.token_hex(16)}"
    sec.tokens.append(wrong)
    hostile = []
    b = harness.base_request(pid=pid())
    hostile.append((b, {"Authorization": f"Bearer {wrong}"}))  # 401 with a presented token
    b = harness.base_request(pid=pid())
    b["patient"]["state"] = "XX"
    hostile.append((b, auth))  # 400 naming /patient/state
    b = harness.base_request(pid=pid())
    b["recipient"]["type"] = pid()
    hostile.append((b, auth))  # 400 whose offending value is a patient id
    b = harness.base_request(pid=pid())
    b["data"]["elements"] = [pid()]
    hostile.append((b, auth))  # 400: unknown element
    b = harness.base_request(pid=pid())
    b["context"] = {"note": pid(), "rationale": pid()}
    hostile.append((b, auth))  # free text is redacted, unknown fields dropped
    b = harness.base_request(pid=pid())
    b["patient"]["id"] = [pid()]
    hostile.append((b, auth))  # wrong type for the id itself
    for body, headers in hostile:
        o = harness.decide(stack.url, body, headers=headers)
        assert o.status in (200, 400, 401), o
    # 413 and 415 with an id inside, and an id in the query string (not in the access log).
    big = harness.base_request(pid=pid())
    big["context"] = {"note": "x" * 70_000}
    r = requests.post(  # its own connection: a 413 must not take a pooled one down with it
        stack.url + "/v1/disclosures/decide",
        data=json.dumps(big),
        headers={"Content-Type": "application/json", **auth},
        timeout=30,
    )
    assert r.status_code == 413
    r = requests.post(
        stack.url + f"/v1/disclosures/decide?patient={pid()}",
        data=json.dumps(harness.base_request(pid=pid())),
        headers={"Content-Type": "text/plain", **auth},
        timeout=30,
    )
    assert r.status_code == 415
    # Failures: OPA down (503 + log record), then the shim keeps going.
    stack.opa.kill()
    down = harness.decide(stack.url, harness.base_request(pid=pid()), headers=auth)
    assert down.status == 503

    stack.stop()
    files = stack.captured_files()
    names = {p.name for p in files}
    assert stack.decision_log.name in names
    assert any(n.endswith(".stdout") for n in names)
    assert "opa.log" in names
    assert harness.scan_for_secrets(files, sec.needles()) == []
    # The scan looks in the right place: the pseudonyms of the decided patients are there.
    import hashlib
    import hmac

    key = sec.hmac_key.encode()
    refs = [hmac.new(key, b["patient"]["id"].encode(), hashlib.sha256).hexdigest() for b in decided]
    assert len(harness.scan_for_secrets([stack.decision_log], refs)) == len(refs)


# ------------------------------------------------------------------------------ start-up refusal


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"HIPAA_GATE_DEV_MODE": "0"},
        {"HIPAA_GATE_PATIENT_REF_KEY": ""},
        {"HIPAA_GATE_PATIENT_REF_KEY": "k-7f3a9c2e"},  # too short to be a key
    ],
    ids=["unset", "dev-mode-off", "empty", "short"],
)
def test_gunicorn_refuses_to_start_without_a_usable_hmac_key(tmp_path, env):
    shim = harness.Shim(
        tmp_path,
        {
            "HIPAA_GATE_OPA_URL": "http://127.0.0.1:9",
            "HIPAA_GATE_DECISION_LOG": str(tmp_path / "log.jsonl"),
            "HIPAA_GATE_WORKERS": "1",
            **env,
        },
    )
    shim.start(wait=None)
    try:
        code = shim.proc.wait(timeout=90)
    finally:
        shim.stop()
    assert code != 0
    out = shim.output()
    assert "HIPAA_GATE_PATIENT_REF_KEY" in out
    assert "k-7f3a9c2e" not in out
    assert shim.child_pids() == []
    assert harness.refused("127.0.0.1", shim.port)
    assert not (tmp_path / "log.jsonl").exists() or (tmp_path / "log.jsonl").stat().st_size == 0


def test_development_mode_starts_without_a_key_and_says_so(tmp_path, rel_bundle):
    opa = harness.Opa(rel_bundle[0], harness.free_port(), tmp_path / "opa.log").start()
    shim = harness.Shim(
        tmp_path,
        {
            "HIPAA_GATE_OPA_URL": opa.url,
            "HIPAA_GATE_DECISION_LOG": str(tmp_path / "log.jsonl"),
            "HIPAA_GATE_WORKERS": "1",
            "HIPAA_GATE_DEV_MODE": "1",
        },
    )
    sink = harness.Secrets()
    try:
        shim.start(wait="/readyz")
        o = harness.decide(shim.url, harness.valid_request(0, sink))
        assert o.status == 200
    finally:
        shim.stop()
        opa.stop()
    assert "development_patient_ref_key" in shim.output()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert harness.scan_for_secrets(files, sorted(sink.patient_ids)) == []


# ------------------------------------------------------------------------------ banners

VERSIONISH = re.compile(r"\d+\.\d+|/\s*v?\d")
FRAMEWORKS = re.compile(r"gunicorn|werkzeug|flask|python|structlog|opa", re.IGNORECASE)


def _assert_no_banner(headers, where: str) -> None:
    for name, value in headers.items():
        low = name.lower()
        assert low not in {"x-powered-by", "x-aspnet-version", "x-runtime", "via"}, (where, name)
        if low in {"server", "x-server", "x-generator"}:
            assert not VERSIONISH.search(value), (where, name, value)
        if FRAMEWORKS.search(value):
            assert not VERSIONISH.search(value), (where, name, value)


def test_no_version_banners_in_any_response(stack_factory):
    tokens = [f"tok-{secrets.token_hex(16)}"]
    stack = stack_factory(
        secrets_=harness.Secrets(tokens=tokens), env={"HIPAA_GATE_API_TOKENS": tokens[0]}
    )
    auth = {"Authorization": f"Bearer {tokens[0]}", "Content-Type": "application/json"}
    url = stack.url
    body = json.dumps(harness.valid_request(0, stack.secrets))
    seen_statuses = set()
    for method, path, data, headers in [
        ("POST", "/v1/disclosures/decide", body, auth),
        ("POST", "/v1/disclosures/decide", "{", auth),
        ("POST", "/v1/disclosures/decide", "x" * 70_000, auth),
        ("POST", "/v1/disclosures/decide", body, {**auth, "Content-Type": "text/plain"}),
        ("POST", "/v1/disclosures/decide", body, {}),
        ("GET", "/v1/disclosures/decide", None, auth),
        ("GET", "/nope", None, {}),
        ("GET", "/healthz", None, {}),
        ("GET", "/readyz", None, {}),
        ("GET", "/metrics", None, {}),
        ("GET", "/openapi.json", None, {}),
    ]:
        r = requests.request(method, url + path, data=data, headers=headers, timeout=30)
        seen_statuses.add(r.status_code)
        _assert_no_banner(r.headers, f"{method} {path} -> {r.status_code}")
    assert {200, 400, 401, 404, 405, 413, 415} <= seen_statuses

    # gunicorn's own answers (malformed request line, oversized request line, bad header).
    for raw in (
        b"GARBAGE\r\n\r\n",
        b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
    ):
        with socket.create_connection(("127.0.0.1", stack.shim.port), timeout=10) as sock:
            sock.sendall(raw)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, payload = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].split(" ")[1].startswith("4"), lines[0]
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        _assert_no_banner(headers, lines[0])
        assert not re.search(rb"gunicorn/?\s*v?\d", payload, re.IGNORECASE), payload[:200]
