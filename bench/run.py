"""`make bench`: policy evaluation time, OPA vs shim under load, resident memory; writes a report.

1. `opa bench` on data.hipaa.decision for every scenario fixture (bundle mode);
2. one vegeta load test, same client, same request mix, same concurrency and duration, against
   OPA directly and against the shim (closed loop for throughput, then a fixed arrival rate below
   both capacities for latency), with the decision log fsync'd and then not;
3. resident memory of OPA and of each shim worker after the load (/proc);
4. docs/benchmarks.md, and as the last line one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import cds
import fixtures
import loadgen
import policy_eval
import report
import requests
import shim_profile
import stack
import targets
import toolchain

from service.opa.sidecar import build_bundle
from service.paths import opa_binary, policy_dir

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "policy_tests" / "scenarios"
LAST_RUN = REPO / ".build" / "bench-last.pickle"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured attack")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured warm-up")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="vegeta connections (both targets)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="load-test rounds (direct, shim fsync=always, shim fsync=never each round); the "
        "headline figures are medians over the rounds",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (production: 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (prod: 4)")
    parser.add_argument(
        "--rate-fraction",
        type=float,
        default=0.5,
        help="fixed-rate phase: this fraction of the slower target's closed-loop throughput",
    )
    parser.add_argument("--scenarios", type=Path, default=SCENARIOS, help="fixture directory")
    parser.add_argument(
        "--no-shim-profile",
        dest="shim_profile",
        action="store_false",
        help="skip the py-spy profile of the shim workers",
    )
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-report", action="store_true", help="do not write the Markdown file")
    parser.add_argument(
        "--rerender",
        action="store_true",
        help="only write the report again from the last run's figures (.build/bench-last.pickle)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    return parser.parse_args(argv)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_mix(direct_url: str, shim: stack.Shim, direct_bodies, shim_bodies, names) -> None:
    """Every request of the mix is answered (200 with a decision) by both targets before timing."""
    headers = {"Content-Type": "application/json"}
    auth = {**headers, "Authorization": f"Bearer {shim.token}"}
    for name, direct, body in zip(names, direct_bodies, shim_bodies, strict=True):
        resp = requests.post(direct_url, data=direct, headers=headers, timeout=10)
        if resp.status_code != 200 or "allow" not in resp.json().get("result", {}):
            raise SystemExit(f"OPA gave no decision for {name}: HTTP {resp.status_code}")
        shim_url = f"{shim.url}/v1/disclosures/decide"
        resp = requests.post(shim_url, data=body, headers=auth, timeout=10)
        if resp.status_code != 200 or "allow" not in resp.json():
            raise SystemExit(f"the shim gave no decision for {name}: HTTP {resp.status_code}")


def load_test(args, opa, scenarios, workdir: Path, vegeta: Path) -> dict:
    now = utc_now()
    names = [s.name for s in scenarios]
    direct_url = f"{opa.url}/v1/data/hipaa/decision"
    direct_bodies = [json.dumps({"input": s.opa_input(now)}).encode() for s in scenarios]
    shim_bodies = [json.dumps(s.request).encode() for s in scenarios]
    json_header = {"Content-Type": "application/json"}
    direct_targets = loadgen.write_targets(
        workdir / "direct.targets", direct_url, direct_bodies, json_header
    )
    out: dict = {"attacks": [], "shims": {}, "started_at": now}

    round_no = 1

    def attack(label, target, mode, targets_file, watched, rate=0, duration=None):
        a = loadgen.Attack(
            label, target, mode, duration or args.duration, args.concurrency, rate=rate,
            round_no=round_no,
        )  # fmt: skip
        print(
            f"  vegeta {label} (round {round_no}): {mode} {a.duration_s}s c={a.concurrency} "
            f"rate={rate}",
            flush=True,
        )
        loadgen.run(vegeta, a, targets_file, workdir, watched)
        return a

    rate = None
    rates: list[int] = []
    for round_no, fsync in ((r, f) for r in range(1, args.rounds + 1) for f in ("always", "never")):
        with stack.Shim(
            opa.url, workdir, fsync=fsync, workers=args.workers, threads=args.threads
        ) as shim:
            shim_targets = loadgen.write_targets(
                workdir / f"shim-{fsync}.targets",
                f"{shim.url}/v1/disclosures/decide",
                shim_bodies,
                {**json_header, "Authorization": f"Bearer {shim.token}"},
            )
            check_mix(direct_url, shim, direct_bodies, shim_bodies, names)
            rss_at_start = [stack.rss_mb(p) for p in shim.worker_pids()]
            if fsync == "always":
                out["opa_rss_mb_at_start"] = stack.rss_mb(opa.process.pid)
            watched = {
                "opa": [opa.process.pid],
                "shim_workers": shim.worker_pids(),
                "shim_master": [shim.process.pid],
            }
            first = fsync == "always"
            if first and round_no == 1:
                attack("warmup-direct", "direct", "closed", direct_targets, watched, 0, args.warmup)
            attack(f"warmup-shim-{fsync}", "shim", "closed", shim_targets, watched, 0, args.warmup)
            phases = []
            if first:
                phases.append(attack("direct-closed", "direct", "closed", direct_targets, watched))
            phases.append(attack(f"shim-{fsync}-closed", "shim", "closed", shim_targets, watched))
            if first:
                # Set again in every round: the host's speed drifts (by a third within a run
                # here), and a rate set once could saturate a later, slower round, which would
                # then measure queueing instead of the shim's own cost.
                slower = min(a.rps for a in phases)
                rate = max(1, int(slower * args.rate_fraction))
                rates.append(rate)
            if first:
                phases.append(
                    attack("direct-rate", "direct", "rate", direct_targets, watched, rate)
                )
            phases.append(attack(f"shim-{fsync}-rate", "shim", "rate", shim_targets, watched, rate))
            if first:  # cds_added_p50_ms: a consult and its decide request at the same rate
                for key, first_seen in (("cds", False), ("cds_first_seen", True)):
                    out.setdefault(key, []).append(
                        cds.run_pair(
                            vegeta, shim, workdir, rate=rate, duration=args.duration,
                            round_no=round_no, concurrency=args.concurrency,
                            first_seen=first_seen,
                        )
                    )  # fmt: skip
            out["attacks"].extend(phases)
            if first and round_no == 1 and args.shim_profile:
                out["shim_profile"] = profile_shim(
                    args, shim, shim_targets, watched, workdir, attack
                )
            workers = shim.worker_pids()
            out["shims"][fsync] = {
                "worker_rss_mb": [stack.rss_mb(p) for p in workers],
                "worker_rss_mb_at_start": rss_at_start,
                "worker_pss_mb": [stack.pss_mb(p) for p in workers],
                "master_rss_mb": stack.rss_mb(shim.process.pid),
                "decision_log_lines": sum(1 for _ in shim.decision_log.open("rb")),
                "decision_log_bytes": shim.decision_log.stat().st_size,
            }
    out["rates"] = rates
    out["rate"] = int(_median(rates))
    out["rounds"] = args.rounds
    out["opa_rss_mb"] = stack.rss_mb(opa.process.pid)
    out["opa_pss_mb"] = stack.pss_mb(opa.process.pid)
    return out


def profile_shim(args, shim, shim_targets, watched, workdir: Path, attack) -> dict:
    """Extra, unmeasured closed-loop attacks while py-spy samples the workers (wall, then CPU)."""
    duration = min(args.duration, 10)
    profiles: dict = {}
    for view, gil in (("wall", False), ("cpu", True)):
        raw = workdir / f"shim-profile-{view}.txt"
        try:
            spy = shim_profile.record(shim.process.pid, duration + 1, raw, gil=gil)
        except FileNotFoundError as exc:
            return {"error": str(exc)}
        try:
            time.sleep(0.5)
            attack(
                f"shim-always-profiled-{view}", "shim", "closed", shim_targets, watched, 0, duration
            )
            output, _ = spy.communicate(timeout=60)
        finally:
            if spy.poll() is None:
                spy.kill()
                spy.wait()
        if spy.returncode != 0 or not raw.is_file():
            return {"error": output.decode(errors="replace")[-500:]}
        profiles[view] = shim_profile.summarize(raw.read_text(encoding="utf-8"))
    return profiles


def _rounds(load: dict, label: str) -> list[loadgen.Attack]:
    """The attacks named ``label``, one per round, in round order."""
    found = sorted(
        (a for a in load["attacks"] if a.label == label),
        key=lambda a: getattr(a, "round_no", 1),
    )
    if not found:
        raise KeyError(label)
    return found


def _median(values) -> float:
    return statistics.median(list(values))


def _cpu_per_request(attack: loadgen.Attack, group: str) -> float:
    """CPU seconds the process group spent per request of the attack."""
    return attack.cpu_s[group] / max(1, attack.report["requests"])


def headline(eval_summary: dict, load: dict) -> dict:
    """The headline figures: each the median over the load-test rounds. A ratio or difference of
    two attacks is taken within each round (same machine state), then the median of those."""
    direct_c, shim_c = _rounds(load, "direct-closed"), _rounds(load, "shim-always-closed")
    direct_r, shim_r = _rounds(load, "direct-rate"), _rounds(load, "shim-always-rate")
    never_c, never_r = _rounds(load, "shim-never-closed"), _rounds(load, "shim-never-rate")
    figures = {
        "policy_eval_p50_us": round(eval_summary["policy_eval_p50_us"], 1),
        "policy_eval_p99_us": round(eval_summary["policy_eval_p99_us"], 1),
        "policy_allocs_p50": round(eval_summary["policy_allocs_p50"]),
        "shim_cpu_per_opa_cpu": round(
            _median(
                _cpu_per_request(s, "shim_workers") / _cpu_per_request(d, "opa")
                for s, d in zip(shim_c, direct_c, strict=True)
            ),
            3,
        ),
        "direct_rps": round(_median(a.rps for a in direct_c), 1),
        "shim_rps": round(_median(a.rps for a in shim_c), 1),
        "shim_to_direct_ratio": round(
            _median(s.rps / d.rps for s, d in zip(shim_c, direct_c, strict=True)), 3
        ),
        "direct_p50_ms": round(_median(a.latency_ms("50th") for a in direct_r), 3),
        "shim_p50_ms": round(_median(a.latency_ms("50th") for a in shim_r), 3),
        "shim_p99_ms": round(_median(a.latency_ms("99th") for a in shim_r), 3),
        "shim_added_p50_ms": round(
            _median(
                s.latency_ms("50th") - d.latency_ms("50th")
                for s, d in zip(shim_r, direct_r, strict=True)
            ),
            3,
        ),
        "cds_added_p50_ms": cds.added_p50_ms(load["cds"]),
        "cds_added_p50_ms_first_seen": cds.added_p50_ms(load["cds_first_seen"]),
        "shim_worker_rss_mb": round(max(load["shims"]["always"]["worker_rss_mb"]), 1),
        "opa_rss_mb": round(load["opa_rss_mb"], 1),
        "fixed_rate_rps": load["rate"],
        "concurrency": direct_c[0].concurrency,
        "rounds": len(direct_c),
        "shim_to_direct_ratio_fsync_never": round(
            _median(s.rps / d.rps for s, d in zip(never_c, direct_c, strict=True)), 3
        ),
        "shim_added_p50_ms_fsync_never": round(
            _median(
                s.latency_ms("50th") - d.latency_ms("50th")
                for s, d in zip(never_r, direct_r, strict=True)
            ),
            3,
        ),
        "shim_rps_fsync_never": round(_median(a.rps for a in never_c), 1),
        "shim_p50_ms_fsync_never": round(_median(a.latency_ms("50th") for a in never_r), 3),
        "shim_p99_ms_fsync_never": round(_median(a.latency_ms("99th") for a in never_r), 3),
        "decision_log_record_bytes": round(
            load["shims"]["always"]["decision_log_bytes"]
            / max(1, load["shims"]["always"]["decision_log_lines"])
        ),
        "all_requests_ok": all(a.ok for a in load["attacks"])
        and all(p.ok for key in ("cds", "cds_first_seen") for p in load.get(key, [])),
    }
    met = targets.evaluate(figures)
    figures["targets_met"] = all(ok for _, _, ok in met)
    return figures


def write_report(output: Path, parts: tuple) -> None:
    text = report.markdown(*parts)
    # The audit desk's section (bench/audit_bench.py, `make bench-audit`) is kept as it was.
    old = output.read_text(encoding="utf-8") if output.exists() else ""
    start, end = old.find("<!-- audit-bench:start -->"), old.find("<!-- audit-bench:end -->")
    if 0 <= start < end:
        text = text.rstrip("\n") + "\n\n" + old[start:end] + "<!-- audit-bench:end -->\n"
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rerender:
        parts = pickle.loads(LAST_RUN.read_bytes())  # noqa: S301 - our own file from the last run
        write_report(args.output, parts)
        print(json.dumps(parts[-2], sort_keys=True))
        return 0
    started = time.monotonic()
    scenarios = fixtures.load(args.scenarios)
    opa_bin = opa_binary()
    vegeta = toolchain.ensure_vegeta()
    context = {
        "machine": toolchain.machine(),
        "versions": toolchain.versions(opa_bin, vegeta),
        "load_at_start": toolchain.loadavg(),
        "args": vars(args) | {"output": str(args.output)},
        "scenario_count": len(scenarios),
        "date": utc_now(),
    }
    (REPO / ".build").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-", dir=REPO / ".build"))
    keep_workdir = False
    try:
        bundle, revision = build_bundle(policy_dir(), workdir / "bundle")
        context["revision"] = revision
        print(f"policy evaluation: opa bench x {len(scenarios)} scenarios", flush=True)
        context["wake_round_trip_us"] = {
            "across CPUs": toolchain.wake_round_trip_us(None),
            "on one CPU": toolchain.wake_round_trip_us({min(os.sched_getaffinity(0))}),
        }
        ticks, probe = toolchain.cpu_ticks(), toolchain.cpu_probe_ms()
        evals = policy_eval.bench_all(opa_bin, bundle, scenarios, workdir)
        context["eval_steal_pct"] = toolchain.steal_percent(ticks, toolchain.cpu_ticks())
        context["eval_probe_ms"] = (probe, toolchain.cpu_probe_ms())
        eval_summary = policy_eval.summary(evals)
        slowest = max(evals, key=lambda r: r.median_ns)
        slowest_scenario = next(s for s in scenarios if s.name == slowest.scenario)
        profile_rows, profile_metrics = policy_eval.profile(
            opa_bin, bundle, slowest_scenario, workdir
        )
        print(f"cost by package for {slowest.scenario}", flush=True)
        package_costs = policy_eval.package_costs(opa_bin, bundle, slowest_scenario, workdir)
        print("load test: vegeta against OPA directly and against the shim", flush=True)
        opa = stack.start_opa(bundle, revision, workdir)
        try:
            load = load_test(args, opa, scenarios, workdir, vegeta)
        finally:
            opa.stop()
        context["load_at_end"] = toolchain.loadavg()
        context["elapsed_s"] = round(time.monotonic() - started)
        figures = headline(eval_summary, load)
        verdicts = targets.evaluate(figures)
        for target, value, ok in verdicts:
            print(f"target {'MET    ' if ok else 'NOT MET'} {target.description}: {value:g}")
        if not figures["all_requests_ok"]:
            # vegeta's results, the shims' stdout and the decision logs say what happened.
            keep_workdir = True
            print(
                f"WARNING: some requests failed; see the report and {workdir} (kept)",
                file=sys.stderr,
            )
        parts = (
            context, evals, eval_summary, slowest, profile_rows, profile_metrics,
            package_costs, load, figures, verdicts,
        )  # fmt: skip
        # Kept so the report's prose (bench/analysis.md) can be re-rendered without a new run.
        LAST_RUN.write_bytes(pickle.dumps(parts))
        if not args.no_report:
            write_report(args.output, parts)
    finally:
        if not keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(figures, sort_keys=True))
    return 1 if args.strict and not figures["targets_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
