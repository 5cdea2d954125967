"""The accounting of disclosures on the audit engine (DuckDB), with the same output as before.

DuckDB finds the patient's accountable records (``sql.QUERIES['accounting']``); the entries, the
window and the formats are ``service.audit.accounting``'s own functions, so both readers give
the same accounting for the same log (tests/test_audit_accounting.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from service.audit import accounting
from service.records.files import ProblemHandler, report_to_stderr

if TYPE_CHECKING:  # DuckDB is imported only where a log is opened
    from service.audit.engine import Engine


def as_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a decision record that ``accounting.entry`` reads, from a query row."""
    return {
        "decision_id": row["decision_id"],
        "timestamp": row["timestamp"],
        "allow": True,
        "accountable": True,
        "recipient": {
            "type": row["recipient_type"],
            "id": row["recipient_id"],
            "name": row["recipient_name"],
        },
        "input": {"recipient": {"address": row["recipient_address"]}},
        "purpose": row["purpose"],
        "categories": row["categories"],
        "elements_permitted": row["elements_permitted"],
        "basis": bases(row["basis"], row["basis_citations"]),
    }


def bases(codes: list[str] | None, citations: list[str | None] | None) -> list[dict[str, Any]]:
    """Each basis as logged, ``{code, citation}`` (citation None for a code-only record)."""
    codes = codes or []
    citations = citations or [None] * len(codes)
    return [{"code": c, "citation": cit} for c, cit in zip(codes, citations, strict=True)]


def entries(
    engine: Engine,
    *,
    patient_ref: str,
    window: accounting.Window,
    part2: bool = False,
    on_problem: ProblemHandler = report_to_stderr,
) -> list[dict[str, Any]]:
    """The accounting entries of ``patient_ref`` in ``window``, newest first."""
    rows = engine.rows("accounting", {"patient_ref": patient_ref, "part2": part2})
    records = [{**as_record(r), "patient_ref": patient_ref} for r in rows]
    stats = accounting.ReadStats()
    found = accounting.build(
        records,
        patient_ref=patient_ref,
        window=window,
        part2=part2,
        on_problem=on_problem,
        stats=stats,
    )
    engine.stats.problems += stats.problems
    return found


def from_logs(
    paths: Iterable[str],
    *,
    patient_ref: str,
    window: accounting.Window,
    part2: bool = False,
    on_problem: ProblemHandler = report_to_stderr,
) -> tuple[list[dict[str, Any]], int]:
    """Open ``paths`` and build the accounting: ``(entries, problems)``."""
    from service.audit.engine import Engine

    with Engine(list(paths), on_problem=on_problem) as engine:
        found = entries(
            engine, patient_ref=patient_ref, window=window, part2=part2, on_problem=on_problem
        )
        return found, engine.stats.problems
