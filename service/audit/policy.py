"""The audit rules' policy data: ``policies/config/audit/data.json`` checked against its schema.

Thresholds, working hours, the time zone and the watch list are edited there, without code
(docs/audit.md). ``--config FILE`` or ``HIPAA_GATE_AUDIT_CONFIG`` names another file.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator

from service.config import load as load_config
from service.paths import policy_dir

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "audit.schema.json"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class AuditConfigError(ValueError):
    """The audit configuration is missing or does not satisfy its schema."""


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def default_path() -> Path:
    configured = load_config().audit_config
    return Path(configured) if configured else policy_dir() / "config" / "audit" / "data.json"


def check(data: Any) -> dict[str, Any]:
    """``data`` when it satisfies the schema and names a known time zone; else raises."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
        raise AuditConfigError(f"audit configuration: {where}: {errors[0].message}")
    try:
        ZoneInfo(data["time_zone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise AuditConfigError(
            f"audit configuration: unknown time_zone {data['time_zone']!r}"
        ) from None
    return data


def load(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The checked configuration from ``path`` (default: ``default_path()``)."""
    target = Path(path) if path else default_path()
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuditConfigError(f"audit configuration {target}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise AuditConfigError(f"audit configuration {target}: not JSON ({exc.msg})") from None
    return check(data)


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def isodays(days: list[str]) -> list[int]:
    """ISO day numbers (Monday 1) of ``mon``..``sun``."""
    return [DAYS.index(d) + 1 for d in days]
