"""The scenario fixtures (policy_tests/scenarios/*.json) turned into the inputs the shim sends."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.opa.input import build_opa_input

DEFAULT_NOW = "2026-11-28T12:00:00Z"  # the fixtures' documented default


@dataclass(frozen=True)
class Scenario:
    name: str
    request: dict[str, Any]
    now: str

    def opa_input(self, now: str | None = None) -> dict[str, Any]:
        return build_opa_input(self.request, now=now or self.now, request_id=f"bench-{self.name}")


def load(scenario_dir: Path) -> list[Scenario]:
    scenarios = []
    for path in sorted(scenario_dir.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        scenarios.append(Scenario(path.stem, doc["request"], doc.get("now") or DEFAULT_NOW))
    if not scenarios:
        raise SystemExit(f"no scenario fixtures in {scenario_dir}")
    return scenarios
