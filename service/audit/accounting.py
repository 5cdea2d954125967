"""Accounting of disclosures (45 CFR 164.528; 42 CFR 2.25) from decision logs.

``hipaa-gate accounting --patient ID LOGFILE...`` lists, newest first, the allowed disclosures
of one patient that the policy flagged ``accountable``: by default those of the six years before
``--until`` (164.528(a)(1)); with ``--part2`` the Part 2 accounting, the disclosures made with a
42 CFR Part 2 consent in the three years before (2.25(a)). The patient is found by the keyed
``patient_ref`` (the raw id is never in the log). See docs/accounting.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import functools
import io
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from service import config
from service.paths import policy_dir
from service.records.decision_log import basis_codes
from service.records.files import (
    Problem,
    ProblemHandler,
    ReadStats,
    deduplicate,
    iter_valid_records,
    report_to_stderr,
)
from service.records.patient_ref import patient_ref as compute_patient_ref

HIPAA_YEARS = 6
PART2_YEARS = 3
PART2_BASIS = "PART2_CONSENT"

#: Basis codes (docs/api.md) in words, with the citation each rests on (docs/rules.md).
BASIS_WORDS: dict[str, tuple[str, str]] = {
    "TREATMENT": ("treatment of the patient", "45 CFR 164.506(c)(1)-(2)"),
    "PAYMENT": ("payment", "45 CFR 164.506(c)(1),(3)"),
    "HEALTH_CARE_OPERATIONS": ("health care operations", "45 CFR 164.506(c)(1),(4)"),
    "PATIENT_AUTHORIZATION": ("the patient's written authorization", "45 CFR 164.508"),
    "PART2_CONSENT": ("the patient's written consent under 42 CFR Part 2", "42 CFR 2.31, 2.33"),
    "INDIVIDUAL_ACCESS": ("the patient's right of access", "45 CFR 164.524"),
    "FAMILY_INVOLVEMENT": ("a person involved in the patient's care", "45 CFR 164.510(b)"),
    "PROFESSIONAL_JUDGMENT": (
        "a person involved in the patient's care, in professional judgment",
        "45 CFR 164.510(b)(3)",
    ),
    "DISASTER_RELIEF": ("disaster relief notification", "45 CFR 164.510(b)(4)"),
    "SERIOUS_THREAT": (
        "to prevent or lessen a serious and imminent threat to health or safety",
        "45 CFR 164.512(j)(1)(i)",
    ),
    "MEDICAL_EMERGENCY": ("a medical emergency", "42 CFR 2.51"),
    "REQUIRED_BY_LAW": ("a disclosure required by law", "45 CFR 164.512(a)"),
    "PUBLIC_HEALTH": ("public health activities", "45 CFR 164.512(b)"),
    "HEALTH_OVERSIGHT": ("health oversight activities", "45 CFR 164.512(d)"),
    "JUDICIAL_PROCEEDING": (
        "a judicial or administrative proceeding (court order or subpoena)",
        "45 CFR 164.512(e)",
    ),
    "LAW_ENFORCEMENT": (
        "a law enforcement purpose (court order, warrant or subpoena)",
        "45 CFR 164.512(f)(1)",
    ),
    "CORONER_MEDICAL_EXAMINER": (
        "a coroner or medical examiner's duties",
        "45 CFR 164.512(g)(1)",
    ),
    "HHS_COMPLIANCE": (
        "the Secretary of HHS's compliance review or investigation",
        "45 CFR 164.502(a)(2)(ii)",
    ),
    "BUSINESS_ASSOCIATE": (
        "a business associate acting for us under a business associate agreement",
        "45 CFR 164.502(e), 164.504(e)",
    ),
    "LIMITED_DATA_SET": ("a limited data set under a data use agreement", "45 CFR 164.514(e)"),
    "DEIDENTIFIED": ("de-identified information", "45 CFR 164.514(a)-(b)"),
    "PSYCHOTHERAPY_NOTES_EXCEPTION": (
        "an exception for psychotherapy notes",
        "45 CFR 164.508(a)(2)",
    ),
    "RESEARCH_WAIVER": (
        "research approved under an IRB or privacy board waiver of authorization",
        "45 CFR 164.512(i)(1)(i)",
    ),
    "FAMILY_NOTIFICATION": (
        "notifying a family member or other person responsible for the patient",
        "45 CFR 164.510(b)(1)(ii)",
    ),
    "ABUSE_NEGLECT_REPORT": (
        "a report of abuse, neglect or domestic violence to an authority authorized to receive it",
        "45 CFR 164.512(b)(1)(ii), (c)",
    ),
    "WORKERS_COMPENSATION": ("a workers' compensation law", "45 CFR 164.512(l)"),
    "ORGAN_DONATION": ("organ, eye or tissue donation", "45 CFR 164.512(h)"),
    "FUNERAL_DIRECTOR": ("a funeral director's duties", "45 CFR 164.512(g)(2)"),
    "SPECIALIZED_GOVERNMENT_FUNCTION": (
        "a specialized government function",
        "45 CFR 164.512(k)",
    ),
}


@functools.cache
def vocabulary_words(kind: str) -> dict[str, str]:
    """``purposes`` or ``categories`` in words, from the policy bundle's one vocabulary
    (policies/config/vocabulary/data.json)."""
    path = policy_dir() / "config" / "vocabulary" / "data.json"
    entries = json.loads(path.read_text(encoding="utf-8"))[kind]
    return {name: entry["label"] for name, entry in entries.items()}


ELEMENT_WORDS: dict[str, str] = {
    "dob": "date of birth",
    "ssn": "Social Security number",
    "mrn": "medical record number",
    "phone": "phone number",
    "email": "email address",
    "member_id": "health plan member ID",
    "lab_results": "laboratory results",
    "fax": "fax number",
    "ip_address": "IP address",
    "url": "web address (URL)",
    "zip_code": "ZIP code",
    "zip3": "first three digits of the ZIP code",
    "photo": "photograph",
}


def _words(code: str, table: dict[str, str]) -> str:
    return table.get(code, code.replace("_", " "))


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def describe(categories: Iterable[str], elements: Iterable[str]) -> str:
    """A brief description of what was disclosed (164.528(b)(2)(iii)), in words."""
    kinds = [_words(c, vocabulary_words("categories")) for c in categories]
    what = _join(kinds) or "health information"
    what = what[0].upper() + what[1:]
    items = [_words(e, ELEMENT_WORDS) for e in elements]
    if not items:
        return f"{what}."
    return f"{what}: {_join(items)}."


def basis_in_words(bases: Iterable[Any]) -> list[dict[str, str]]:
    """``[{code, statement, citation}]`` for each logged basis (unknown codes kept, unworded).

    v1.2 records log each basis as ``{code, rule, citation}``: the entry quotes the policy's own
    citation (e.g. the paragraph of 164.512 a rule rests on). Older records log the code alone,
    which gets the general citation of ``BASIS_WORDS``.
    """
    out = []
    for basis in bases:
        code = basis.get("code") if isinstance(basis, dict) else basis
        if not isinstance(code, str):
            continue
        statement, citation = BASIS_WORDS.get(code, (code.replace("_", " ").lower(), ""))
        logged = basis.get("citation") if isinstance(basis, dict) else None
        if isinstance(logged, str) and logged:
            citation = logged
        out.append({"code": code, "statement": statement, "citation": citation})
    return out


def purpose_statement(purpose: str, basis: list[dict[str, str]]) -> str:
    """The brief statement of purpose of 164.528(b)(2)(iv): the purpose and the basis relied on."""
    reasons = [
        f"{b['statement']} ({b['citation']})" if b["citation"] else b["statement"] for b in basis
    ]
    text = f"Disclosed for {_words(purpose, vocabulary_words('purposes'))}"
    if reasons:
        text += ", permitted for " + _join(reasons)
    return text + "."


def parse_timestamp(value: str) -> dt.datetime:
    """An RFC 3339 time (``Z`` or offset) as an aware UTC datetime; raises ValueError."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"time without a UTC offset: {value!r}")
    return parsed.astimezone(dt.UTC)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class Window:
    """The accounting period: ``since`` and ``until`` inclusive, as UTC dates."""

    since: dt.date
    until: dt.date

    @classmethod
    def default(
        cls, *, part2: bool, since: dt.date | None, until: dt.date | None, today: dt.date
    ) -> Window:
        end = until or today
        start = since or years_before(end, PART2_YEARS if part2 else HIPAA_YEARS)
        if start > end:
            raise ValueError(f"--since {start} is after --until {end}")
        return cls(start, end)

    def contains(self, when: dt.datetime) -> bool:
        return self.since <= when.date() <= self.until


def is_accountable(record: dict[str, Any], *, part2: bool) -> bool:
    """An allowed disclosure flagged ``accountable``; for ``part2`` one made with Part 2 consent."""
    if record.get("allow") is not True or record.get("accountable") is not True:
        return False
    return not part2 or PART2_BASIS in basis_codes(record.get("basis"))


def entry(record: dict[str, Any], when: dt.datetime) -> dict[str, Any]:
    """One accounting entry (164.528(b)(2)) from a decision record."""
    recipient = record.get("recipient") or {}
    logged_input = record.get("input")
    logged_recipient = logged_input.get("recipient") if isinstance(logged_input, dict) else None
    address = logged_recipient.get("address") if isinstance(logged_recipient, dict) else None
    basis = basis_in_words(record.get("basis") or [])
    purpose = record.get("purpose") or ""
    return {
        "date": when.date().isoformat(),
        "disclosed_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "recipient": {
            "type": recipient.get("type"),
            "id": recipient.get("id"),
            "name": recipient.get("name"),
            # 164.528(b)(2)(ii): the address if known (the request's recipient.address).
            "address": address if isinstance(address, str) else None,
        },
        "description": describe(
            record.get("categories") or [], record.get("elements_permitted") or []
        ),
        "categories": list(record.get("categories") or []),
        "elements": list(record.get("elements_permitted") or []),
        "purpose": purpose,
        "purpose_statement": purpose_statement(purpose, basis),
        "basis": basis,
        "decision_id": record["decision_id"],
    }


def build(
    records: Iterable[dict[str, Any]],
    *,
    patient_ref: str,
    window: Window,
    part2: bool = False,
    on_problem: ProblemHandler = report_to_stderr,
    stats: ReadStats | None = None,
) -> list[dict[str, Any]]:
    """The accounting entries for ``patient_ref`` in ``window``, newest first.

    A record of the patient that cannot be placed in time is reported and counted in ``stats``
    (the accounting is then incomplete, and the command says so).
    """
    found: list[tuple[dt.datetime, dict[str, Any]]] = []
    for record in records:
        if record.get("patient_ref") != patient_ref or not is_accountable(record, part2=part2):
            continue
        try:
            when = parse_timestamp(record["timestamp"])
        except ValueError as exc:
            on_problem(Problem("decision " + record["decision_id"], 0, f"bad timestamp: {exc}"))
            if stats is not None:
                stats.problems += 1
            continue
        if window.contains(when):
            found.append((when, entry(record, when)))
    found.sort(key=lambda item: (item[0], item[1]["decision_id"]), reverse=True)
    return [item for _, item in found]


def from_logs(
    paths: Iterable[str],
    *,
    patient_ref: str,
    window: Window,
    part2: bool = False,
    on_problem: ProblemHandler = report_to_stderr,
    stats: ReadStats | None = None,
) -> list[dict[str, Any]]:
    """Read ``paths`` (plain or gzip, any order, deduplicated) and build the accounting."""
    # Read line by line, keeping only the patient's records (every copy): the de-duplication then
    # gives what read_records would for them, without holding the whole log in memory.
    mine = (
        r
        for r in iter_valid_records(paths, on_problem, stats)
        if r.get("patient_ref") == patient_ref
    )
    records = deduplicate(mine, stats)
    return build(
        records,
        patient_ref=patient_ref,
        window=window,
        part2=part2,
        on_problem=on_problem,
        stats=stats,
    )


# ---------------------------------------------------------------- output formats

CSV_COLUMNS = [
    "date",
    "disclosed_at",
    "recipient_type",
    "recipient_id",
    "recipient_name",
    "recipient_address",
    "description",
    "purpose",
    "purpose_statement",
    "basis",
    "citation",
    "decision_id",
]


def to_json(entries: list[dict[str, Any]]) -> str:
    return json.dumps(entries, indent=2, ensure_ascii=False) + "\n"


def to_csv(entries: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in entries:
        writer.writerow(
            {
                "date": item["date"],
                "disclosed_at": item["disclosed_at"],
                "recipient_type": item["recipient"]["type"] or "",
                "recipient_id": item["recipient"]["id"] or "",
                "recipient_name": item["recipient"]["name"] or "",
                "recipient_address": item["recipient"]["address"] or "",
                "description": item["description"],
                "purpose": item["purpose"],
                "purpose_statement": item["purpose_statement"],
                "basis": ";".join(b["code"] for b in item["basis"]),
                "citation": ";".join(b["citation"] for b in item["basis"] if b["citation"]),
                "decision_id": item["decision_id"],
            }
        )
    return out.getvalue()


def group(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Entries grouped by recipient and purpose (164.528(b)(3)), groups ordered newest first.

    Within a group the entries stay newest first; ``entries`` must already be sorted that way.
    """
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for item in entries:
        r = item["recipient"]
        # A recipient recorded with neither id nor name cannot be told from another one: its
        # disclosures are listed one by one, never summarised as repeated.
        known = r["id"] is not None or r["name"] is not None
        key = (r["type"], r["id"], r["name"], item["purpose"]) if known else (item["decision_id"],)
        groups.setdefault(key, []).append(item)
    return list(groups.values())


def _recipient_words(recipient: dict[str, Any]) -> str:
    name = recipient.get("name") or recipient.get("id") or "(recipient not recorded)"
    details = ", ".join(str(v) for v in (recipient.get("type"), recipient.get("id")) if v)
    return f"{name} ({details})" if details and name != recipient.get("id") else name


def to_text(entries: list[dict[str, Any]], *, window: Window, part2: bool) -> str:
    """A readable accounting; repeated disclosures to one recipient for one purpose are grouped."""
    rule = "42 CFR 2.25" if part2 else "45 CFR 164.528"
    kind = "Part 2 consented disclosures" if part2 else "disclosures"
    lines = [f"Accounting of {kind} ({rule}), {window.since} to {window.until}"]
    if not entries:
        lines.append("No accountable disclosures in this period.")
        return "\n".join(lines) + "\n"
    lines.append(f"{len(entries)} disclosure(s).")
    for items in group(entries):
        first, last = items[-1], items[0]
        lines.append("")
        lines.append(f"Date: {first['date']}")
        lines.append(f"Recipient: {_recipient_words(first['recipient'])}")
        if first["recipient"]["address"]:
            lines.append(f"Address: {first['recipient']['address']}")
        lines.append(f"What: {first['description']}")
        lines.append(f"Purpose: {first['purpose_statement']}")
        if len(items) > 1:
            lines.append(
                f"Repeated: {len(items)} disclosures to this recipient for this purpose, "
                f"the first on {first['date']}, the last on {last['date']} (45 CFR 164.528(b)(3))."
            )
            lines.append("Decisions: " + ", ".join(i["decision_id"] for i in reversed(items)))
        else:
            lines.append(f"Decision: {first['decision_id']}")
    return "\n".join(lines) + "\n"


def render(entries: list[dict[str, Any]], fmt: str, *, window: Window, part2: bool) -> str:
    if fmt == "json":
        return to_json(entries)
    if fmt == "csv":
        return to_csv(entries)
    if fmt == "text":
        return to_text(entries, window=window, part2=part2)
    raise ValueError(f"unknown format {fmt!r}")


# ---------------------------------------------------------------- command line


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date (YYYY-MM-DD): {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``accounting`` subcommand's arguments."""
    parser.add_argument("--patient", required=True, metavar="ID", help="the patient's id")
    parser.add_argument("--since", type=_date, metavar="DATE", help="first day (inclusive)")
    parser.add_argument(
        "--until", type=_date, metavar="DATE", help="last day (inclusive; default today, UTC)"
    )
    parser.add_argument(
        "--part2",
        action="store_true",
        help="42 CFR 2.25 accounting: disclosures made with Part 2 consent, 3 years by default",
    )
    parser.add_argument("--format", choices=["json", "csv", "text"], default="text")
    parser.add_argument(
        "--engine",
        choices=["duckdb", "lines"],
        default="duckdb",
        help="duckdb (default; also reads the Parquet archive) or the line-by-line reader",
    )
    parser.add_argument(
        "logfiles", nargs="+", metavar="LOGFILE", help="decision logs (.gz, Parquet archive too)"
    )
    parser.set_defaults(func=run)


def run(
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
    *,
    today: dt.date | None = None,
) -> int:
    """``hipaa-gate accounting``: print the accounting; 0 on success, 1 when some log line could
    not be read (the accounting printed may be incomplete), 2 on a usage error.
    ``today`` (default: today, UTC) ends the default window; tests set it."""
    try:
        key = config.load(environ=environ).require_patient_ref_key()
    except config.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if "PATIENT_REF_KEY" in str(exc):
            print(
                "accounting finds a patient's records by their patient_ref: set "
                "HIPAA_GATE_PATIENT_REF_KEY to the key the logs were written with (logs written "
                "by `make run` used the development key: HIPAA_GATE_DEV_MODE=1). It needs no OPA.",
                file=sys.stderr,
            )
        return 2
    try:
        window = Window.default(
            part2=args.part2,
            since=args.since,
            until=args.until,
            today=today or dt.datetime.now(dt.UTC).date(),
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stats = ReadStats()
    ref = compute_patient_ref(key, args.patient)
    try:
        if getattr(args, "engine", "duckdb") == "lines":
            entries = from_logs(
                args.logfiles, patient_ref=ref, window=window, part2=args.part2, stats=stats
            )
        else:
            from service.audit import disclosures  # DuckDB, imported only here

            entries, stats.problems = disclosures.from_logs(
                args.logfiles, patient_ref=ref, window=window, part2=args.part2
            )
    except OSError as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    sys.stdout.write(render(entries, args.format, window=window, part2=args.part2))
    if stats.problems:
        print(
            f"warning: {stats.problems} log line(s) could not be read and were skipped "
            "(listed above); the accounting may be incomplete",
            file=sys.stderr,
        )
        return 1
    return 0
