"""The pinned load generator (vegeta, from the Go module proxy) and the versions of every tool."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VEGETA_MODULE = "github.com/tsenart/vegeta/v12"
VEGETA_VERSION = "v12.13.0"


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)


def gobin() -> Path:
    gopath = _run(["go", "env", "GOPATH"], timeout=60).stdout.strip()
    if not gopath:
        raise RuntimeError("`go env GOPATH` gave nothing: is Go installed?")
    return Path(gopath) / "bin"


def module_version(binary: Path) -> str | None:
    """The main module version recorded in a Go binary (`go version -m`), or None."""
    if not binary.is_file():
        return None
    out = _run(["go", "version", "-m", str(binary)], timeout=60).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == "mod":
            return fields[2]
    return None


def ensure_vegeta() -> Path:
    """`go install` the pinned vegeta into $(go env GOPATH)/bin unless it is already there."""
    target = gobin() / "vegeta"
    if module_version(target) == VEGETA_VERSION:
        return target
    print(f"installing vegeta {VEGETA_VERSION} (first build takes a minute)", file=sys.stderr)
    env = {**os.environ, "GOBIN": str(target.parent)}
    direct = _run(["go", "install", f"{VEGETA_MODULE}@{VEGETA_VERSION}"], env=env, timeout=900)
    if direct.returncode != 0:
        # `go install mod@version` may look up the module's version list (deprecation check),
        # which some proxies refuse; `go get` of the pinned version in a throw-away module does not.
        with tempfile.TemporaryDirectory(prefix="vegeta-install-") as tmp:
            steps = [
                ["go", "mod", "init", "hipaa-gate-bench-tools"],
                ["go", "get", f"{VEGETA_MODULE}@{VEGETA_VERSION}"],
                ["go", "install", VEGETA_MODULE],
            ]
            for step in steps:
                result = _run(step, cwd=tmp, env=env, timeout=900)
                if result.returncode != 0:
                    raise RuntimeError(
                        f"installing vegeta failed at {' '.join(step)}: {result.stderr.strip()}"
                        f" (first attempt: {direct.stderr.strip()})"
                    )
    found = module_version(target)
    if found != VEGETA_VERSION:
        raise RuntimeError(f"vegeta at {target} reports {found}, expected {VEGETA_VERSION}")
    return target


def versions(opa_bin: str, vegeta_bin: Path) -> dict[str, str]:
    """What the report's "Versions" section lists."""
    from importlib.metadata import version

    opa = _run([opa_bin, "version"], timeout=30).stdout.splitlines()
    return {
        "opa": opa[0].split(":", 1)[1].strip() if opa else "unknown",
        "vegeta": module_version(vegeta_bin) or "unknown",
        "go": _run(["go", "env", "GOVERSION"], timeout=30).stdout.strip(),
        "python": platform.python_version(),
        "gunicorn": version("gunicorn"),
        "flask": version("flask"),
        "jsonschema": version("jsonschema"),
        "structlog": version("structlog"),
        "pycurl": version("pycurl"),
        "orjson": version("orjson"),
    } | _optional_versions("fastjsonschema")


def _optional_versions(*names: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory_gb": f"{mem_kb / 1024 / 1024:.1f}",
        "kernel": platform.release(),
        "os": platform.platform(terse=True),
    }


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_probe_ms(loops: int = 1_000_000, repeat: int = 3) -> float:
    """How fast this machine runs a fixed piece of Python now: best of ``repeat`` timings, ms.

    Lower is faster. It catches the shared host slowing this VM's CPUs down, which steal time
    often does not show; it misses slowdowns of memory-heavy work (a neighbour taking caches
    or memory bandwidth), so it is a hint, not a correction factor.
    """
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        total = 0
        for i in range(loops):
            total += i
        best = min(best, time.perf_counter() - started)
    return best * 1000


def wake_round_trip_us(cpus: set[int] | None, rounds: int = 20_000) -> float:
    """Mean wall time of one wake-up round trip between two processes, in microseconds.

    Parent and child pass one byte back and forth over two pipes: each round trip is two
    wake-ups of a sleeping process. ``cpus`` pins both processes to that set (one CPU: every
    wake-up is a switch on that CPU; None: wherever the scheduler puts them, usually one each).
    What a request costs beyond its own computation is mostly such wake-ups (the client, the
    shim's threads, OPA), so this says what one costs on this machine.
    """
    to_child, from_parent = os.pipe()
    to_parent, from_child = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child echoes and exits
        try:
            if cpus is not None:
                os.sched_setaffinity(0, cpus)
            for _ in range(rounds):
                os.read(to_child, 1)
                os.write(from_child, b"x")
        finally:
            os._exit(0)
    saved = os.sched_getaffinity(0)
    try:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
        started = time.perf_counter()
        for _ in range(rounds):
            os.write(from_parent, b"x")
            os.read(to_parent, 1)
        elapsed = time.perf_counter() - started
    finally:
        os.sched_setaffinity(0, saved)
        os.waitpid(pid, 0)
        for fd in (to_child, from_parent, to_parent, from_child):
            os.close(fd)
    return elapsed / rounds * 1e6


def cpu_ticks() -> tuple[int, int]:
    """(all, steal) CPU time of the machine so far, in clock ticks (/proc/stat).

    Steal is time the hypervisor gave this VM's virtual CPUs to someone else: one sign (not the
    only one) that the machine was disturbed during an attack.
    """
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    return sum(values), values[7]


def steal_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[0] - before[0]
    return 100.0 * (after[1] - before[1]) / total if total > 0 else 0.0
