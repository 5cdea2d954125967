"""Soak: minutes of mixed traffic against real OPA + gunicorn, then the books are balanced.

    .venv/bin/python tests/reliability/soak.py [--seconds 180] [--clients 16] [--workers 3]
        [--threads 4] [--kill-opa-every 0] [--json report.json]

Run by ``make soak``. Starts OPA (service.opa.sidecar) and the shim (gunicorn -c gunicorn.conf.py,
metrics aggregated over workers) on free loopback ports, sends a mixed request stream from
``--clients`` threads for ``--seconds`` (valid decisions of nine kinds, invalid requests, bad
JSON, wrong media types, oversized bodies, the other /v1 documents, health, readiness and
metrics), optionally SIGKILLs OPA every ``--kill-opa-every`` seconds and restarts it two seconds
later, then checks:

- every request got an HTTP answer, of the status its kind calls for (503 only while OPA was
  down, and then with ``policy_engine_unavailable``; never an allow while OPA was down);
- every decision answered (200 or 503) has exactly one complete JSON line in the decision log,
  no line is partial, no ``decision_id`` repeats;
- /metrics counted every decide request;
- no process printed a raw patient id, token or the HMAC key;

and prints the figures (throughput, latency percentiles, memory before/after). Exits 1 when an
invariant is broken. Traffic goes to 127.0.0.1 only; the run is bounded by ``--seconds``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.reliability import harness

# (kind, weight, expected status when OPA is up)
MIX = [
    ("decide", 70, 200),
    ("invalid_request", 8, 400),
    ("invalid_json", 4, 400),
    ("wrong_media_type", 3, 415),
    ("too_large", 2, 413),
    ("state_law", 3, 200),
    ("findings", 2, 200),
    ("healthz", 3, 200),
    ("readyz", 3, 200),
    ("metrics", 2, 200),
]
POLICY_KINDS = {"decide", "state_law", "findings", "readyz"}  # answers 503 while OPA is down


class Soak:
    def __init__(self, stack: harness.Stack, clients: int, seconds: float, seed: int) -> None:
        self.stack = stack
        self.clients = clients
        self.seconds = seconds
        self.rng_seed = seed
        self.lock = threading.Lock()
        self.results: list[dict] = []
        self.opa_down: list[list[float]] = []  # [killed, restart spawned, ready again]
        self.stop = threading.Event()

    # ------------------------------------------------------------------ traffic
    def one(self, session: requests.Session, rng: random.Random, kind: str) -> dict:
        url = self.stack.url
        sec = self.stack.secrets
        body = None
        started = time.monotonic()
        rid = None
        try:
            if kind == "decide":
                body = harness.valid_request(rng.randrange(len(harness.VALID_KINDS)), None)
                with self.lock:
                    sec.patient_ids.add(body["patient"]["id"])
                rid = body["request_id"]
                r = session.post(f"{url}/v1/disclosures/decide", json=body, timeout=30)
            elif kind == "invalid_request":
                body = harness.valid_request(0, None)
                body["patient"]["state"] = "XX"
                body["data"]["categories"] = []
                with self.lock:
                    sec.patient_ids.add(body["patient"]["id"])
                r = session.post(f"{url}/v1/disclosures/decide", json=body, timeout=30)
            elif kind == "invalid_json":
                r = session.post(
                    f"{url}/v1/disclosures/decide",
                    data=b'{"purpose": "treatment", NaN',
                    headers={"Content-Type": "application/json"},
                    timeout=30,
                )
            elif kind == "wrong_media_type":
                r = session.post(
                    f"{url}/v1/disclosures/decide", data=b"purpose=treatment", timeout=30
                )
            elif kind == "too_large":
                r = session.post(
                    f"{url}/v1/disclosures/decide",
                    data=b'{"x": "' + b"a" * (65 * 1024) + b'"}',
                    headers={"Content-Type": "application/json"},
                    timeout=30,
                )
            elif kind == "state_law":
                r = session.get(f"{url}/v1/state-laws/{rng.choice(['CA', 'NY', 'TX'])}", timeout=30)
            elif kind == "findings":
                r = session.get(f"{url}/v1/business-associates/findings", timeout=30)
            else:
                r = session.get(f"{url}/{kind}", timeout=30)
        except requests.RequestException as exc:
            return {
                "kind": kind,
                "status": None,
                "error": f"{type(exc).__name__}: {exc}"[:300],
                "t0": started,
                "t1": time.monotonic(),
                "rid": rid,
            }
        finished = time.monotonic()
        out = {"kind": kind, "status": r.status_code, "t0": started, "t1": finished, "rid": rid}
        if kind in ("decide", "invalid_request", "invalid_json", "wrong_media_type", "too_large"):
            try:
                payload = harness.strict_json_loads(r.content)
            except ValueError:
                out["bad_body"] = True
                return out
            if r.status_code == 200:
                out["allow"] = payload.get("allow")
                out["decision_id"] = payload.get("decision_id")
            else:
                try:
                    out["code"] = harness.check_error_shape(r.status_code, payload)
                except AssertionError as exc:
                    out["bad_body"] = str(exc)
        return out

    def client(self, n: int) -> None:
        rng = random.Random(self.rng_seed * 1000 + n)  # noqa: S311 - traffic mix, not crypto
        kinds = [k for k, _, _ in MIX]
        weights = [w for _, w, _ in MIX]
        session = requests.Session()
        previous: int | None = None  # status of the previous answer on this keep-alive session
        while not self.stop.is_set():
            res = self.one(session, rng, rng.choices(kinds, weights)[0])
            res["previous_status"] = previous
            previous = res["status"]
            with self.lock:
                self.results.append(res)

    def run(self, kill_every: float) -> float:
        """Clients in threads; OPA is killed and restarted from this (the main) thread, because
        service.opa.sidecar asks the kernel to SIGTERM OPA when the thread that started it ends."""
        threads = [threading.Thread(target=self.client, args=(i,)) for i in range(self.clients)]
        started = time.monotonic()
        next_kill = started + kill_every if kill_every > 0 else float("inf")
        down: list[float] | None = None
        for t in threads:
            t.start()
        try:
            while time.monotonic() - started < self.seconds:
                now = time.monotonic()
                if down is None and now >= next_kill:
                    self.stack.opa.kill()
                    down = [time.monotonic(), float("inf"), float("inf")]
                    with self.lock:
                        self.opa_down.append(down)
                elif down is not None and now >= down[0] + 2.0:
                    down[1] = time.monotonic()  # nothing listens on OPA's port before this
                    self.stack.restart_opa()
                    down[2] = time.monotonic()
                    next_kill = down[2] + kill_every
                    down = None
                time.sleep(0.1)
        finally:
            self.stop.set()
            for t in threads:
                t.join(timeout=120)
            if down is not None:  # the run ended during an outage: bring OPA back for the books
                down[1] = time.monotonic()
                self.stack.restart_opa()
                down[2] = time.monotonic()
        return time.monotonic() - started

    # ------------------------------------------------------------------ accounting
    def overlaps_outage(self, r: dict) -> bool:
        """The request overlapped [kill, OPA ready again + the shim's connect timeout]."""
        return any(r["t0"] <= back + 1.0 and r["t1"] >= killed for killed, _, back in self.opa_down)

    def surely_without_opa(self, r: dict) -> bool:
        """Started after the kill and answered before a new OPA was even spawned."""
        return any(killed < r["t0"] and r["t1"] < spawn for killed, spawn, _ in self.opa_down)


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def metric_total(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=180.0, help="how long to send (default 180)")
    ap.add_argument("--clients", type=int, default=16, help="concurrent client threads")
    ap.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    ap.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    ap.add_argument(
        "--kill-opa-every", type=float, default=0.0, help="SIGKILL OPA every S seconds (0: never)"
    )
    ap.add_argument(
        "--opa-read-timeout",
        type=float,
        default=0.5,
        help="HIPAA_GATE_OPA_READ_TIMEOUT for the shim (default 0.5, the service's default)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the report as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the process output even when OK")
    args = ap.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="hipaa-gate-soak-"))
    metrics_dir = workdir / "metrics"
    metrics_dir.mkdir()
    bundle, revision = harness.build_bundle(workdir / "bundle")
    stack = harness.start_stack(
        workdir / "stack",
        bundle,
        workers=args.workers,
        threads=args.threads,
        env={
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "HIPAA_GATE_OPA_READ_TIMEOUT": str(args.opa_read_timeout),
        },
    )
    problems: list[str] = []
    try:
        warm = harness.run_load(
            stack.url, [harness.valid_request(i, stack.secrets) for i in range(50)], clients=4
        )
        problems += [
            f"warm-up answered {o.status} {o.code}"
            for o in warm
            if o.status != 200 and (o.status, o.code) != (503, "policy_engine_unavailable")
        ]
        shim_pids = stack.shim.child_pids()
        rss_before = {"shim": rss_kib(shim_pids), "opa": rss_kib([stack.opa.pid])}
        soak = Soak(stack, args.clients, args.seconds, args.seed)
        print(
            f"soak: {args.seconds:.0f}s, {args.clients} clients, {args.workers} workers x "
            f"{args.threads} threads, OPA kill every {args.kill_opa_every or 'never'}; "
            f"policy {revision}",
            flush=True,
        )
        elapsed = soak.run(args.kill_opa_every)
        rss_after = {"shim": rss_kib(stack.shim.child_pids()), "opa": rss_kib([stack.opa.pid])}
        metrics_text = requests.get(stack.url + "/metrics", timeout=30).text
        results = soak.results + [
            {
                "kind": "decide",
                "status": o.status,
                "rid": o.request_id,
                "t0": 0,
                "t1": 0,
                "decision_id": (o.payload or {}).get("decision_id"),
                "allow": (o.payload or {}).get("allow"),
            }
            for o in warm
        ]
    finally:
        stack.stop()

    expected = {k: s for k, _, s in MIX}
    by_kind = Counter(r["kind"] for r in soak.results)
    statuses = Counter((r["kind"], r["status"]) for r in soak.results)
    overload_503 = 0  # OPA slower than the read timeout under load: fail-closed, not a fault
    for r in soak.results:
        if r["status"] is None:
            after = r.get("previous_status")
            problems.append(f"{r['kind']}: no answer after a {after} ({r.get('error')})")
        elif r.get("bad_body"):
            problems.append(f"{r['kind']}: error body not in contract shape: {r['bad_body']}")
        elif r["status"] != expected[r["kind"]]:
            fail_closed = r["status"] == 503 and r["kind"] in POLICY_KINDS
            if r["kind"] == "decide" and r.get("code") != "policy_engine_unavailable":
                fail_closed = False
            if not fail_closed:
                want = expected[r["kind"]]
                problems.append(f"{r['kind']}: status {r['status']} (expected {want})")
            elif not soak.overlaps_outage(r):
                overload_503 += 1
        if r["kind"] == "decide" and r.get("allow") and soak.surely_without_opa(r):
            problems.append(f"decide: ALLOW while OPA was down ({r['rid']})")

    # The books: one complete JSON line per answered decision.
    log = harness.read_decision_log(stack.decision_log)
    if log.partial_tail:
        problems.append("decision log ends in a partial line")
    answered = [r for r in results if r["kind"] == "decide" and r["status"] in (200, 503)]
    logged = Counter(rec["request_id"] for rec in log.records)
    missing = [r["rid"] for r in answered if logged[r["rid"]] == 0]
    dup_rids = {k: n for k, n in logged.items() if n > 1}
    dup_ids = harness.duplicates(rec["decision_id"] for rec in log.records)
    extra = set(logged) - {r["rid"] for r in answered}
    for rec in log.records:
        try:
            harness.check_record(rec)
        except AssertionError as exc:
            problems.append(f"log record malformed: {exc}")
            break
    if missing:
        problems.append(f"{len(missing)} answered decisions missing from the log")
    if dup_rids or dup_ids:
        problems.append(f"duplicate log records: {len(dup_rids)} request ids, {len(dup_ids)} ids")
    if extra:
        problems.append(f"{len(extra)} log records for requests that were never answered")
    resp_ids = [r["decision_id"] for r in results if r.get("decision_id")]
    if harness.duplicates(resp_ids):
        problems.append("decision_id repeated across responses")
    # /metrics counted every answered POST to decide (all workers aggregated).
    posts = ("decide", "invalid_request", "invalid_json", "wrong_media_type", "too_large")
    decide_posts = sum(
        1 for r in soak.results if r["kind"] in posts and r["status"] is not None
    ) + len(warm)
    counted = metric_total(metrics_text, "hipaa_gate_requests_total", endpoint="decide")
    if counted != decide_posts:
        problems.append(f"/metrics counted {counted:.0f} decide requests, sent {decide_posts}")
    leaks = harness.scan_for_secrets(stack.captured_files(), stack.secrets.needles())
    problems += [f"secret in output: {x}" for x in leaks]

    decide_ok = [r for r in soak.results if r["kind"] == "decide" and r["status"] == 200]
    lat_ms = [(r["t1"] - r["t0"]) * 1000 for r in decide_ok]
    total = len(soak.results)
    report = {
        "seconds": round(elapsed, 1),
        "clients": args.clients,
        "workers": args.workers,
        "threads": args.threads,
        "kill_opa_every": args.kill_opa_every,
        "opa_outages": len(soak.opa_down),
        "requests": total,
        "requests_per_s": round(total / elapsed, 1),
        "by_kind": dict(sorted(by_kind.items())),
        "statuses": {f"{k} {s}": n for (k, s), n in sorted(statuses.items(), key=str)},
        "decisions_answered": len(answered),
        "decisions_allowed": sum(1 for r in answered if r.get("allow")),
        "decisions_503": sum(1 for r in answered if r["status"] == 503),
        "policy_503_outside_outages": overload_503,
        # Allowed although started after a kill: legitimate only if answered by the new OPA.
        "allows_started_in_outage": sum(
            1
            for r in soak.results
            if r["kind"] == "decide"
            and r.get("allow")
            and any(killed < r["t0"] < back for killed, _, back in soak.opa_down)
        ),
        "no_answer": sum(1 for r in soak.results if r["status"] is None),
        "no_answer_by_previous_status": dict(
            Counter(
                str(r.get("previous_status")) for r in soak.results if r["status"] is None
            ).most_common()
        ),
        "log_lines": len(log.lines),
        "log_missing": len(missing),
        "log_duplicates": len(dup_rids) + len(dup_ids),
        "decide_latency_ms": {
            "p50": round(percentile(lat_ms, 50), 1),
            "p95": round(percentile(lat_ms, 95), 1),
            "p99": round(percentile(lat_ms, 99), 1),
            "max": round(max(lat_ms, default=float("nan")), 1),
        },
        "rss_kib_before": rss_before,
        "rss_kib_after": rss_after,
        "problem_summary": dict(
            Counter(re.sub(r" ?\(.*\)|rel-[0-9a-f-]+", "", p) for p in problems).most_common()
        ),
        "problems": problems[:20],
        "problem_count": len(problems),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    print("soak:", "OK" if not problems else f"FAILED ({len(problems)} problems)")
    if not problems and not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"soak: process output kept in {workdir}", file=sys.stderr)
    return 0 if not problems else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
