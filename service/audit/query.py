"""``hipaa-gate audit query``: who disclosed what, when and why (JSON, CSV or text)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # DuckDB is imported only where a log is opened
    from service.audit.engine import Engine


COLUMNS = (
    "timestamp",
    "decision_id",
    "user_id",
    "patient_ref",
    "purpose",
    "recipient_type",
    "recipient_id",
    "recipient_name",
    "allow",
    "basis",
    "reasons",
    "categories",
)
NO_LIMIT = 2**62


def run_query(
    engine: Engine,
    *,
    user_id: str | None = None,
    patient_ref: str | None = None,
    purpose: str | None = None,
    recipient: str | None = None,
    allow: bool | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    params: Mapping[str, Any] = {
        "user_id": user_id,
        "patient_ref": patient_ref,
        "purpose": purpose,
        "recipient": recipient,
        "allow": allow,
        "since": since,
        "until": until,
        "limit": limit if limit is not None else NO_LIMIT,
    }
    return engine.rows("query", params)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "allow" if value else "deny"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def render(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_cell(row[c]) for c in COLUMNS])
        return out.getvalue()
    if fmt == "text":
        lines = [f"{len(rows)} decision(s)."]
        for row in rows:
            who = row["recipient_name"] or row["recipient_id"] or row["recipient_type"] or "-"
            lines.append(
                f"{row['timestamp']} {_cell(row['allow']):5} {row['user_id'] or '-'} "
                f"{row['purpose'] or '-'} -> {who} [{_cell(row['basis'] or row['reasons'])}] "
                f"patient {(row['patient_ref'] or '-')[:12]} {row['decision_id']}"
            )
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r}")
