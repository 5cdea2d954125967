"""Policy evaluation time: `opa bench` on data.hipaa.decision for every scenario, and a profile."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fixtures import Scenario
from stats import percentile

from service.opa.sidecar import OPA_STORE_FLAG, opa_env

QUERY = "data.hipaa.decision"
REPO = Path(__file__).resolve().parent.parent
PROFILE_COUNT = 10
# Packages that are not part of data.hipaa.decision (helpers and the other entry points).
OTHER_ENTRYPOINTS = {"lib", "breach", "vendors"}


@dataclass(frozen=True)
class EvalResult:
    scenario: str
    samples: int
    ns_per_op: float
    median_ns: float
    p99_ns: float
    allocs_per_op: float
    bytes_per_op: float


def _bench_env() -> dict[str, str]:
    # The Go runtime settings the sidecar runs with (service.opa.sidecar.OPA_RUNTIME_ENV: GOGC,
    # GOMEMLIMIT), so the evaluations collect garbage as often as in production. One evaluation
    # runs on one goroutine; GOMAXPROCS=1 keeps the Go runtime from spreading the benchmark loop
    # and its garbage collector over both (shared) cores, which on this machine made `opa bench`
    # take 5x longer in wall time with noisier figures. GC cost stays included.
    return {**opa_env(), "GOMAXPROCS": "1"}


def _run_opa_json(cmd: list[str], what: str) -> dict:
    """Run an opa command that prints JSON; a failure raises with OPA's own message."""
    result = subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, check=False, env=_bench_env()
    )
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip())[:500]
        raise RuntimeError(f"{what} failed: {detail}")
    return json.loads(result.stdout)


def bench_one(opa_bin: str, bundle: Path, scenario: Scenario, workdir: Path) -> EvalResult:
    input_path = workdir / f"{scenario.name}.input.json"
    input_path.write_text(json.dumps(scenario.opa_input()), encoding="utf-8")
    cmd = [
        opa_bin, "bench", OPA_STORE_FLAG, "-b", str(bundle), "-i", str(input_path),
        "-f", "json", QUERY,
    ]  # fmt: skip
    doc = _run_opa_json(cmd, f"opa bench for {scenario.name}")
    extra = doc["Extra"]
    prefix = "histogram_timer_rego_query_eval_ns_"
    return EvalResult(
        scenario=scenario.name,
        samples=int(doc["N"]),
        ns_per_op=doc["T"] / doc["N"],
        median_ns=float(extra[prefix + "median"]),
        p99_ns=float(extra[prefix + "99%"]),
        allocs_per_op=doc["MemAllocs"] / doc["N"],
        bytes_per_op=doc["MemBytes"] / doc["N"],
    )


def bench_all(opa_bin: str, bundle: Path, scenarios: list[Scenario], workdir: Path):
    results = []
    for i, scenario in enumerate(scenarios, 1):
        print(f"  opa bench {i}/{len(scenarios)} {scenario.name}", flush=True)
        results.append(bench_one(opa_bin, bundle, scenario, workdir))
    return results


def summary(results: list[EvalResult]) -> dict[str, float]:
    """p50 = median of the per-scenario medians; p99 = p99 (nearest rank) of per-scenario p99s.

    With fewer than 100 scenarios the p99 over scenarios is the worst scenario's p99: the
    figure answers "how slow is the slowest request shape at its own 99th percentile".
    """
    return {
        "policy_eval_p50_us": percentile([r.median_ns for r in results], 50) / 1000,
        "policy_eval_p99_us": percentile([r.p99_ns for r in results], 99) / 1000,
        "policy_eval_mean_us": sum(r.ns_per_op for r in results) / len(results) / 1000,
        # Machine-independent: allocations do not drift with the host's speed.
        "policy_allocs_p50": percentile([r.allocs_per_op for r in results], 50),
    }


def profile(opa_bin: str, bundle: Path, scenario: Scenario, workdir: Path, limit: int = 15):
    """`opa eval --profile` of one scenario: the expressions that take the most time.

    Every `--count` round is a fresh evaluation (the bundle is loaded again), so the figures are
    medians over cold evaluations: good for ranking expressions, not for absolute latency.
    """
    input_path = workdir / f"{scenario.name}.input.json"
    input_path.write_text(json.dumps(scenario.opa_input()), encoding="utf-8")
    cmd = [
        opa_bin, "eval", "-b", str(bundle), "-i", str(input_path), "--format", "json",
        "--profile", "--profile-sort", "total_time_ns", "--profile-limit", str(limit),
        "--count", str(PROFILE_COUNT), QUERY,
    ]  # fmt: skip
    doc = _run_opa_json(cmd, f"opa eval --profile for {scenario.name}")
    rows = []
    for entry in doc.get("aggregated_profile", [])[:limit]:
        loc = entry.get("location", {})
        rows.append(
            {
                "location": f"{_display(str(loc.get('file', '?')))}:{loc.get('row', '?')}",
                "total_time_us": entry["total_time_ns_stats"]["median"] / 1000,
                "num_eval": entry.get("num_eval", 0),
                "num_redo": entry.get("num_redo", 0),
                "text": _source_line(loc),
            }
        )
    metrics = doc.get("aggregated_metrics", {}).get("timer_rego_query_eval_ns", {})
    return rows, metrics


def package_costs(opa_bin: str, bundle: Path, scenario: Scenario, workdir: Path):
    """`opa bench` of each data.hipaa.<package> alone for one scenario: where the time goes.

    A package's figure includes what it depends on (e.g. most packages read hipaa.request), so
    the figures overlap and do not add up to the decision's; the order is what matters.
    """
    input_path = workdir / f"{scenario.name}.input.json"
    input_path.write_text(json.dumps(scenario.opa_input()), encoding="utf-8")
    packages = sorted(
        p.name
        for p in (REPO / "policies" / "hipaa").iterdir()
        if p.is_dir() and p.name not in OTHER_ENTRYPOINTS and any(p.glob("*.rego"))
    )
    costs = []
    for name in packages:
        cmd = [
            opa_bin, "bench", OPA_STORE_FLAG, "--fail=false", "-b", str(bundle),
            "-i", str(input_path), "-f", "json", f"data.hipaa.{name}",
        ]  # fmt: skip
        result = subprocess.run(
            cmd, capture_output=True, text=True, timeout=300, check=False, env=_bench_env()
        )
        if result.returncode != 0:
            continue
        doc = json.loads(result.stdout)
        extra = doc["Extra"]
        costs.append(
            {
                "package": f"data.hipaa.{name}",
                "median_us": extra["histogram_timer_rego_query_eval_ns_median"] / 1000,
                "allocs_per_op": doc["MemAllocs"] / doc["N"],
            }
        )
    return sorted(costs, key=lambda c: c["median_us"], reverse=True)


def _display(name: str) -> str:
    """A bundle file name relative to the repo (opa build records absolute paths)."""
    prefix = str(REPO) + "/"
    return name[len(prefix) :] if name.startswith(prefix) else name.lstrip("/")


def _source_line(loc: dict) -> str:
    name = str(loc.get("file", ""))
    # opa build -b <absolute dir> records absolute file names; relative ones are repo-relative.
    candidates = [Path(name), REPO / name.lstrip("/"), REPO / "policies" / name.lstrip("/")]
    row = int(loc.get("row", 0) or 0)
    for candidate in candidates:
        if name and candidate.is_file() and row > 0:
            lines = candidate.read_text(encoding="utf-8").splitlines()
            if row <= len(lines):
                return lines[row - 1].strip()
    return ""
