"""The HL7 vocabularies (``policies/config/hl7/data.json``), read once at start-up.

The same file is policy data in the OPA bundle (``data.config.hl7``): a deployer extends a
mapping there, without code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Vocabulary:
    raw: dict[str, Any]
    purpose_of_use: dict[str, str]
    sensitivity: dict[str, str]
    category_labels: dict[str, str]
    part2_labels: frozenset[str]
    psychotherapy_labels: frozenset[str]
    policies: dict[str, str]
    recipient_roles: frozenset[str]
    identifier_prefixes: dict[str, str]
    statuses: dict[str, frozenset[str]]
    systems: dict[str, str]

    @property
    def act_code(self) -> str:
        return self.systems["act_code"]

    @property
    def act_reason(self) -> str:
        return self.systems["act_reason"]

    @property
    def confidentiality(self) -> str:
        return self.systems["confidentiality"]

    def reason_code(self, purpose: str) -> str | None:
        """The first v3-ActReason code that maps to ``purpose`` (for AuditEvent.purposeOfEvent)."""
        return next((c for c, p in self.purpose_of_use.items() if p == purpose), None)


def load_vocabulary(policies: Path) -> Vocabulary:
    raw = json.loads((policies / "config" / "hl7" / "data.json").read_text(encoding="utf-8"))
    return Vocabulary(
        raw=raw,
        purpose_of_use=dict(raw["purpose_of_use"]),
        sensitivity=dict(raw["sensitivity"]),
        category_labels=dict(raw["category_labels"]),
        part2_labels=frozenset(raw["part2_labels"]),
        psychotherapy_labels=frozenset(raw["psychotherapy_labels"]),
        policies=dict(raw["policies"]),
        recipient_roles=frozenset(raw["recipient_roles"]),
        identifier_prefixes=dict(raw["recipient_identifier_prefixes"]),
        statuses={k: frozenset(v) for k, v in raw["consent_statuses"].items()},
        systems=dict(raw["code_systems"]),
    )
