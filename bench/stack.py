"""OPA and the shim started the way production starts them, and what /proc says about them."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from service.opa.sidecar import OpaSidecar, free_port
from service.opa.sidecar import start_opa as _start_opa
from service.server.launch import Gunicorn, gunicorn_command, shim_environment

REPO = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Shim:
    """gunicorn with gunicorn.conf.py and env config (development HMAC key), on a free port,
    started by the service's launcher (service.server.launch)."""

    def __init__(self, opa_url: str, workdir: Path, *, fsync: str, workers: int, threads: int):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_urlsafe(24)  # generated per run, never written anywhere
        self.decision_log = workdir / f"decisions-fsync-{fsync}.jsonl"
        self.stdout_path = workdir / f"shim-stdout-fsync-{fsync}.log"
        base = {k: v for k, v in os.environ.items() if k != "HIPAA_GATE_PATIENT_REF_KEY"}
        self.env = shim_environment(
            {
                "BIND": f"127.0.0.1:{self.port}",
                "OPA_URL": opa_url,
                "DECISION_LOG": self.decision_log,
                "LOG_FSYNC": fsync,
                "DEV_MODE": 1,  # development HMAC key; everything else as in production
                "API_TOKENS": self.token,
                "WORKERS": workers,
                "THREADS": threads,
            },
            base,
        )
        self.fsync = fsync
        self.workers = workers
        self.threads = threads
        self.gunicorn: Gunicorn | None = None
        self._stdout = None

    @property
    def process(self):
        return self.gunicorn.process if self.gunicorn else None

    def command(self) -> list[str]:
        # The app is gunicorn.conf.py's wsgi_app (the factory), as `hipaa-gate serve` runs it.
        return gunicorn_command(str(REPO / "gunicorn.conf.py"))

    def start(self, timeout: float = 60.0) -> Shim:
        self._stdout = open(self.stdout_path, "ab")  # noqa: SIM115 - closed in stop()
        self.gunicorn = Gunicorn(
            self.env, command=self.command(), cwd=REPO, stdout=self._stdout, stderr=self._stdout
        ).start()
        self.gunicorn.wait_http(
            f"{self.url}/readyz",
            timeout,
            ready=lambda r: r.status_code == 200 and len(self.worker_pids()) == self.workers,
            interval=0.2,
            describe_exit=lambda: self.stdout_path.read_text(errors="replace")[-2000:],
        )
        return self

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def stop(self) -> None:
        gunicorn, self.gunicorn = self.gunicorn, None
        if gunicorn is not None:
            gunicorn.stop(timeout=15)
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None

    def __enter__(self) -> Shim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_opa(bundle: Path, revision: str, workdir: Path) -> OpaSidecar:
    return _start_opa(bundle, revision, log=workdir / "opa.log")


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
