"""``hipaa-gate serve``: OPA sidecar (unless ``HIPAA_GATE_OPA_URL`` is set) + gunicorn, supervised.

Ctrl-C or SIGTERM stops gunicorn (graceful) and then OPA; if either child dies the other is
stopped and serve exits non-zero. Children run in their own sessions (a terminal's Ctrl-C reaches
only this supervisor, which then stops them in order) and get SIGTERM from the kernel if the
supervisor itself dies.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import structlog

from service import config as config_mod
from service.logs import configure_logging
from service.metrics import prepare_multiprocess_dir
from service.sidecar import (
    REPO_DIR,
    OpaSidecar,
    _die_with_parent,
    build_bundle,
    configured_token,
    policy_dir,
)

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
        if not env.get("HIPAA_GATE_OPA_URL"):
            opa = start_local_opa()
            env["HIPAA_GATE_OPA_URL"] = opa.url
            env["HIPAA_GATE_POLICY_REVISION"] = opa.revision or ""
        if not env.get("PROMETHEUS_MULTIPROC_DIR"):
            metrics_dir = tempfile.mkdtemp(prefix="hipaa-gate-metrics-")
            env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        else:  # given (the image sets it): create it, drop a previous run's files
            prepare_multiprocess_dir(env)
        if stopping["signal"] is None:
            gunicorn = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "python:service.gunicorn_config"],
                env=env,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            log.info("gunicorn_started", pid=gunicorn.pid, bind=env.get("HIPAA_GATE_BIND"))
        while stopping["signal"] is None:
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
