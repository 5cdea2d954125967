"""Start OPA + gunicorn the way ``hipaa-gate serve`` does, and stop them: the one launcher of
``serve``, the reliability tests and ``make bench``.

OPA comes from ``service.opa.sidecar`` (``start_opa``, or ``start_local_opa`` here, which builds
the bundle from the configured policy directory first); ``Gunicorn`` is the shim's master in a
session of its own (a terminal's Ctrl-C reaches only whoever started it), SIGTERMed by the kernel
if the thread that started it dies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import requests
import structlog

from service.config import PREFIX, Config
from service.opa.policy_data import check_policy_data
from service.opa.sidecar import (
    OpaSidecar,
    build_bundle,
    die_with_parent,
    start_opa,
    wait_http,
)

log = structlog.get_logger("hipaa_gate.serve")

#: gunicorn's settings as ``hipaa-gate serve`` gives them (the image's ``gunicorn.conf.py`` at
#: the repository root re-exports them and also prepares the metrics directory).
SETTINGS = "python:service.server.gunicorn_settings"


def gunicorn_command(settings: str = SETTINGS) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--config", settings]


def shim_environment(settings: Mapping[str, object], base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with ``settings`` (by name, without the prefix) as ``HIPAA_GATE_*`` variables."""
    return {**base, **{PREFIX + name: str(value) for name, value in settings.items()}}


def start_local_opa(
    cfg: Config, addr: str | None = None, log_to: IO[Any] | None = None
) -> OpaSidecar:
    """Check the policy data, build the bundle from the policy directory into the build
    directory and start the hardened OPA on ``addr`` (default ``HIPAA_GATE_OPA_ADDR``); ready.

    OPA's JSON log goes to ``log_to`` (a file object), by default this process's stdout/stderr.
    With ``HIPAA_GATE_OPA_TOKEN`` set, OPA requires it of every query (``--authentication=token``;
    the shim sends it, as ``OPA_TOKEN``).
    """
    check_policy_data(cfg.policy_dir)  # invalid data never becomes a bundle (names file, problem)
    bundle, revision = build_bundle(cfg.policy_dir, cfg.build_dir)
    sidecar = start_opa(
        bundle, revision, addr=addr or cfg.opa_addr, log=log_to, token=cfg.opa_token
    )
    log.info("opa_ready", url=sidecar.url, policy_revision=revision)
    return sidecar


class Gunicorn:
    """The shim under gunicorn: ``command`` (default ``gunicorn_command()``) with ``env``."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        command: Sequence[str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        stdout: IO[Any] | int | None = None,
        stderr: IO[Any] | int | None = None,
    ) -> None:
        self.env = dict(env)
        self.command = list(command or gunicorn_command())
        self.cwd = cwd
        self.stdout = stdout
        self.stderr = stderr
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("gunicorn is not started")
        return self.process.pid

    def start(self) -> Gunicorn:
        if self.process is not None:
            raise RuntimeError("gunicorn already started")
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.stdout,
            stderr=self.stderr,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def session_pids(self) -> list[int]:
        """Every live process of the session gunicorn started (master, workers, helpers)."""
        if self.process is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if os.getsid(int(entry.name)) == self.process.pid:
                        pids.append(int(entry.name))
        return sorted(pids)

    def wait_http(
        self,
        url: str,
        timeout: float,
        *,
        ready: Callable[[requests.Response], bool] = lambda r: r.status_code == 200,
        interval: float = 0.1,
        describe_exit: Callable[[], str] = lambda: "",
    ) -> requests.Response:
        """Poll ``url`` until ``ready(answer)``; RuntimeError if gunicorn exits first."""

        def exited() -> str:
            code = self.process.returncode if self.process else None
            return f"gunicorn exited with {code}:\n{describe_exit()}"

        return wait_http(
            url, timeout, running=self.running, exited=exited, what=url, ready=ready,
            interval=interval, request_timeout=5,
        )  # fmt: skip

    def stop(self, timeout: float, sig: int = signal.SIGTERM) -> int | None:
        """``sig`` (SIGTERM: graceful), SIGKILL to the session after ``timeout``, and any
        process left in the session killed; returns the master's exit code."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for pid in self.session_pids():  # stray workers: never leave processes behind
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        return proc.returncode
