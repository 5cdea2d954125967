"""Allocations per evaluation of data.hipaa.decision: `opa bench` per scenario fixture, medians.

    .venv/bin/python bench/allocs.py                    # every fixture of the work tree
    .venv/bin/python bench/allocs.py --fixtures-of e147bae  # also the median over that commit's
    .venv/bin/python bench/allocs.py --policies-of e147bae  # that commit's policy (same inputs)
    .venv/bin/python bench/allocs.py --only minors --json out.json

Allocations are deterministic for a given policy and input, so one `opa bench` run per fixture
is enough (the figure `make bench` reports as policy_allocs_p50, without the load test).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fixtures
import policy_eval
from stats import percentile

from service.opa.sidecar import build_bundle
from service.paths import opa_binary, policy_dir

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "policy_tests" / "scenarios"


def _names_at(rev: str) -> set[str]:
    out = subprocess.run(
        ["git", "-C", str(REPO), "ls-tree", "--name-only", rev, "policy_tests/scenarios/"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {Path(line).stem for line in out.split() if line.endswith(".json")}


def _policies_at(rev: str, dest: Path) -> Path:
    """The policies/ tree of a commit, exported with `git archive`."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "policies"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "policies"


def _report(label: str, values: list[float]) -> None:
    # The median (mean of the middle two for an even count) and `make bench`'s nearest-rank p50.
    print(f"{label}: median {statistics.median(values):.1f}, p50 {percentile(values, 50):.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures-of", metavar="REV", help="also report the median over the "
                        "fixtures that exist at this commit")  # fmt: skip
    parser.add_argument("--policies-of", metavar="REV", help="measure this commit's policies")
    parser.add_argument("--only", default="", help="fixtures whose name contains this")
    parser.add_argument("--jobs", type=int, default=1, help="opa bench runs at once")
    parser.add_argument("--json", type=Path, help="write per-fixture figures here")
    args = parser.parse_args(argv)

    scenarios = [s for s in fixtures.load(SCENARIOS) if args.only in s.name]
    with tempfile.TemporaryDirectory(prefix="allocs-") as tmp:
        work = Path(tmp)
        policies = _policies_at(args.policies_of, work) if args.policies_of else policy_dir()
        bundle, _ = build_bundle(policies, work / "bundle")
        opa = opa_binary()

        def one(scenario):
            return policy_eval.bench_one(opa, bundle, scenario, work).allocs_per_op

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            allocs = dict(zip((s.name for s in scenarios), pool.map(one, scenarios), strict=True))

    for name, value in sorted(allocs.items()):
        print(f"{value:10.1f}  {name}")
    _report(f"all {len(allocs)} fixtures", list(allocs.values()))
    if args.fixtures_of:
        names = _names_at(args.fixtures_of)
        subset = [v for k, v in allocs.items() if k in names]
        _report(f"the {len(subset)} fixtures of {args.fixtures_of}", subset)
    if args.json:
        args.json.write_text(json.dumps(allocs, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
