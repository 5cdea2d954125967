"""Real-process harness for the reliability tests and the soak.

Starts the real OPA sidecar (``service.opa.sidecar``) and the shim under gunicorn
(``gunicorn -c gunicorn.conf.py``) on free loopback ports, captures every byte
they print into files, and offers the checks the tests share: decision log
parsing, exactly-once accounting, error-shape validation and the secret scan.
Nothing here is mocked; nothing here decides on its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.contract import LOG_FIELDS

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
GUNICORN = VENV_BIN / "gunicorn"
HIPAA_GATE = VENV_BIN / "hipaa-gate"

# The fixed error codes of the contract, by HTTP status (docs/api.md (errors)).
FIXED_ERROR_CODES = {
    400: {"invalid_json", "invalid_request"},
    401: {"unauthorized"},
    413: {"request_too_large"},
    415: {"unsupported_media_type"},
    503: {"policy_engine_unavailable", "decision_log_unavailable"},
}
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-JSON constant {name}")


def strict_json_loads(text: str | bytes) -> Any:
    """json.loads that refuses NaN/Infinity (RFC 8259 JSON, which Python's default is not)."""
    return json.loads(text, parse_constant=_reject_constant)


def free_port() -> int:
    from service.opa.sidecar import free_port as _free_port

    return _free_port()


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


# --------------------------------------------------------------------------------------------
# Synthetic requests


@dataclass
class Secrets:
    """Every secret-ish value a run used; none may ever appear in captured output."""

    hmac_key: str = field(default_factory=lambda: "rel-hmac-" + secrets.token_hex(16))
    tokens: list[str] = field(default_factory=list)
    patient_ids: set[str] = field(default_factory=set)

    def needles(self) -> list[str]:
        return [self.hmac_key, *self.tokens, *sorted(self.patient_ids)]


_RUN = secrets.token_hex(3)
_counter = iter(range(10**9))
_counter_lock = threading.Lock()


def next_serial() -> int:
    with _counter_lock:
        return next(_counter)


def patient_id() -> str:
    # Obviously synthetic, and unique enough that a substring hit in a log is a real leak.
    return f"p-test-{_RUN}-{next_serial():06d}"


def request_id() -> str:
    return f"rel-{_RUN}-{next_serial():06d}"


def base_request(pid: str | None = None, rid: str | None = None) -> dict:
    """A treatment disclosure to a provider: the contract's example request."""
    return {
        "request_id": rid or request_id(),
        "requester": {
            "user_id": "u-102",
            "roles": ["care_coordinator"],
            "mfa": True,
            "organization_id": "org-acme",
            "state": "CA",
        },
        "patient": {"id": pid or patient_id(), "state": "CA", "age": 54},
        "recipient": {
            "type": "provider",
            "id": "npi-0000000001",
            "name": "Valley Cardiology",
            "identity_verified": True,
            "state": "CA",
        },
        "purpose": "treatment",
        "data": {"categories": ["general"], "elements": ["problem_list", "medications"]},
    }


def _variant(kind: str, body: dict) -> dict:
    if kind == "treatment":
        return body
    if kind == "no_mfa":
        body["requester"]["mfa"] = False
    elif kind == "marketing":
        body["purpose"] = "marketing"
        body["recipient"]["type"] = "other"
    elif kind == "psychotherapy":
        body["data"]["categories"] = ["psychotherapy_notes"]
        body["data"].pop("elements")
    elif kind == "sud":
        body["data"]["categories"] = ["substance_use_disorder"]
        body["data"].pop("elements")
    elif kind == "payment":
        body["purpose"] = "payment"
        body["recipient"]["type"] = "health_plan"
        body["data"]["elements"] = ["billing_codes", "dates_of_service"]
    elif kind == "family":
        body["purpose"] = "family_involvement"
        body["recipient"] = {"type": "family", "id": "fam-0001", "name": "Synthetic Relative"}
        body["patient"].update({"present": True, "agrees": True, "objects": False})
        body["data"]["elements"] = ["general_condition"]
    elif kind == "state_hiv":
        body["data"]["categories"] = ["hiv"]
        body["patient"]["state"] = "NY"
    elif kind == "research":
        body["purpose"] = "research"
        body["recipient"]["type"] = "researcher"
        body["data"]["form"] = "deidentified"
    else:  # pragma: no cover - programming error
        raise ValueError(kind)
    return body


VALID_KINDS = (
    "treatment",
    "no_mfa",
    "marketing",
    "psychotherapy",
    "sud",
    "payment",
    "family",
    "state_hiv",
    "research",
)


def valid_request(i: int, sink: Secrets | None = None) -> dict:
    """The i-th request of a deterministic mixed stream of schema-valid requests."""
    body = _variant(VALID_KINDS[i % len(VALID_KINDS)], base_request())
    if sink is not None:
        sink.patient_ids.add(body["patient"]["id"])
    return body


# --------------------------------------------------------------------------------------------
# Responses and log records


def check_error_shape(status: int, payload: Any) -> str:
    """Assert the contract's error shape; return the code."""
    assert isinstance(payload, dict), f"{status}: error body is not an object: {payload!r}"
    assert set(payload) == {"error"}, f"{status}: unexpected top-level keys {sorted(payload)}"
    err = payload["error"]
    assert isinstance(err, dict), payload
    assert {"code", "message", "details"} <= set(err), f"{status}: error lacks fields: {err!r}"
    assert isinstance(err["code"], str), err
    assert SNAKE_CASE.match(err["code"]), f"error code not snake_case: {err['code']!r}"
    assert isinstance(err["message"], str), err
    assert err["message"].strip(), err
    assert isinstance(err["details"], list), err
    for needle in ("Traceback", 'File "', "Exception", "werkzeug", "site-packages"):
        assert needle not in json.dumps(payload), f"stack trace leaked into error: {payload!r}"
    if status in FIXED_ERROR_CODES and err["code"] not in FIXED_ERROR_CODES[status]:
        # Only the fixed codes may be used for the statuses the contract fixes.
        raise AssertionError(f"{status} with code {err['code']!r}")
    return err["code"]


def check_decision_shape(payload: Any) -> None:
    assert isinstance(payload, dict), payload
    assert isinstance(payload.get("allow"), bool), payload
    assert isinstance(payload.get("decision_id"), str), payload
    assert payload["decision_id"], payload
    for key in ("basis", "reasons", "requirements", "obligations", "jurisdictions"):
        assert isinstance(payload.get(key), list), (key, payload)
    assert isinstance(payload.get("minimum_necessary"), dict), payload
    assert isinstance(payload.get("policy_revision"), str), payload
    if payload["allow"]:
        assert payload["basis"], f"allow without a basis: {payload}"
        assert not payload["reasons"], f"allow with deny reasons: {payload}"


@dataclass
class LogFile:
    lines: list[str]  # raw lines, without the trailing newline
    records: list[dict]
    partial_tail: bool  # last line not terminated by a newline


def read_decision_log(path: Path) -> LogFile:
    raw = path.read_bytes() if path.exists() else b""
    text = raw.decode("utf-8")  # must be UTF-8: a decode error fails the caller
    partial = bool(text) and not text.endswith("\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    records = []
    for n, line in enumerate(lines, 1):
        try:
            rec = strict_json_loads(line)
        except ValueError as exc:
            raise AssertionError(f"{path}:{n}: not a JSON line ({exc}): {line[:200]!r}") from None
        assert isinstance(rec, dict), f"{path}:{n}: not an object"
        records.append(rec)
    return LogFile(lines=lines, records=records, partial_tail=partial)


def check_record(rec: dict) -> None:
    assert rec.get("event") == "disclosure_decision", rec
    missing = LOG_FIELDS - {"opa_decision_id"} - set(rec)
    assert not missing, f"log record lacks {sorted(missing)}: {sorted(rec)}"
    extra = set(rec) - LOG_FIELDS
    assert not extra, f"log record has fields outside the docs/api.md decision log: {sorted(extra)}"
    assert isinstance(rec["allow"], bool), rec
    assert re.fullmatch(r"[0-9a-f]{64}", str(rec["patient_ref"])), rec["patient_ref"]
    assert rec["input"]["patient"].get("id") in (None, rec["patient_ref"]), rec["input"]["patient"]


def decision_records_in(text: str) -> list[dict]:
    """Decision records among the JSON lines of a captured stream (stdout may hold other lines)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            rec = strict_json_loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("event") == "disclosure_decision":
            out.append(rec)
    return out


def duplicates(values: Iterable[str]) -> dict[str, int]:
    return {k: n for k, n in Counter(values).items() if n > 1}


# --------------------------------------------------------------------------------------------
# Processes


def build_bundle(out_dir: Path) -> tuple[Path, str]:
    from service.opa.sidecar import build_bundle as _build
    from service.paths import policy_dir

    bundle, revision = _build(policy_dir(), out_dir)
    return Path(bundle), revision


class Opa:
    """The real OPA sidecar, started by ``service.opa.sidecar.start_opa`` with its output
    captured to a file; kill and signals for the fault tests."""

    def __init__(self, bundle: Path, port: int, log_path: Path):
        self.bundle = bundle
        self.port = port
        self.log_path = log_path
        self.sidecar = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.sidecar.process.pid  # type: ignore[union-attr]

    def start(self, timeout: float = 30) -> Opa:
        from service.opa.sidecar import start_opa

        self.sidecar = start_opa(
            self.bundle, None, addr=f"127.0.0.1:{self.port}", log=self.log_path,
            ready_timeout=timeout,
        )  # fmt: skip
        return self

    def alive(self) -> bool:
        return self.sidecar is not None and self.sidecar.running()

    def kill(self) -> None:
        """SIGKILL: no goodbye, no flush — the crash case."""
        self.sidecar.process.send_signal(signal.SIGKILL)
        self.sidecar.stop()

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def stop(self) -> None:
        if self.sidecar is not None and self.sidecar.process is not None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGCONT)
            self.sidecar.stop()


class Shim:
    """The shim under gunicorn (gunicorn -c gunicorn.conf.py, or ``argv``), started by the
    service's launcher (``service.server.launch.Gunicorn``), its output captured to files."""

    def __init__(
        self,
        workdir: Path,
        env: dict[str, str],
        argv: list[str] | None = None,
        *,
        pipe_output: bool = False,
    ):
        self.workdir = workdir
        # Pipes (copied to the files by this process) instead of files: what a log collector
        # sees, and immune to limits put on the shim's own file writes.
        self.pipe_output = pipe_output
        self._copiers: list[threading.Thread] = []
        self.port = free_port()
        self.stdout_path = workdir / f"shim-{self.port}.stdout"
        self.stderr_path = workdir / f"shim-{self.port}.stderr"
        self.env = {**_base_env(), "HIPAA_GATE_BIND": f"127.0.0.1:{self.port}", **env}
        self.argv = argv or [str(GUNICORN), "-c", str(REPO / "gunicorn.conf.py")]
        self.gunicorn = None

    @property
    def proc(self) -> subprocess.Popen | None:
        return self.gunicorn.process if self.gunicorn is not None else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: str | None = "/healthz", timeout: float = 40) -> Shim:
        from service.server.launch import Gunicorn

        self._out = open(self.stdout_path, "ab")  # noqa: SIM115 - closed in stop()
        self._err = open(self.stderr_path, "ab")  # noqa: SIM115
        self.gunicorn = Gunicorn(
            self.env,
            command=self.argv,
            cwd=REPO,
            stdout=subprocess.PIPE if self.pipe_output else self._out,
            stderr=subprocess.PIPE if self.pipe_output else self._err,
        ).start()
        if self.pipe_output:
            for src, dst in ((self.proc.stdout, self._out), (self.proc.stderr, self._err)):
                t = threading.Thread(target=_copy_stream, args=(src, dst), daemon=True)
                t.start()
                self._copiers.append(t)
        if wait:
            self.wait_http(wait, timeout)
        return self

    def wait_http(self, path: str, timeout: float, status: int = 200) -> None:
        self.gunicorn.wait_http(
            self.url + path,
            timeout,
            ready=lambda r: r.status_code == status,
            describe_exit=lambda: self.output()[-3000:],
        )

    def output(self) -> str:
        parts = []
        for p in (self.stdout_path, self.stderr_path):
            if p.exists():
                parts.append(p.read_bytes().decode("utf-8", "replace"))
        return "\n".join(parts)

    def stdout(self) -> str:
        return self.stdout_path.read_bytes().decode("utf-8", "replace")

    def child_pids(self) -> list[int]:
        """Every process of the session gunicorn started in (master, workers, helpers)."""
        return self.gunicorn.session_pids() if self.gunicorn is not None else []

    def terminate(self, timeout: float = 40) -> int:
        """SIGTERM the master and wait for it; returns its exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """Quick shutdown (gunicorn's SIGINT); graceful SIGTERM is what the fault tests test."""
        if self.gunicorn is None:
            return
        self.gunicorn.stop(timeout=30, sig=signal.SIGINT)
        for t in self._copiers:
            t.join(timeout=10)
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f is not None:
                f.close()


def _copy_stream(src, dst) -> None:
    for chunk in iter(lambda: src.read1(65536), b""):
        dst.write(chunk)
        dst.flush()
    src.close()


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIPAA_GATE_")}
    # Only where the binaries and policies are: every other setting is the test's own.
    for name in ("HIPAA_GATE_OPA_BIN", "HIPAA_GATE_POLICY_DIR"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Stack:
    """OPA + shim, the way production runs them, with every captured output on disk."""

    workdir: Path
    bundle: Path
    secrets: Secrets
    opa: Opa
    shim: Shim
    decision_log: Path

    @property
    def url(self) -> str:
        return self.shim.url

    def captured_files(self) -> list[Path]:
        """Every file the stack's processes wrote: all of its work dir, and the decision log."""
        files = {p for p in self.workdir.rglob("*") if p.is_file()}
        if self.decision_log.is_file():
            files.add(self.decision_log)
        return sorted(files)

    def restart_opa(self) -> Opa:
        """A new OPA process on the same port (a crashed sidecar being restarted)."""
        self.opa.stop()
        n = len(list(self.workdir.glob("opa*.log")))
        self.opa = Opa(self.bundle, self.opa.port, self.workdir / f"opa{n}.log").start()
        return self.opa

    def stop(self) -> None:
        try:
            self.shim.stop()
        finally:
            self.opa.stop()


def raw_decide_request(port: int, body: bytes) -> bytes:
    """The bytes of one keep-alive `POST /v1/disclosures/decide` with a JSON body."""
    return (
        "POST /v1/disclosures/decide HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def read_one_response(sock: socket.socket) -> bytes | None:
    """The head of one HTTP response (its body read off by Content-Length); None on EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head


def start_stack(
    workdir: Path,
    bundle: Path,
    *,
    workers: int = 2,
    threads: int | None = None,
    env: dict[str, str] | None = None,
    secrets_: Secrets | None = None,
    decision_log: Path | None = None,
    opa_url: str | None = None,
    wait: str | None = "/readyz",
    pipe_output: bool = False,
) -> Stack:
    """Start OPA (unless ``opa_url`` points the shim elsewhere) and the shim under gunicorn."""
    workdir.mkdir(parents=True, exist_ok=True)
    sec = secrets_ or Secrets()
    log = decision_log or (workdir / "decisions.jsonl")
    opa = Opa(bundle, free_port(), workdir / "opa.log")
    if opa_url is None:
        opa.start()
    shim_env = {
        # Generous: on a loaded 2-core machine OPA can take longer than the 0.5 s default, and
        # only the timeout tests (which set their own) are about timeouts.
        "HIPAA_GATE_OPA_READ_TIMEOUT": "10",
        "HIPAA_GATE_OPA_URL": opa_url or opa.url,
        "HIPAA_GATE_DECISION_LOG": str(log),
        "HIPAA_GATE_PATIENT_REF_KEY": sec.hmac_key,
        "HIPAA_GATE_WORKERS": str(workers),
        **({"HIPAA_GATE_THREADS": str(threads)} if threads else {}),
        **(env or {}),
    }
    shim = Shim(workdir, shim_env, pipe_output=pipe_output)
    stack = Stack(workdir, bundle, sec, opa, shim, log)
    try:
        shim.start(wait=wait)
    except BaseException:
        stack.stop()
        raise
    return stack


@contextlib.contextmanager
def running_stack(workdir: Path, bundle: Path, **kw) -> Iterator[Stack]:
    stack = start_stack(workdir, bundle, **kw)
    try:
        yield stack
    finally:
        stack.stop()


PATIENT_ID_SHAPE = re.compile(rb"p-test-[0-9a-f]{6}-[0-9]{6}")


def scan_for_secrets(files: Iterable[Path], needles: Iterable[str]) -> list[str]:
    """Every (file, needle) where a secret shows up in captured output; [] when clean.

    The run's patient ids all have one shape, so they are found with one regex pass and a set
    lookup (a soak sends tens of thousands); other needles are searched for one by one.
    """
    needles = [n for n in needles if n]
    shaped = {n.encode() for n in needles if PATIENT_ID_SHAPE.fullmatch(n.encode())}
    others = [n for n in needles if n.encode() not in shaped]
    hits = []
    for path in files:
        data = path.read_bytes()
        found = {m.group(0) for m in PATIENT_ID_SHAPE.finditer(data)} & shaped
        hits += [f"{path.name}: {n.decode()[:12]}…" for n in sorted(found)]
        for needle in others:
            if needle.encode() in data:
                hits.append(f"{path.name}: {needle[:12]}…")
    return hits


# --------------------------------------------------------------------------------------------
# Clients


@dataclass
class Outcome:
    request_id: str
    status: int | None  # None: no HTTP answer (connection refused/reset)
    payload: Any = None
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0

    @property
    def code(self) -> str | None:
        if isinstance(self.payload, dict) and isinstance(self.payload.get("error"), dict):
            return self.payload["error"].get("code")
        return None

    @property
    def allowed(self) -> bool:
        return self.status == 200 and isinstance(self.payload, dict) and self.payload.get("allow")


_local = threading.local()


def _session() -> requests.Session:
    s = getattr(_local, "session", None)
    if s is None:
        s = requests.Session()
        _local.session = s
    return s


def decide(
    base_url: str,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
    raw: bytes | None = None,
) -> Outcome:
    rid = body.get("request_id", "") if isinstance(body, dict) else ""
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    data = raw if raw is not None else json.dumps(body).encode()
    started = time.monotonic()
    try:
        r = _session().post(
            base_url + "/v1/disclosures/decide", data=data, headers=hdrs, timeout=timeout
        )
    except requests.RequestException as exc:
        return Outcome(
            rid, None, error=type(exc).__name__, started=started, finished=time.monotonic()
        )
    finished = time.monotonic()
    try:
        payload = strict_json_loads(r.content)
    except ValueError:
        payload = r.content
    return Outcome(rid, r.status_code, payload, started=started, finished=finished)


def run_load(
    base_url: str,
    bodies: list[dict],
    *,
    clients: int,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> list[Outcome]:
    """Send every body once from `clients` concurrent threads; one Outcome per body."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(
            pool.map(lambda b: decide(base_url, b, headers=headers, timeout=timeout), bodies)
        )


def new_uuid() -> str:
    return str(uuid.uuid4())


class BlackHole:
    """A loopback TCP server that accepts connections and never answers (a hung OPA)."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._conns: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self._conns.append(conn)  # held open, never read, never written

    def __enter__(self) -> BlackHole:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._conns:
            conn.close()
        self.sock.close()


class LoadThread:
    """Background clients sending valid requests until stopped; keeps every Outcome."""

    def __init__(self, base_url: str, clients: int, sink: Secrets, kind: str = "treatment"):
        self.base_url = base_url
        self.sink = sink
        self.kind = kind
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        while not self._stop.is_set():
            body = _variant(self.kind, base_request())
            with self._lock:
                self.sink.patient_ids.add(body["patient"]["id"])
            o = decide(self.base_url, body, timeout=30)
            with self._lock:
                self.outcomes.append(o)

    def count(self) -> int:
        with self._lock:
            return len(self.outcomes)

    def __enter__(self) -> LoadThread:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)


# --------------------------------------------------------------------------------------------
# Sockets and process trees from /proc


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        entries = list(fd_dir.iterdir())
    except OSError:
        return inodes
    for fd in entries:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _decode_addr(hex_addr: str) -> tuple[str, int]:
    import ipaddress

    host, port = hex_addr.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        ip = ipaddress.IPv4Address(raw[::-1])
    else:  # /proc/net/tcp6: four little-endian 32-bit words
        ip = ipaddress.IPv6Address(b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))
    return str(ip), int(port, 16)


def listening_sockets(pids: Iterable[int]) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state held by one of ``pids``."""
    inodes: set[str] = set()
    for pid in pids:
        inodes |= _socket_inodes(pid)
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A = TCP_LISTEN
                found.add(_decode_addr(cols[1]))
    return found


def descendants(root: int) -> set[int]:
    """Every live process below ``root`` in the process tree (by parent pid)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            continue
        children.setdefault(int(fields[1]), []).append(int(d.name))
    out: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def refused(host: str, port: int) -> bool:
    """True when a TCP connect to host:port is refused (nothing listens there)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=5):
            return False
    except ConnectionRefusedError:
        return True
