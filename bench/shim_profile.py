"""Where the shim's workers spend their time under load: py-spy samples, summarised."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]+):(?P<line>\d+)\)$")
# Stacks that end here are threads waiting for work, not serving a request.
IDLE_LEAVES = (
    ("selectors.py", "select"),
    ("concurrent/futures/thread.py", "_worker"),
    ("threading.py", "wait"),
    ("gunicorn/arbiter.py", "sleep"),
)


def py_spy() -> str | None:
    found = Path(sys.executable).parent / "py-spy"
    return str(found) if found.is_file() else shutil.which("py-spy")


def record(pid: int, duration_s: int, output: Path, *, gil: bool) -> subprocess.Popen[bytes]:
    """Start sampling gunicorn `pid` and its workers (returns at once; wait on the process).

    gil=False samples every thread that is not idle (wall time: includes threads blocked in
    fsync, a lock or a socket read); gil=True only the thread holding the GIL (Python CPU time).
    """
    binary = py_spy()
    if binary is None:
        raise FileNotFoundError("py-spy not installed (pip install -e '.[dev]')")
    cmd = [
        binary, "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
        "--rate", "100", "--duration", str(duration_s), "--format", "raw",
        "--output", str(output),
    ]  # fmt: skip
    if gil:
        cmd.append("--gil")
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _frames(stack: str) -> list[tuple[str, str, int]]:
    frames = []
    for part in stack.split(";"):
        match = FRAME.match(part)
        if match:  # "process N:..." pseudo-frames carry no file
            frames.append((match["func"], match["file"], int(match["line"])))
    return frames


def _library(path: str) -> str:
    first = path.split("/", 1)[0]
    return first[:-3] if first.endswith(".py") else first


def summarize(raw: str, top: int = 15) -> dict:
    leaves: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    busy = idle = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = _frames(stack)
        if not frames:
            continue
        func, path, lineno = frames[-1]
        if any(path.endswith(f) and func.rsplit(".", 1)[-1] == fn for f, fn in IDLE_LEAVES):
            idle += count
            continue
        busy += count
        leaves[f"{func} ({path}:{lineno})"] += count
        libraries[_library(path)] += count
        seen = {f"{fn} ({p})" for fn, p, _ in frames if p.startswith("service/")}
        for name in seen:
            inclusive[name] += count
    return {
        "busy_samples": busy,
        "idle_samples": idle,
        "self": leaves.most_common(top),
        "libraries": libraries.most_common(top),
        "service_inclusive": inclusive.most_common(top),
    }
