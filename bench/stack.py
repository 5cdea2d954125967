"""OPA and the shim started the way production starts them, and what /proc says about them."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from service.opa.sidecar import OpaSidecar, free_port

REPO = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Shim:
    """gunicorn with gunicorn.conf.py and env config (development HMAC key), on a free port."""

    def __init__(self, opa_url: str, workdir: Path, *, fsync: str, workers: int, threads: int):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_urlsafe(24)  # generated per run, never written anywhere
        self.decision_log = workdir / f"decisions-fsync-{fsync}.jsonl"
        self.stdout_path = workdir / f"shim-stdout-fsync-{fsync}.log"
        self.env = {
            **os.environ,
            "HIPAA_GATE_BIND": f"127.0.0.1:{self.port}",
            "HIPAA_GATE_OPA_URL": opa_url,
            "HIPAA_GATE_DECISION_LOG": str(self.decision_log),
            "HIPAA_GATE_LOG_FSYNC": fsync,
            "HIPAA_GATE_DEV_MODE": "1",  # development HMAC key; everything else as in production
            "HIPAA_GATE_API_TOKENS": self.token,
            "HIPAA_GATE_WORKERS": str(workers),
            "HIPAA_GATE_THREADS": str(threads),
        }
        self.env.pop("HIPAA_GATE_PATIENT_REF_KEY", None)
        self.fsync = fsync
        self.workers = workers
        self.threads = threads
        self.process: subprocess.Popen[bytes] | None = None
        self._stdout = None

    def command(self) -> list[str]:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        # The app is gunicorn.conf.py's wsgi_app (the factory), as `hipaa-gate serve` runs it.
        return [gunicorn, "--config", str(REPO / "gunicorn.conf.py")]

    def start(self, timeout: float = 60.0) -> Shim:
        self._stdout = open(self.stdout_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command(),
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.stdout_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{tail}")
            with contextlib.suppress(requests.RequestException):
                resp = requests.get(f"{self.url}/readyz", timeout=1)
                last = f"HTTP {resp.status_code} {resp.text[:300]}"
                if resp.status_code == 200 and len(self.worker_pids()) == self.workers:
                    return self
            time.sleep(0.2)
        raise TimeoutError(f"shim at {self.url} not ready after {timeout:.0f}s: {last}")

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # any straggler of this group only
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None

    def __enter__(self) -> Shim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """SIGTERM the gunicorn master if the benchmark dies without stopping it (PR_SET_PDEATHSIG)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def start_opa(bundle: Path, revision: str, workdir: Path) -> OpaSidecar:
    opa = OpaSidecar(
        bundle, addr=f"127.0.0.1:{free_port()}", revision=revision, log=workdir / "opa.log"
    )
    opa.start()
    try:
        opa.wait_ready(timeout=30)
    except Exception:
        opa.stop()
        raise
    return opa


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            stat = (entry / "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            if ppid == pid:
                found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float:
    """Resident set size (VmRSS, shared pages counted in full) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def pss_mb(pid: int) -> float:
    """Proportional set size (shared pages divided among sharers) in MiB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def kernel_counters(pids: list[int]) -> tuple[float, int]:
    """System CPU seconds and context switches (voluntary and not, every live thread) of pids.

    On this VM (a nested guest) a system call is cheap but waking a thread on the other CPU
    costs tens of microseconds: these say how much of a process's CPU per request is spent in
    the kernel, and how often it sleeps and is woken per request. Threads that have exited are
    not counted (neither path has any).
    """
    system_ticks = 0
    switches = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            system_ticks += int(stat[stat.rindex(")") + 2 :].split()[12])  # stime
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    for line in (task / "status").read_text().splitlines():
                        if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt")):
                            switches += int(line.split()[1])
    return system_ticks / CLOCK_TICKS, switches


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS
