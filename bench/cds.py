"""`cds_added_p50_ms`: what a CDS Hooks consult adds to the decide call it translates to.

Per round, at one fixed arrival rate below both capacities, the same shim (`fsync=always`) gets
the worked example consult (examples/cds-hooks/part2-referral.request.json: one R4 Part 2
Consent) and, as its equivalent, the decide request `/v1/consents/translate` shows for it; the
figure is the consult's median latency minus the decide median, per round, then the median over
the rounds. `make bench` runs the pair in each of its rounds; `python bench/cds.py` runs only this
pair (a short measurement).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import loadgen
import requests
import stack
import toolchain

from service.sidecar import build_bundle, policy_dir

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "cds-hooks" / "part2-referral.request.json"
CONSULT_LABEL, DECIDE_LABEL = "cds-consult-rate", "cds-decide-rate"


def target_files(shim: stack.Shim, workdir: Path) -> tuple[Path, Path]:
    """vegeta targets for the consult and its equivalent decide request; both checked first."""
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
        loadgen.write_targets(workdir / "cds-consult.targets", consult_url, [consult], headers),
        loadgen.write_targets(workdir / "cds-decide.targets", decide_url, [decide], headers),
    )


def attacks(attack, shim: stack.Shim, workdir: Path, watched, rate: int) -> list:
    """The decide and the consult attack at ``rate`` (``attack`` is run.py's helper)."""
    consult_targets, decide_targets = target_files(shim, workdir)
    return [
        attack(DECIDE_LABEL, "shim", "rate", decide_targets, watched, rate),
        attack(CONSULT_LABEL, "shim", "rate", consult_targets, watched, rate),
    ]


def added_p50_ms(consults: list, decides: list) -> float:
    """Median over the rounds of (consult p50 - decide p50), each pair from one round."""
    return round(
        statistics.median(
            c.latency_ms("50th") - d.latency_ms("50th")
            for c, d in zip(consults, decides, strict=True)
        ),
        3,
    )


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
                watched = {"opa": [opa.process.pid], "shim_workers": shim.worker_pids()}
                consults, decides = [], []
                for round_no in range(1, args.rounds + 1):

                    def attack(label, target, mode, targets, watched, rate, _r=round_no):
                        a = loadgen.Attack(
                            label, target, mode, args.duration, 8, rate=rate, round_no=_r
                        )
                        return loadgen.run(vegeta, a, targets, workdir, watched)

                    decide, consult = attacks(attack, shim, workdir, watched, args.rate)
                    if not (decide.ok and consult.ok):
                        raise SystemExit("some requests failed")
                    decides.append(decide)
                    consults.append(consult)
                    print(
                        f"round {round_no}: decide p50 {decide.latency_ms('50th'):.3f} ms, "
                        f"consult p50 {consult.latency_ms('50th'):.3f} ms",
                        flush=True,
                    )
        finally:
            opa.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    figures = {
        "cds_added_p50_ms": added_p50_ms(consults, decides),
        "cds_rate_rps": args.rate,
        "rounds": args.rounds,
        "decide_p50_ms": [round(d.latency_ms("50th"), 3) for d in decides],
        "consult_p50_ms": [round(c.latency_ms("50th"), 3) for c in consults],
    }
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
