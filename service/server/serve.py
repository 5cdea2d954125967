"""``hipaa-gate serve``: OPA sidecar (unless ``HIPAA_GATE_OPA_URL`` is set) + gunicorn, supervised.

Ctrl-C or SIGTERM stops gunicorn (graceful) and then OPA; if either child dies the other is
stopped and serve exits non-zero. Children run in their own sessions (a terminal's Ctrl-C reaches
only this supervisor, which then stops them in order) and get SIGTERM from the kernel if the
supervisor itself dies.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import structlog

from service import config as config_mod
from service.log_config import configure_logging
from service.metrics import prepare_multiprocess_dir
from service.opa.policy_data import PolicyDataError, check_policy_data
from service.opa.sidecar import (
    OpaSidecar,
    _die_with_parent,
    build_bundle,
    configured_token,
    content_revision,
)
from service.paths import REPO_DIR, policy_dir

log = structlog.get_logger("hipaa_gate.serve")


def build_dir() -> Path:
    configured = os.environ.get("HIPAA_GATE_BUILD_DIR")
    return Path(configured) if configured else REPO_DIR / ".build"


def start_local_opa(addr: str | None = None, log_to=None) -> OpaSidecar:
    """Build the bundle from the policy directory and start the hardened OPA; wait until ready.

    OPA's JSON log goes to ``log_to`` (a file object), by default this process's stdout/stderr.
    With ``HIPAA_GATE_OPA_TOKEN`` set, OPA requires it of every query (``--authentication=token``;
    the shim sends it, as ``OPA_TOKEN``).
    """
    check_policy_data(policy_dir())  # invalid data never becomes a bundle (names file, problem)
    bundle, revision = build_bundle(policy_dir(), build_dir())
    addr = addr or os.environ.get("HIPAA_GATE_OPA_ADDR", "127.0.0.1:8181")
    sidecar = OpaSidecar(
        bundle, addr, revision=revision, log=log_to, token=configured_token()
    ).start()
    try:
        sidecar.wait_ready(timeout=30)
    except BaseException:
        sidecar.stop()
        raise
    log.info("opa_ready", url=sidecar.url, policy_revision=revision)
    return sidecar


def serve() -> int:
    configure_logging()
    try:
        cfg = config_mod.resolve()  # a bad configuration stops here, before anything starts
    except config_mod.ConfigError as exc:
        log.error("configuration_error", message=str(exc))
        return 2

    stopping = {"signal": None}

    def request_stop(signum, _frame):
        stopping["signal"] = signum

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, request_stop)

    env = dict(os.environ)
    opa: OpaSidecar | None = None
    gunicorn: subprocess.Popen[bytes] | None = None
    metrics_dir: str | None = None
    code = 0
    try:
        watcher: PolicyWatcher | None = None
        if not env.get("HIPAA_GATE_OPA_URL"):
            opa = start_local_opa()
            env["HIPAA_GATE_OPA_URL"] = opa.url
            env["HIPAA_GATE_POLICY_REVISION"] = opa.revision or ""
            if cfg["DEV_MODE"]:
                # Development: an edit under policies/ rebuilds the bundle and restarts OPA with
                # it; the shim then accepts whichever revision OPA serves (readyz names it).
                watcher = PolicyWatcher(policy_dir())
                env["HIPAA_GATE_POLICY_REVISION"] = ""
        if not env.get("PROMETHEUS_MULTIPROC_DIR"):
            metrics_dir = tempfile.mkdtemp(prefix="hipaa-gate-metrics-")
            env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        else:  # given (the image sets it): create it, drop a previous run's files
            prepare_multiprocess_dir(env)
        if stopping["signal"] is None:
            gunicorn = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--config",
                    "python:service.server.gunicorn_settings",
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            log.info("gunicorn_started", pid=gunicorn.pid, bind=env.get("HIPAA_GATE_BIND"))
        announced = False
        while stopping["signal"] is None:
            if not announced and gunicorn is not None and _listening(cfg["BIND"]):
                announced = True
                _announce(cfg, opa, watcher)
            if watcher is not None and opa is not None and watcher.changed():
                opa = _reload(opa, watcher)
            if gunicorn is not None and gunicorn.poll() is not None:
                log.error("child_exited", child="gunicorn", exit_code=gunicorn.returncode)
                code = 1
                break
            if opa is not None and not opa.running():
                log.error("child_exited", child="opa")
                code = 1
                break
            time.sleep(0.2)
        if stopping["signal"] is not None:
            log.info("stopping", signal=signal.Signals(stopping["signal"]).name)
    except PolicyDataError as exc:
        log.error("policy_data_invalid", problems=exc.problems)
        _say(f"refusing to build the policy bundle: {len(exc.problems)} problem(s):")
        for problem in exc.problems:
            _say(f"  {problem}")
        code = 2
    except Exception as exc:
        log.error("serve_failed", error=type(exc).__name__, message=str(exc))
        code = 1
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        if gunicorn is not None and gunicorn.poll() is None:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=cfg["GRACEFUL_TIMEOUT"] + 5)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
                gunicorn.wait()
        if opa is not None:
            opa.stop()
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        log.info("stopped", exit_code=code)
    return code


def _say(line: str) -> None:
    """A plain line for a person at a terminal (stderr), beside the JSON log on stdout, which
    carries the same facts; not printed when stderr is not a terminal (log collectors)."""
    if sys.stderr.isatty():
        print(f"hipaa-gate: {line}", file=sys.stderr, flush=True)


def _listening(bind: str) -> bool:
    host, _, port = str(bind).rpartition(":")
    host = host.strip("[]")
    host = "127.0.0.1" if host in ("", "0.0.0.0") else ("::1" if host == "::" else host)  # noqa: S104
    try:
        with socket.create_connection((host, int(port)), timeout=0.2):
            return True
    except (OSError, ValueError):
        return False


def _announce(cfg: dict, opa: OpaSidecar | None, watcher: PolicyWatcher | None) -> None:
    shim = f"http://{cfg['BIND']}"
    opa_url = opa.url if opa is not None else os.environ.get("HIPAA_GATE_OPA_URL", "")
    log.info(
        "listening",
        shim=shim,
        opa=opa_url,
        explorer=f"{shim}/explorer" if cfg.get("EXPLORER") else None,
        watching=str(watcher.root) if watcher is not None else None,
        message=f"listening on {shim}; OPA at {opa_url}",
    )
    _say(f"listening on {shim} (API {shim}/v1/..., OpenAPI {shim}/openapi.json); OPA at {opa_url}")
    if cfg.get("EXPLORER"):
        _say(f"decision explorer: {shim}/explorer")
    if watcher is not None:
        _say(f"development mode: watching {watcher.root} - an edit there reloads the policies")


class PolicyWatcher:
    """Notices a change under the policy directory (cheap stat scan, once a second)."""

    def __init__(self, root: Path, interval: float = 1.0) -> None:
        self.root = Path(root)
        self.interval = interval
        self._next = time.monotonic() + interval
        self._seen = self._signature()

    def _signature(self) -> tuple:
        entries = []
        for path in sorted(self.root.rglob("*")):
            with contextlib.suppress(OSError):
                st = path.stat()
                if path.is_file():
                    entries.append((str(path), st.st_mtime_ns, st.st_size))
        return tuple(entries)

    def changed(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.interval
        current = self._signature()
        if current == self._seen:
            return False
        self._seen = current
        return True


def _reload(opa: OpaSidecar, watcher: PolicyWatcher) -> OpaSidecar:
    """Rebuild the bundle and restart OPA with it; keep the running one when the new is bad."""
    old = opa.revision
    if content_revision(watcher.root) == old:
        return opa
    try:
        check_policy_data(watcher.root)
        bundle, revision = build_bundle(watcher.root, build_dir())
    except PolicyDataError as exc:
        log.error(
            "policy_reload_refused",
            problems=exc.problems,
            message=f"policies changed but the data is invalid; still serving {old}",
        )
        _say(f"policies changed but the data is invalid; still serving {old}:")
        for problem in exc.problems:
            _say(f"  {problem}")
        return opa
    except (RuntimeError, OSError) as exc:
        log.error("policy_reload_refused", message=str(exc))
        _say(f"policies changed but do not build; still serving {old}: {exc}")
        return opa
    opa.stop()
    fresh = OpaSidecar(
        bundle, opa.addr, revision=revision, log=opa.log, token=configured_token()
    ).start()
    fresh.wait_ready(timeout=30)
    log.info(
        "policies_reloaded",
        old_revision=old,
        policy_revision=revision,
        message=f"policies reloaded: policy_revision {old} -> {revision}",
    )
    _say(f"policies reloaded: policy_revision {old} -> {revision}")
    return fresh
