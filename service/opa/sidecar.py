"""Build the policy bundle and run the hardened OPA sidecar (the real ``opa`` binary).

Hardening (docs/api.md, "The OPA sidecar"): loopback address only, bundle mode (the REST API
cannot overwrite bundle-owned policies or data), ``--authorization=basic`` with
``policies/system/authz/authz.rego`` (only the shim's POST queries and ``GET /health``),
JSON logs at info level (request bodies are never logged), no GitHub version check, and OPA's
decision logging left off so no input ever reaches OPA's own log.

``start_opa`` starts it and waits until it serves its bundle (``hipaa-gate serve``, the reliability
tests, ``make bench``); ``local_opa`` builds a bundle and runs OPA for one command (``replay``,
``vendors``, ``authorization-form``).

With a token (``HIPAA_GATE_OPA_TOKEN`` for ``hipaa-gate serve``), OPA also runs with
``--authentication=token`` and gets the token in its own environment, where the authz policy
reads it (``opa.runtime().env``): every query must then carry it as a bearer token. The token
never enters the bundle.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import ipaddress
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import requests

from service.paths import opa_binary

BUNDLE_NAME = "bundle.tar.gz"


def content_revision(policies: Path) -> str:
    """A revision that changes exactly when a file under ``policies`` changes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in policies.rglob("*") if p.is_file()):
        rel = path.relative_to(policies).as_posix()
        digest.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return "sha256-" + digest.hexdigest()[:20]


def build_bundle(policies_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str]):
    """``opa build -b policies --revision <content hash>``; returns ``(bundle_path, revision)``."""
    policies = Path(policies_dir).resolve()
    if not policies.is_dir():
        raise FileNotFoundError(f"policy directory not found: {policies}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    revision = content_revision(policies)
    bundle = out / BUNDLE_NAME
    tmp = out / f".{BUNDLE_NAME}.{os.getpid()}.tmp"
    result = subprocess.run(
        [opa_binary(), "build", "-b", str(policies), "--revision", revision, "-o", str(tmp)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"opa build failed: {result.stderr.strip() or result.stdout.strip()}")
    tmp.replace(bundle)
    return bundle, revision


#: Go runtime settings for OPA (docs/benchmarks.md, "OPA's garbage collector"): collect when the
#: heap has grown 4x over the live heap instead of 1x, and harder again near 100 MiB. The live
#: heap is ~20 MB, so OPA spends about a quarter less CPU per decision and its slowest
#: evaluations are no longer the ones a collection interrupts, for ~115 MB resident instead of
#: ~70 MB (budget 150 MB). Values already in the environment win.
OPA_RUNTIME_ENV = {"GOGC": "400", "GOMEMLIMIT": "100MiB"}

#: OPA's in-memory store keeps the bundle's data as policy values, so a rule reading
#: ``data.config.*`` does not convert that part of the data on every evaluation (about 4% fewer
#: allocations per decision, docs/benchmarks.md); the data is written once, at bundle activation.
OPA_STORE_FLAG = "--optimize-store-for-read-speed"


#: The variable through which OPA's authz policy (``policies/system/authz``) learns the bearer
#: token every query must carry; unset or empty, no token is required.
OPA_TOKEN_ENV = "HIPAA_GATE_OPA_TOKEN"  # noqa: S105 - a variable name, not a secret


def opa_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment OPA runs with: ``base`` (default ``os.environ``) plus ``OPA_RUNTIME_ENV``."""
    env = dict(os.environ if base is None else base)
    for name, value in OPA_RUNTIME_ENV.items():
        env.setdefault(name, value)
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the child when the process that started it dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _require_loopback(addr: str) -> None:
    host = addr.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"OPA must listen on a loopback address, not {addr!r}")


class OpaSidecar:
    """The hardened OPA server on a loopback address, serving one bundle."""

    def __init__(
        self,
        bundle_path: str | os.PathLike[str],
        addr: str = "127.0.0.1:8181",
        opa_bin: str | None = None,
        *,
        revision: str | None = None,
        authorization: bool = True,
        log: IO[Any] | str | os.PathLike[str] | None = None,
        tls: tuple[str, str] | None = None,
        token: str | None = None,
    ) -> None:
        _require_loopback(addr)
        self.bundle_path = Path(bundle_path)
        self.addr = addr
        self.opa_bin = opa_bin or opa_binary()
        self.revision = revision
        self.authorization = authorization
        self.log = log
        self.tls = tls  # (certificate file, private key file): serve HTTPS only
        # The bearer token every query must carry (--authentication=token); None: no token.
        self.token = token or None
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[Any] | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.addr}"

    def command(self) -> list[str]:
        cmd = [
            self.opa_bin,
            "run",
            "--server",
            f"--addr={self.addr}",
            "--skip-version-check",
            "--log-format=json",
            "--log-level=info",
            "--shutdown-grace-period=2",
            OPA_STORE_FLAG,
            "--bundle",
            str(self.bundle_path),
        ]
        if self.authorization:
            cmd.insert(4, "--authorization=basic")
        if self.token:
            cmd.insert(4, "--authentication=token")
        if self.tls:
            cmd[4:4] = [f"--tls-cert-file={self.tls[0]}", f"--tls-private-key-file={self.tls[1]}"]
        return cmd

    def environment(self) -> dict[str, str]:
        """OPA's environment: ``opa_env()`` with ``HIPAA_GATE_OPA_TOKEN`` exactly this sidecar's
        token (an inherited one is dropped, or the authz policy would demand it of every query
        while OPA, without ``--authentication=token``, never sees one)."""
        env = opa_env()
        env.pop(OPA_TOKEN_ENV, None)
        if self.token:
            env[OPA_TOKEN_ENV] = self.token
        return env

    def _address_in_use(self) -> bool:
        host, port = self.addr.rsplit(":", 1)
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=0.2):
                return True
        except OSError:
            return False

    def start(self) -> OpaSidecar:
        if self.process is not None:
            raise RuntimeError("OPA sidecar already started")
        if self._address_in_use():
            # Otherwise wait_ready() could mistake another server on this port for ours.
            raise RuntimeError(f"address {self.addr} is already in use")
        stream: IO[Any] | None = None
        if isinstance(self.log, str | os.PathLike):
            self._log_file = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
            stream = self._log_file
        elif self.log is not None:
            stream = self.log
        self.process = subprocess.Popen(
            self.command(),
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=stream,
            stderr=stream,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 20.0) -> OpaSidecar:
        """Wait until ``GET /health?bundles`` answers 200 (the bundle is activated)."""

        def exited() -> str:
            code = self.process.returncode if self.process else None
            return f"OPA exited before it was ready (exit code {code})"

        wait_http(
            f"{self.url}/health?bundles",
            timeout,
            running=self.running,
            exited=exited,
            what=f"OPA at {self.url}",
            verify=self.tls[0] if self.tls else True,
        )
        return self

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit code."""
        proc, self.process = self.process, None
        code = None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            code = proc.returncode
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return code

    def __enter__(self) -> OpaSidecar:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_http(
    url: str,
    timeout: float,
    *,
    running: Callable[[], bool],
    exited: Callable[[], str],
    what: str,
    ready: Callable[[requests.Response], bool] = lambda r: r.status_code == 200,
    interval: float = 0.05,
    request_timeout: float = 0.5,
    verify: bool | str = True,
) -> requests.Response:
    """Poll ``GET url`` until ``ready(answer)`` while ``running()`` (OPA, gunicorn); else
    RuntimeError(``exited()``), or TimeoutError naming ``what`` and the last answer."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not running():
            raise RuntimeError(exited())
        try:
            resp = requests.get(url, timeout=request_timeout, verify=verify)
        except requests.RequestException as exc:
            last = type(exc).__name__
        else:
            last = f"HTTP {resp.status_code} {resp.text[:300]}".strip()
            if ready(resp) and running():
                return resp
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s ({last})")


class OpaStartError(RuntimeError):
    """OPA could not be started: the bundle did not build, or OPA never became ready."""


def start_opa(
    bundle_path: str | os.PathLike[str],
    revision: str | None,
    *,
    addr: str | None = None,
    log: IO[Any] | str | os.PathLike[str] | None = None,
    token: str | None = None,
    ready_timeout: float = 30.0,
) -> OpaSidecar:
    """The hardened OPA serving ``bundle_path`` on ``addr`` (default: a free loopback port),
    ready (its bundle activated); stopped again when it does not become ready."""
    sidecar = OpaSidecar(
        bundle_path, addr or f"127.0.0.1:{free_port()}", revision=revision, log=log, token=token
    ).start()
    try:
        sidecar.wait_ready(timeout=ready_timeout)
    except BaseException:
        sidecar.stop()
        raise
    return sidecar


@contextlib.contextmanager
def local_opa(
    policies_dir: str | os.PathLike[str], *, ready_timeout: float = 30.0
) -> Iterator[OpaSidecar]:
    """A bundle built from ``policies_dir`` served by OPA on a free port for one command.

    OPA is stopped and the bundle removed on exit; ``OpaStartError`` says why it did not start
    (with the end of OPA's own log).
    """
    with tempfile.TemporaryDirectory(prefix="hipaa-gate-opa-") as tmp:
        try:
            bundle, revision = build_bundle(policies_dir, tmp)
        except (FileNotFoundError, RuntimeError) as exc:
            raise OpaStartError(str(exc)) from None
        log = Path(tmp) / "opa.log"
        try:
            sidecar = start_opa(bundle, revision, log=log, ready_timeout=ready_timeout)
        except (RuntimeError, TimeoutError) as exc:
            said = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
            raise OpaStartError(f"{exc}; OPA said: {said.strip()[-500:]}") from None
        try:
            yield sidecar
        finally:
            sidecar.stop()
