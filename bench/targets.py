"""The performance targets of issue 7 and whether a run meets them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    key: str
    description: str
    limit: float
    higher_is_better: bool = False

    def met(self, value: float) -> bool:
        return value >= self.limit if self.higher_is_better else value <= self.limit


TARGETS = (
    Target("policy_eval_p99_us", "policy evaluation p99 <= 1 ms", 1000.0),
    Target("policy_eval_p50_us", "policy evaluation p50 <= 250 us", 250.0),
    Target("shim_added_p50_ms", "shim adds <= 1.5 ms to the direct median", 1.5),
    Target("cds_added_p50_ms", "a CDS Hooks consult adds <= 1 ms to its decide median", 1.0),
    Target("shim_to_direct_ratio", "shim throughput >= 0.5x direct OPA", 0.5, True),
    Target("shim_worker_rss_mb", "each shim worker <= 80 MB resident", 80.0),
    Target("opa_rss_mb", "OPA <= 150 MB resident with the shipped data", 150.0),
)


def evaluate(figures: dict[str, float]) -> list[tuple[Target, float, bool]]:
    return [(t, figures[t.key], t.met(figures[t.key])) for t in TARGETS]
