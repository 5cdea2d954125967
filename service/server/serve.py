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
import sys
import tempfile
import time
from pathlib import Path

import structlog

from service import config as config_mod
from service.config import Config
from service.log_config import configure_logging
from service.metrics import prepare_multiprocess_dir
from service.opa.policy_data import PolicyDataError, check_policy_data
from service.opa.sidecar import OpaSidecar, build_bundle, content_revision, start_opa
from service.server.launch import Gunicorn, shim_environment, start_local_opa

log = structlog.get_logger("hipaa_gate.serve")


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

    env = dict(os.environ)  # gunicorn's: the same configuration, with what serve adds
    opa: OpaSidecar | None = None
    gunicorn: Gunicorn | None = None
    metrics_dir: str | None = None
    code = 0
    try:
        watcher: PolicyWatcher | None = None
        if not cfg.is_set("OPA_URL"):
            opa = start_local_opa(cfg)
            revision = opa.revision or ""
            if cfg.dev_mode:
                # Development: an edit under policies/ rebuilds the bundle and restarts OPA with
                # it; the shim then accepts whichever revision OPA serves (readyz names it).
                watcher = PolicyWatcher(cfg.policy_dir)
                revision = ""
            env = shim_environment({"OPA_URL": opa.url, "POLICY_REVISION": revision}, env)
        if not env.get("PROMETHEUS_MULTIPROC_DIR"):
            metrics_dir = tempfile.mkdtemp(prefix="hipaa-gate-metrics-")
            env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        else:  # given (the image sets it): create it, drop a previous run's files
            prepare_multiprocess_dir(env)
        if stopping["signal"] is None:
            gunicorn = Gunicorn(env).start()
            log.info("gunicorn_started", pid=gunicorn.pid, bind=cfg.bind)
        announced = False
        while stopping["signal"] is None:
            if not announced and gunicorn is not None and _listening(cfg.bind):
                announced = True
                _announce(cfg, opa, watcher)
            if watcher is not None and opa is not None and watcher.changed():
                opa = _reload(cfg, opa, watcher)
            if gunicorn is not None and not gunicorn.running():
                exit_code = gunicorn.process.returncode if gunicorn.process else None
                log.error("child_exited", child="gunicorn", exit_code=exit_code)
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
        if gunicorn is not None:
            gunicorn.stop(timeout=cfg.graceful_timeout + 5)
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


def _announce(cfg: Config, opa: OpaSidecar | None, watcher: PolicyWatcher | None) -> None:
    shim = f"http://{cfg.bind}"
    opa_url = opa.url if opa is not None else cfg.opa_url
    log.info(
        "listening",
        shim=shim,
        opa=opa_url,
        explorer=f"{shim}/explorer" if cfg.explorer else None,
        watching=str(watcher.root) if watcher is not None else None,
        message=f"listening on {shim}; OPA at {opa_url}",
    )
    _say(f"listening on {shim} (API {shim}/v1/..., OpenAPI {shim}/openapi.json); OPA at {opa_url}")
    if cfg.explorer:
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


def _reload(cfg: Config, opa: OpaSidecar, watcher: PolicyWatcher) -> OpaSidecar:
    """Rebuild the bundle and restart OPA with it; keep the running one when the new is bad."""
    old = opa.revision
    if content_revision(watcher.root) == old:
        return opa
    try:
        check_policy_data(watcher.root)
        bundle, revision = build_bundle(watcher.root, cfg.build_dir)
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
    fresh = start_opa(bundle, revision, addr=opa.addr, log=opa.log, token=cfg.opa_token)
    log.info(
        "policies_reloaded",
        old_revision=old,
        policy_revision=revision,
        message=f"policies reloaded: policy_revision {old} -> {revision}",
    )
    _say(f"policies reloaded: policy_revision {old} -> {revision}")
    return fresh
