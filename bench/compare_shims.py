"""Compare the shim of this checkout with modified copies of it, end to end under load.

    .venv/bin/python bench/compare_shims.py /tmp/variant-a [/tmp/variant-b ...] [--rounds 2]

Each variant directory holds a complete, modified copy of the `service/` package
(`cp -r service /tmp/variant-a/ && edit /tmp/variant-a/service/...`). Every variant, and the
checkout itself as the baseline, runs under gunicorn with `gunicorn.conf.py` against one OPA
sidecar, with the same vegeta closed-loop attack; variants alternate round by round so that a
change in the machine's load hits all of them alike. Prints throughput, latency and the CPU each
process spent per request (the steadiest figure on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import fixtures
import loadgen
import stack
import toolchain

from service.sidecar import build_bundle, policy_dir

REPO = Path(__file__).resolve().parent.parent


class VariantShim(stack.Shim):
    """The shim, with `service` imported from `variant_dir` instead of this checkout."""

    def __init__(self, *args, variant_dir: Path | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.variant_dir = variant_dir
        if variant_dir is not None:
            # The variant has no policies/ next to it: read the element catalog from here.
            self.env["HIPAA_GATE_POLICY_DIR"] = str(REPO / "policies")

    def command(self) -> list[str]:
        if self.variant_dir is None:
            return super().command()
        variant = str(self.variant_dir)
        # gunicorn puts its working directory first on sys.path, and the editable install's
        # finder would resolve `service` to this checkout: start in the variant, drop the finder.
        boot = (
            f"import os, sys; os.chdir({variant!r}); "
            "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]; "
            f"sys.path.insert(0, {variant!r}); "
            f"sys.argv = ['gunicorn', '--config', {str(REPO / 'gunicorn.conf.py')!r}]; "
            "from gunicorn.app.wsgiapp import run; run()"
        )
        return [sys.executable, "-c", boot]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", type=Path, help="directories holding service/")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--fsync", choices=("always", "never"), default="always")
    args = parser.parse_args(argv)
    for variant in args.variants:
        if not (variant / "service" / "__init__.py").is_file():
            parser.error(f"{variant} holds no service/ package")
    variants: dict[str, Path | None] = {"baseline (this checkout)": None}
    variants |= {str(v): v.resolve() for v in args.variants}
    vegeta = toolchain.ensure_vegeta()
    scenarios = fixtures.load(REPO / "policy_tests" / "scenarios")
    bodies = [json.dumps(s.request).encode() for s in scenarios]
    (REPO / ".build").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="compare-", dir=REPO / ".build"))
    bundle, revision = build_bundle(policy_dir(), workdir / "bundle")
    opa = stack.start_opa(bundle, revision, workdir)
    results: dict[str, list[dict]] = {name: [] for name in variants}
    try:
        for rnd in range(args.rounds):
            for name, variant_dir in variants.items():
                with VariantShim(
                    opa.url, workdir, fsync=args.fsync, workers=2, threads=4,
                    variant_dir=variant_dir,
                ) as shim:  # fmt: skip
                    headers = {
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {shim.token}",
                    }
                    targets = loadgen.write_targets(
                        workdir / "targets", f"{shim.url}/v1/disclosures/decide", bodies, headers
                    )
                    watched = {"opa": [opa.process.pid], "shim": shim.worker_pids()}
                    warm = loadgen.Attack("warm", "shim", "closed", 3, args.concurrency)
                    loadgen.run(vegeta, warm, targets, workdir, watched)
                    attack = loadgen.Attack("m", "shim", "closed", args.duration, args.concurrency)
                    loadgen.run(vegeta, attack, targets, workdir, watched)
                    n = max(1, attack.report["requests"])
                    row = {
                        "round": rnd + 1,
                        "rps": round(attack.rps, 1),
                        "p50_ms": round(attack.latency_ms("50th"), 2),
                        "p99_ms": round(attack.latency_ms("99th"), 2),
                        "all_200": attack.ok,
                        "shim_cpu_ms_per_req": round(attack.cpu_s["shim"] / n * 1000, 3),
                        "opa_cpu_ms_per_req": round(attack.cpu_s["opa"] / n * 1000, 3),
                        "loadavg": attack.load_after,
                    }
                    results[name].append(row)
                    print(name, row, flush=True)
    finally:
        opa.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
