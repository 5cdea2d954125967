"""Replay logged decisions against another policy directory (a policy change's impact).

``hipaa-gate replay --policies DIR LOGFILE...`` builds a bundle from DIR, starts the real OPA
(``service.opa.sidecar``, hardened, on a free loopback port) for the run, POSTs every logged
``input`` to ``/v1/data/hipaa/decision`` and compares the answer with what was logged: ``allow``,
the ``basis``/``reasons``/``obligations`` codes, ``accountable`` and the permitted elements.
Logged inputs carry the keyed ``patient_ref`` in place of the patient id, so a replay that
changes nothing also shows that the policy does not depend on the raw id. See
docs/policy-changes.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.opa.client import OpaClient, OpaError
from service.opa.sidecar import OpaStartError, local_opa
from service.records.decision_log import basis_codes
from service.records.files import ReadStats, read_records, report_to_stderr

DECISION_DOCUMENT = "hipaa/decision"
COMPARED_CODES = ("basis", "reasons", "obligations")
#: Concurrent requests to the local OPA (it evaluates in parallel; the machine has few cores).
WORKERS = 4


#: What a replayed input gets when the policy defines no decision for it (the shim answers 503
#: and denies): compared like a deny with no codes, and flagged ``no_decision``.
NO_DECISION: dict[str, Any] = {
    "allow": False,
    "basis": [],
    "reasons": [],
    "obligations": [],
    "minimum_necessary": {"permitted_elements": []},
    "accountable": False,
    "no_decision": True,
}


class ReplayError(RuntimeError):
    """The replay could not run (a query without a decision)."""


def is_policy_decision(record: dict[str, Any]) -> bool:
    """False for records of requests that ended in a 503 (no policy answer to compare with).

    The shim logs those with ``reasons`` holding its lower-case error code and no revision.
    """
    reasons = record.get("reasons") or []
    return record.get("policy_revision") is not None and not any(
        isinstance(r, str) and r.islower() for r in reasons
    )


def _codes(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [i["code"] if isinstance(i, dict) else i for i in items if isinstance(i, dict | str)]


def _diff(before: Iterable[str], after: Iterable[str]) -> dict[str, list[str]]:
    old, new = set(before), set(after)
    return {"added": sorted(new - old), "removed": sorted(old - new)}


@dataclass
class Change:
    """How the replayed decision differs from the logged one."""

    record: dict[str, Any]
    decision: dict[str, Any]

    @property
    def allow_changed(self) -> bool:
        return self.record.get("allow") is not self.decision.get("allow")

    def as_dict(self) -> dict[str, Any]:
        rec, new = self.record, self.decision
        minimum = new.get("minimum_necessary") or {}
        out: dict[str, Any] = {
            "decision_id": rec["decision_id"],
            "timestamp": rec.get("timestamp"),
            "purpose": rec.get("purpose"),
            "recipient_type": (rec.get("recipient") or {}).get("type"),
            "logged_revision": rec.get("policy_revision"),
            "allow": {"before": rec.get("allow"), "after": new.get("allow")},
            "allow_changed": self.allow_changed,
            "no_decision": new.get("no_decision") is True,
        }
        for name in COMPARED_CODES:
            out[name] = _diff(_logged_codes(rec, name), _codes(new.get(name)))
        out["accountable"] = {"before": rec.get("accountable"), "after": new.get("accountable")}
        out["elements_permitted"] = _diff(
            rec.get("elements_permitted") or [], minimum.get("permitted_elements") or []
        )
        return out


def _logged_codes(record: dict[str, Any], name: str) -> list[str]:
    """The codes a record logged under ``name`` (v1.2 logs each basis as an object)."""
    if name == "basis":
        return basis_codes(record.get("basis"))
    return record.get(name) or []


def compare(record: dict[str, Any], decision: dict[str, Any]) -> Change | None:
    """A ``Change`` when the replayed ``decision`` differs from the logged ``record``, else None."""
    minimum = decision.get("minimum_necessary") or {}
    same = (
        decision.get("no_decision") is not True
        and record.get("allow") is decision.get("allow")
        and all(
            set(_logged_codes(record, name)) == set(_codes(decision.get(name)))
            for name in COMPARED_CODES
        )
        and record.get("accountable") is decision.get("accountable")
        and set(record.get("elements_permitted") or [])
        == set(minimum.get("permitted_elements") or [])
    )
    return None if same else Change(record, decision)


def _order(change: dict[str, Any]) -> tuple[Any, ...]:
    # Allow flips first (allow -> deny before deny -> allow), then code changes; oldest first.
    flip = 0 if change["allow_changed"] else 1
    return (
        flip,
        change["allow"]["after"] is True,
        change["timestamp"] or "",
        change["decision_id"],
    )


@dataclass
class Report:
    policies: str
    revision: str
    evaluated: int = 0
    skipped: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        changes = sorted(self.changes, key=_order)
        return {
            "policies": self.policies,
            "policy_revision": self.revision,
            "evaluated": self.evaluated,
            "changed": len(changes),
            "unchanged": self.evaluated - len(changes),
            "allow_flips": sum(1 for c in changes if c["allow_changed"]),
            "no_decision": sum(1 for c in changes if c["no_decision"]),
            "skipped": self.skipped,
            "changes": changes,
        }


def replay_records(
    records: list[dict[str, Any]], client: OpaClient, report: Report, on_skip=None
) -> Report:
    """Evaluate every record's ``input`` with ``client`` and add the differences to ``report``."""
    todo = []
    for rec in records:
        if not isinstance(rec.get("input"), dict) or not is_policy_decision(rec):
            report.skipped += 1
            if on_skip is not None:
                on_skip(rec)
            continue
        todo.append(rec)

    def evaluate(rec: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = client.query(DECISION_DOCUMENT, rec["input"])
        except OpaError as exc:
            raise ReplayError(f"decision {rec['decision_id']}: {exc}") from None
        if not answer.defined or not isinstance(answer.result, dict):
            # The service would fail closed (503) on this input: a change worth reporting.
            return dict(NO_DECISION)
        return answer.result

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for rec, decision in zip(todo, pool.map(evaluate, todo), strict=True):
            report.evaluated += 1
            change = compare(rec, decision)
            if change is not None:
                report.changes.append(change.as_dict())
    return report


def replay(
    policies_dir: str | Path,
    logfiles: Iterable[str],
    *,
    on_problem=report_to_stderr,
    stats: ReadStats | None = None,
) -> dict[str, Any]:
    """Read the logs, run OPA on ``policies_dir`` and return the report (``Report.as_dict``)."""
    records = read_records(logfiles, on_problem, stats)
    with local_opa(policies_dir) as opa:
        client = OpaClient(opa.url, connect_timeout=2.0, read_timeout=30.0)
        try:
            report = replay_records(records, client, Report(str(policies_dir), opa.revision))
        finally:
            client.close()
    return report.as_dict()


# ---------------------------------------------------------------- output


def _codes_text(name: str, diff: dict[str, list[str]]) -> list[str]:
    parts = [f"+{c}" for c in diff["added"]] + [f"-{c}" for c in diff["removed"]]
    return [f"    {name}: {' '.join(parts)}"] if parts else []


def to_text(report: dict[str, Any]) -> str:
    lines = [
        f"Replayed {report['evaluated']} decision(s) against {report['policies']} "
        f"(revision {report['policy_revision']}): {report['changed']} changed, "
        f"{report['allow_flips']} allow flip(s), {report['no_decision']} without a decision, "
        f"{report['skipped']} skipped."
    ]
    for change in report["changes"]:
        allow = change["allow"]
        head = f"  {change['decision_id']} {change['timestamp']} {change['purpose']}"
        if change["allow_changed"]:
            head += f" allow {str(allow['before']).lower()} -> {str(allow['after']).lower()}"
        if change["no_decision"]:
            head += " NO DECISION (the service would answer 503 and deny)"
        lines.append(head)
        for name in (*COMPARED_CODES, "elements_permitted"):
            lines.extend(_codes_text(name, change[name]))
        acct = change["accountable"]
        if acct["before"] is not acct["after"]:
            lines.append(f"    accountable: {acct['before']} -> {acct['after']}")
    return "\n".join(lines) + "\n"


def render(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n"
    if fmt == "text":
        return to_text(report)
    raise ValueError(f"unknown format {fmt!r}")


# ---------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``replay`` subcommand's arguments."""
    parser.add_argument(
        "--policies", required=True, metavar="DIR", help="policy directory to evaluate against"
    )
    parser.add_argument("--format", choices=["json", "text"], default="text")
    parser.add_argument(
        "--fail-on-change",
        action="store_true",
        help="exit 1 when any decision changed (for CI on policy pull requests)",
    )
    parser.add_argument("logfiles", nargs="+", metavar="LOGFILE", help="decision logs (.gz too)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``hipaa-gate replay``: 0 (1 with --fail-on-change when something changed; 2 on error)."""
    stats = ReadStats()
    try:
        report = replay(args.policies, args.logfiles, stats=stats)
    except OSError as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    except (ReplayError, OpaStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(report, args.format))
    if stats.problems:
        print(
            f"warning: {stats.problems} log line(s) could not be read and were not replayed",
            file=sys.stderr,
        )
    if args.fail_on_change and report["changed"]:
        return 1
    return 0
