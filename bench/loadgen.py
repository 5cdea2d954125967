"""One vegeta attack: the same client for OPA and the shim, at a fixed duration."""

from __future__ import annotations

import base64
import json
import resource
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stack
import toolchain


@dataclass
class Attack:
    label: str
    target: str  # "direct" or "shim"
    mode: str  # "closed" (fixed concurrency, as fast as it goes) or "rate" (fixed arrival rate)
    duration_s: int
    concurrency: int
    rate: int = 0
    round_no: int = 1
    report: dict[str, Any] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    # Per process group: system CPU seconds and context switches during the attack.
    sys_s: dict[str, float] = field(default_factory=dict)
    switches: dict[str, int] = field(default_factory=dict)
    load_before: str = ""
    load_after: str = ""
    steal_pct: float = 0.0  # share of the machine's CPU time the hypervisor took meanwhile
    probe_ms: float = 0.0  # toolchain.cpu_probe_ms() just before the attack (machine speed)

    @property
    def rps(self) -> float:
        return float(self.report["throughput"])

    def latency_ms(self, key: str) -> float:
        return self.report["latencies"][key] / 1e6

    @property
    def ok(self) -> bool:
        return self.report["success"] == 1.0 and set(self.report["status_codes"]) == {"200"}


def write_targets(path: Path, url: str, bodies: list[bytes], headers: dict[str, str]) -> Path:
    """vegeta's JSON target format, one POST per line; vegeta cycles through them in order."""
    with path.open("w", encoding="utf-8") as out:
        for body in bodies:
            target = {
                "method": "POST",
                "url": url,
                "body": base64.b64encode(body).decode(),
                "header": {k: [v] for k, v in headers.items()},
            }
            out.write(json.dumps(target) + "\n")
    return path


def run(
    vegeta: Path, attack: Attack, targets: Path, workdir: Path, watched: dict[str, list[int]]
) -> Attack:
    """Run the attack; record vegeta's report and the CPU each process group used meanwhile."""
    results = workdir / f"{attack.label}.bin"
    cmd = [
        str(vegeta), "attack", "-format=json", f"-targets={targets}",
        f"-duration={attack.duration_s}s", "-timeout=5s", "-keepalive=true",
        f"-workers={attack.concurrency}", f"-output={results}",
    ]  # fmt: skip
    if attack.mode == "closed":
        cmd += ["-rate=0", f"-max-workers={attack.concurrency}"]
    else:
        cmd += [f"-rate={attack.rate}/1s"]
    before = {name: stack.cpu_seconds(pids) for name, pids in watched.items()}
    kernel_before = {name: stack.kernel_counters(pids) for name, pids in watched.items()}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    attack.probe_ms = toolchain.cpu_probe_ms()
    attack.load_before = toolchain.loadavg()
    ticks_before = toolchain.cpu_ticks()
    subprocess.run(cmd, check=True, timeout=attack.duration_s + 60, capture_output=True)
    attack.steal_pct = toolchain.steal_percent(ticks_before, toolchain.cpu_ticks())
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    attack.load_after = toolchain.loadavg()
    attack.cpu_s = {name: stack.cpu_seconds(pids) - before[name] for name, pids in watched.items()}
    for name, pids in watched.items():
        system_s, switches = stack.kernel_counters(pids)
        attack.sys_s[name] = system_s - kernel_before[name][0]
        attack.switches[name] = switches - kernel_before[name][1]
    attack.cpu_s["vegeta"] = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    report = subprocess.run(
        [str(vegeta), "report", "-type=json", str(results)],
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    attack.report = json.loads(report.stdout)
    results.unlink(missing_ok=True)
    return attack
