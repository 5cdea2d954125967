"""Post-event reviews (privacy-office §3): an append-only, durable review log.

``reviews record`` appends one JSON line per review with the decision log's own writer
(``DecisionLogFile``: ``O_APPEND``, one write under ``flock``, ``fsync``). A later review of the
same decision supersedes an earlier one when read; nothing is ever rewritten. ``reviews list``
lists the decisions that need a review (break-glass, emergencies, ``POST_EVENT_REVIEW``
obligations) with the review recorded for each, or the age of the open ones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from service.audit.findings import iso
from service.config import load as load_config
from service.records.decision_log import DecisionLogFile
from service.records.files import Problem, ProblemHandler, iter_lines, report_to_stderr

if TYPE_CHECKING:  # DuckDB is imported only where a log is opened
    from service.audit.engine import Engine

EVENT = "post_event_review"
OUTCOMES = ("appropriate", "inappropriate", "needs_follow_up")
DEFAULT_REVIEW_LOG = "./review-log.jsonl"
MAX_NOTE = 2000


def review_log_path(explicit: str | None) -> str:
    return explicit or load_config().review_log or DEFAULT_REVIEW_LOG


def record(
    path: str,
    decision_id: str,
    *,
    reviewer: str,
    outcome: str,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Append one review and return it (durable when this returns)."""
    if not decision_id.strip() or not reviewer.strip():
        raise ValueError("decision id and reviewer must not be empty")
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if note is not None and len(note) > MAX_NOTE:
        raise ValueError(f"note longer than {MAX_NOTE} characters")
    entry = {
        "timestamp": iso(now or dt.datetime.now(dt.UTC)),
        "event": EVENT,
        "review_id": str(uuid.uuid4()),
        "decision_id": decision_id,
        "reviewer": reviewer,
        "outcome": outcome,
        "note": note,
    }
    sink = DecisionLogFile(path, fsync=True, stdout=False)
    try:
        sink.write_line(json.dumps(entry, ensure_ascii=False) + "\n")
    finally:
        sink.close()
    return entry


def load(path: str, on_problem: ProblemHandler = report_to_stderr) -> tuple[dict[str, Any], int]:
    """``({decision_id: latest review}, problems)``; a missing review log holds no review."""
    if not os.path.exists(path):
        return {}, 0
    latest: dict[str, Any] = {}
    problems = 0

    def problem(item: Problem) -> None:
        nonlocal problems
        problems += 1
        on_problem(item)

    for number, text in iter_lines(path, problem):
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            problem(Problem(path, number, f"not valid JSON ({exc.msg})"))
            continue
        if not (
            isinstance(item, dict)
            and item.get("event") == EVENT
            and isinstance(item.get("decision_id"), str)
            and item.get("outcome") in OUTCOMES
            and isinstance(item.get("reviewer"), str)
            and isinstance(item.get("timestamp"), str)
        ):
            problem(Problem(path, number, "not a review record"))
            continue
        latest[item["decision_id"]] = item
    return latest, problems


def needing_review(
    engine: Engine,
    config: Mapping[str, Any],
    reviews: Mapping[str, Any],
    *,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """The decisions that need a post-event review, each with its review or its age."""
    now = now or dt.datetime.now(dt.UTC)
    params = {
        "emergency_purposes": list(config["emergency"]["purposes"]),
        "emergency_basis": list(config["emergency"]["basis"]),
    }
    out = []
    for row in engine.rows("needs_review", params):
        why = []
        if row["break_glass"]:
            why.append("break_glass")
        if row["purpose"] in params["emergency_purposes"] or set(row["basis"] or []) & set(
            params["emergency_basis"]
        ):
            why.append("emergency")
        if "POST_EVENT_REVIEW" in (row["obligations"] or []):
            why.append("POST_EVENT_REVIEW")
        review = reviews.get(row["decision_id"])
        out.append(
            {
                "decision_id": row["decision_id"],
                "timestamp": iso(row["ts"]),
                "user_id": row["user_id"],
                "patient_ref": row["patient_ref"],
                "purpose": row["purpose"],
                "why": why,
                "status": "recorded" if review else "open",
                "age_days": (now - row["ts"]).days if row["ts"] is not None else None,
                "review": review,
            }
        )
    return out


def to_text(items: list[dict[str, Any]]) -> str:
    open_items = [i for i in items if i["status"] == "open"]
    lines = [f"{len(items)} decision(s) need a post-event review; {len(open_items)} open."]
    for i in items:
        head = f"  {i['decision_id']} {i['timestamp']} {i['purpose']} ({', '.join(i['why'])})"
        if i["review"]:
            r = i["review"]
            head += f" reviewed {r['timestamp']} by {r['reviewer']}: {r['outcome']}"
        else:
            head += f" OPEN, {i['age_days']} day(s)"
        lines.append(head)
    return "\n".join(lines) + "\n"
