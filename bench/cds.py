"""`cds_added_p50_ms`: what a CDS Hooks consult adds to the decide call it translates to.

Per round, at one fixed arrival rate below both capacities, the same shim (`fsync=always`) gets
the worked example consult (examples/cds-hooks/part2-referral.request.json: one R4 Part 2
Consent) and, as its equivalent, the decide request `/v1/consents/translate` shows for it,
alternately in one attack (so the host's drift touches both alike); the figure is the consult's
median latency minus the decide median, per round, then the median over the rounds. The same
Consent comes every time, so after each worker's first consult it is not validated by the FHIR
models again (docs/interop.md §3): the figure is that of a client consulting again on a patient
whose consents it sent before. `cds_added_p50_ms_first_seen` is the same with a Consent no
worker has seen in every consult (validated every time). `make bench` runs both pairs in each of
its rounds; `python bench/cds.py` runs only these (a short measurement).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import loadgen
import requests
import stack
import toolchain

from service.opa.sidecar import build_bundle
from service.paths import policy_dir

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "cds-hooks" / "part2-referral.request.json"


def first_seen_bodies(consult: bytes, count: int, tag: str) -> list[bytes]:
    """``count`` copies of the consult whose Consent differs by its id alone: no worker has
    validated any of them before (docs/interop.md §3), as for a patient consulted on first."""
    hook = json.loads(consult)
    bodies = []
    for i in range(count):
        resource = hook["context"]["consent"][0]
        hook["context"]["consent"][0] = {**resource, "id": f"{resource['id']}-{tag}-{i}"}
        bodies.append(json.dumps(hook).encode())
        hook["context"]["consent"][0] = resource
    return bodies


def target_files(
    shim: stack.Shim, workdir: Path, first_seen: int = 0, tag: str = ""
) -> tuple[Path, Path]:
    """vegeta targets for the consult and its equivalent decide request; both checked first.
    With ``first_seen``, that many consults, each with a Consent no worker has seen."""
    consult = EXAMPLE.read_bytes()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {shim.token}"}
    shown = requests.post(
        f"{shim.url}/v1/consents/translate", data=consult, headers=headers, timeout=10
    )
    shown.raise_for_status()
    decide = json.dumps(shown.json()["requests"][0]).encode()
    card = requests.post(
        f"{shim.url}/cds-services/patient-consent-consult",
        data=consult,
        headers=headers,
        timeout=10,
    )
    answer = requests.post(
        f"{shim.url}/v1/disclosures/decide", data=decide, headers=headers, timeout=10
    )
    if card.status_code != 200 or answer.status_code != 200:
        raise SystemExit(f"cds pair not answered: {card.status_code} / {answer.status_code}")
    if (card.json()["cards"][0]["summary"] == "CONSENT_PERMIT") != answer.json()["allow"]:
        raise SystemExit("the consult and its decide request do not decide alike")
    consult_url = f"{shim.url}/cds-services/patient-consent-consult"
    decide_url = f"{shim.url}/v1/disclosures/decide"
    return (
        loadgen.write_targets(
            workdir / "cds-consult.targets",
            consult_url,
            first_seen_bodies(consult, first_seen, tag) if first_seen else [consult],
            headers,
        ),
        loadgen.write_targets(workdir / "cds-decide.targets", decide_url, [decide], headers),
    )


@dataclass
class Pair:
    """One round's interleaved attack: the consult and its decide request alternate, so the
    machine's drift during the attack touches both alike."""

    round_no: int
    rate: int
    duration_s: int
    consult_p50_ms: float
    decide_p50_ms: float
    requests: int
    ok: bool

    @property
    def added_ms(self) -> float:
        return self.consult_p50_ms - self.decide_p50_ms


def run_pair(vegeta: Path, shim: stack.Shim, workdir: Path, *, rate: int, duration: int,
             round_no: int, concurrency: int = 8, first_seen: bool = False) -> Pair:  # fmt: skip
    """At ``rate`` requests/s, consult and decide alternately; each one's median latency.
    ``first_seen``: every consult carries a Consent not seen before (none is sent twice)."""
    count = rate * duration if first_seen else 0
    consult_targets, decide_targets = target_files(
        shim, workdir, first_seen=count, tag=f"r{round_no}"
    )
    mixed = workdir / "cds-pair.targets"
    decide = decide_targets.read_text().splitlines()
    lines = []
    for consult in consult_targets.read_text().splitlines():
        lines += [consult, *decide]
    mixed.write_text("\n".join(lines) + "\n")
    results = workdir / f"cds-pair-{round_no}.bin"
    subprocess.run(
        [str(vegeta), "attack", "-format=json", f"-targets={mixed}", f"-duration={duration}s",
         "-timeout=5s", "-keepalive=true", f"-workers={concurrency}", f"-rate={rate}/1s",
         f"-output={results}"],
        check=True, timeout=duration + 60, capture_output=True,
    )  # fmt: skip
    encoded = subprocess.run(
        [str(vegeta), "encode", "-to=json", str(results)],
        check=True, timeout=120, capture_output=True, text=True,
    )  # fmt: skip
    results.unlink(missing_ok=True)
    latencies: dict[str, list[float]] = {"consult": [], "decide": []}
    ok = True
    for line in encoded.stdout.splitlines():
        hit = json.loads(line)
        kind = "consult" if "/cds-services/" in hit["url"] else "decide"
        latencies[kind].append(hit["latency"] / 1e6)
        ok = ok and hit["code"] == 200
    return Pair(
        round_no=round_no,
        rate=rate,
        duration_s=duration,
        consult_p50_ms=statistics.median(latencies["consult"]),
        decide_p50_ms=statistics.median(latencies["decide"]),
        requests=sum(map(len, latencies.values())),
        ok=ok and all(latencies.values()),
    )


def added_p50_ms(pairs: list[Pair]) -> float:
    """Median over the rounds of (consult p50 - decide p50), each pair from one round."""
    return round(statistics.median(p.added_ms for p in pairs), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cds_added_p50_ms only (a short run)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8, help="seconds per attack")
    parser.add_argument("--rate", type=int, default=100, help="requests per second (fixed)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    vegeta = toolchain.ensure_vegeta()
    (REPO / ".build").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-cds-", dir=REPO / ".build"))
    try:
        bundle, revision = build_bundle(policy_dir(), workdir / "bundle")
        opa = stack.start_opa(bundle, revision, workdir)
        try:
            with stack.Shim(
                opa.url, workdir, fsync="always", workers=args.workers, threads=args.threads
            ) as shim:
                pairs: list[Pair] = []
                cold: list[Pair] = []
                for round_no in range(1, args.rounds + 1):
                    for first_seen, found in ((False, pairs), (True, cold)):
                        pair = run_pair(
                            vegeta, shim, workdir, rate=args.rate, duration=args.duration,
                            round_no=round_no, first_seen=first_seen,
                        )  # fmt: skip
                        if not pair.ok:
                            raise SystemExit("some requests failed")
                        found.append(pair)
                        print(
                            f"round {round_no}{' (first-seen Consents)' if first_seen else ''}: "
                            f"decide p50 {pair.decide_p50_ms:.3f} ms, "
                            f"consult p50 {pair.consult_p50_ms:.3f} ms",
                            flush=True,
                        )
        finally:
            opa.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    figures = {
        "cds_added_p50_ms": added_p50_ms(pairs),
        "cds_added_p50_ms_first_seen": added_p50_ms(cold),
        "cds_rate_rps": args.rate,
        "rounds": args.rounds,
        "decide_p50_ms": [round(p.decide_p50_ms, 3) for p in pairs],
        "consult_p50_ms": [round(p.consult_p50_ms, 3) for p in pairs],
    }
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
