"""``hipaa-gate audit|reviews|logs``: the audit desk's command line (docs/audit.md).

Exit codes: 0 done; 1 done, but some log line or file could not be read (each was reported on
stderr as ``file:line: reason``: the output is incomplete) or a check failed; 2 usage,
configuration or file errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service import config as service_config
from service.audit import findings, policy, reviews
from service.records.patient_ref import patient_ref as compute_patient_ref

# DuckDB, cryptography and pygal are imported by the commands that use them, not by every
# `hipaa-gate` invocation (`serve` among them).

OK, INCOMPLETE, ERROR = 0, 1, 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date (YYYY-MM-DD): {text!r}") from None


def _err(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return ERROR


def _incomplete(engine: Any) -> int:
    if engine.incomplete:
        print(
            f"warning: {engine.stats.problems} log line(s) or file(s) could not be read "
            f"(listed above, in {len(engine.stats.problem_files)} file(s)); "
            "the result is incomplete",
            file=sys.stderr,
        )
        return INCOMPLETE
    return OK


def _guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the expected failures into one ``error:`` line and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        from service.audit import archive
        from service.audit.engine import EngineError

        try:
            return func(args)
        except OSError as exc:
            name = exc.filename or ""
            return _err(f"cannot read {name}: {exc.strerror}" if name else str(exc))
        except (
            policy.AuditConfigError,
            archive.SealKeyError,
            service_config.ConfigError,
            EngineError,
        ) as exc:
            return _err(str(exc))

    return run


def _write(text: str, out: str | None) -> None:
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


# ---------------------------------------------------------------- audit


def _cmd_findings(args: argparse.Namespace) -> int:
    from service.audit.engine import Engine

    cfg = policy.load(args.config)
    reviewed, review_problems = reviews.load(reviews.review_log_path(args.review_log))
    with Engine(args.logfiles) as engine:
        items = findings.find(engine, cfg, reviews=reviewed)
        if args.format == "json":
            text = json.dumps(items, indent=2, ensure_ascii=False) + "\n"
        else:
            text = findings_text(items)
        _write(text, None)
        code = _incomplete(engine)
    return INCOMPLETE if review_problems else code


def findings_text(items: list[dict[str, Any]]) -> str:
    lines = [f"{len(items)} finding(s)."]
    for f in items:
        who = f["user_id"] or "-"
        if f["patient_ref"]:
            who += f" patient {f['patient_ref'][:12]}"
        window = f["window"] or {}
        head = (
            f"{f['severity'].upper():6} {f['finding']} {who} "
            f"{window.get('start')} .. {window.get('end')}"
        )
        if f.get("review"):
            r = f["review"]
            head += (
                f" review OPEN ({r['age_days']} d)"
                if r["status"] == "open"
                else f" reviewed: {r['outcome']}"
            )
        lines.append(head)
        lines.append(f"       {f['rule']} [{f['citation']}]")
        shown = f["evidence"][:10]
        more = f" (+{len(f['evidence']) - len(shown)} more)" if len(f["evidence"]) > 10 else ""
        lines.append(f"       evidence: {', '.join(shown)}{more}")
    return "\n".join(lines) + "\n"


def _cmd_query(args: argparse.Namespace) -> int:
    from service.audit import query
    from service.audit.engine import Engine

    ref = args.patient_ref
    if args.patient:
        key = service_config.load().require_patient_ref_key()
        ref = compute_patient_ref(key, args.patient)
    allow = {"allow": True, "deny": False, None: None}[args.outcome]
    with Engine(args.logfiles) as engine:
        rows = query.run_query(
            engine,
            user_id=args.user,
            patient_ref=ref,
            purpose=args.purpose,
            recipient=args.recipient,
            allow=allow,
            since=args.since,
            until=args.until,
            limit=args.limit,
        )
        sys.stdout.write(query.render(rows, args.format))
        return _incomplete(engine)


def _cmd_report(args: argparse.Namespace) -> int:
    from service.audit import report
    from service.audit.engine import Engine

    cfg = policy.load(args.config)
    reviewed, review_problems = reviews.load(reviews.review_log_path(args.review_log))
    with Engine(args.logfiles) as engine:
        items = findings.find(engine, cfg, reviews=reviewed)
        review_items = reviews.needing_review(engine, cfg, reviewed)
        page = report.render(engine, cfg, items, review_items, sources=args.logfiles)
        Path(args.html).write_text(page, encoding="utf-8")
        print(f"wrote {args.html}: {len(items)} finding(s)", file=sys.stderr)
        code = _incomplete(engine)
    return INCOMPLETE if review_problems else code


# ---------------------------------------------------------------- reviews


def _cmd_reviews_list(args: argparse.Namespace) -> int:
    from service.audit.engine import Engine

    cfg = policy.load(args.config)
    reviewed, review_problems = reviews.load(reviews.review_log_path(args.review_log))
    with Engine(args.logfiles) as engine:
        items = reviews.needing_review(engine, cfg, reviewed)
        if args.open:
            items = [i for i in items if i["status"] == "open"]
        if args.format == "json":
            sys.stdout.write(json.dumps(items, indent=2, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(reviews.to_text(items))
        code = _incomplete(engine)
    return INCOMPLETE if review_problems else code


def _cmd_reviews_record(args: argparse.Namespace) -> int:
    path = reviews.review_log_path(args.review_log)
    try:
        entry = reviews.record(
            path, args.decision_id, reviewer=args.reviewer, outcome=args.outcome, note=args.note
        )
    except ValueError as exc:
        return _err(str(exc))
    print(json.dumps(entry, ensure_ascii=False))
    return OK


# ---------------------------------------------------------------- logs


def _cmd_logs_archive(args: argparse.Namespace) -> int:
    from service.audit import archive

    key = archive.private_key() if args.seal else None
    code = OK
    results = []
    for path in args.logfiles:
        if archive.is_live_log(path):
            print(f"error: {path} is the live decision log; archive rotated files", file=sys.stderr)
            code = ERROR
            continue
        try:
            if archive.kind_of(path) == "parquet":
                print(f"error: {path} is already Parquet", file=sys.stderr)
                code = ERROR
                continue
        except OSError as exc:
            print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
            code = ERROR
            continue
        result = archive.archive_file(path, args.out, delete=args.delete, key=key)
        results.append(result.as_dict())
        print(f"{path}: {result.message}", file=sys.stderr)
        if not result.verified:
            code = ERROR
        elif result.problems and code == OK:
            code = INCOMPLETE
    print(json.dumps(results, indent=2))
    return code


def _cmd_logs_seal(args: argparse.Namespace) -> int:
    from service.audit import archive

    key = archive.private_key()
    code = OK
    for path in args.files:
        body, problems = archive.seal(path, key)
        print(f"sealed {path}: {body['records']} record(s) -> {archive.seal_path(path)}")
        if problems:
            code = INCOMPLETE
    return code


def _cmd_logs_verify(args: argparse.Namespace) -> int:
    from service.audit import archive

    key = archive.public_key()
    sealed, unsealed = archive.sealable_files(args.paths)
    verdicts = [archive.verify_one(path, key) for path in sealed]
    failures = 0
    for v in verdicts:
        print(f"{'ok  ' if v.ok else 'FAIL'} {v.file}: {v.message}")
        for name in ("added", "removed", "changed"):
            for decision_id in getattr(v, name):
                print(f"     {name}: {decision_id}")
        failures += 0 if v.ok else 1
    for path in unsealed:
        print(f"FAIL {path}: archive partition has no seal")
        failures += 1
    print(f"{len(verdicts)} sealed file(s) checked, {failures} problem(s)")
    if not verdicts and not unsealed:
        return _err("nothing sealed found")
    return INCOMPLETE if failures else OK


def _cmd_logs_keygen(args: argparse.Namespace) -> int:
    from service.audit import archive

    try:
        archive.generate_keys(args.private, args.public)
    except FileExistsError:
        return _err(f"{args.private} exists; not overwritten")
    print(f"wrote {args.private} (keep it secret) and {args.public}")
    return OK


# ---------------------------------------------------------------- parsers


def _common(p: argparse.ArgumentParser, *, config: bool = True, review_log: bool = False) -> None:
    if config:
        p.add_argument(
            "--config",
            metavar="FILE",
            help="audit rules (default: $HIPAA_GATE_AUDIT_CONFIG or "
            "policies/config/audit/data.json)",
        )
    if review_log:
        p.add_argument(
            "--review-log",
            metavar="FILE",
            help="review log (default: $HIPAA_GATE_REVIEW_LOG or ./review-log.jsonl)",
        )


def _logs_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "logfiles",
        nargs="+",
        metavar="LOG",
        help="decision logs: JSON lines, gzip rotations, Parquet archive files or directories",
    )


def add_audit(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    p = sub.add_parser("findings", help="anomaly findings (volume, denials, hours, watch list...)")
    _common(p, review_log=True)
    p.add_argument("--format", choices=["json", "text"], default="text")
    _logs_arg(p)
    p.set_defaults(func=_guarded(_cmd_findings))

    p = sub.add_parser("query", help="who disclosed what, when and why")
    p.add_argument("--user", metavar="USER_ID")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--patient", metavar="ID", help="patient id (turned into patient_ref)")
    group.add_argument("--patient-ref", metavar="REF")
    p.add_argument("--purpose")
    p.add_argument("--recipient", metavar="ID_OR_NAME")
    p.add_argument("--outcome", choices=["allow", "deny"])
    p.add_argument("--since", type=_date, metavar="DATE", help="first day (UTC, inclusive)")
    p.add_argument("--until", type=_date, metavar="DATE", help="last day (UTC, inclusive)")
    p.add_argument("--limit", type=int)
    p.add_argument("--format", choices=["json", "csv", "text"], default="text")
    _logs_arg(p)
    p.set_defaults(func=_guarded(_cmd_query))

    p = sub.add_parser("report", help="one self-contained HTML page for the privacy office")
    _common(p, review_log=True)
    p.add_argument("--html", required=True, metavar="OUT.html")
    _logs_arg(p)
    p.set_defaults(func=_guarded(_cmd_report))


def add_reviews(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="reviews_command", required=True, metavar="ACTION")
    p = sub.add_parser("list", help="decisions that need a post-event review, and their status")
    _common(p, review_log=True)
    p.add_argument("--open", action="store_true", help="only those without a review")
    p.add_argument("--format", choices=["json", "text"], default="text")
    _logs_arg(p)
    p.set_defaults(func=_guarded(_cmd_reviews_list))

    p = sub.add_parser(
        "record",
        help="append a review to the review log. The note must not contain PHI: that is the "
        "reviewer's duty",
    )
    _common(p, config=False, review_log=True)
    p.add_argument("decision_id", metavar="DECISION_ID")
    p.add_argument("--reviewer", required=True, metavar="ID")
    p.add_argument("--outcome", required=True, choices=list(reviews.OUTCOMES))
    p.add_argument("--note", metavar="TEXT", help="free text WITHOUT PHI (the reviewer's duty)")
    p.set_defaults(func=_guarded(_cmd_reviews_record))


def add_logs(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="logs_command", required=True, metavar="ACTION")
    p = sub.add_parser("archive", help="closed log files into a Parquet archive (by day)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument(
        "--delete", action="store_true", help="delete each source once every record is verified"
    )
    p.add_argument("--seal", action="store_true", help="seal the new partitions")
    p.add_argument("logfiles", nargs="+", metavar="LOG")
    p.set_defaults(func=_guarded(_cmd_logs_archive))

    p = sub.add_parser("seal", help="signed digest of closed files ($HIPAA_GATE_SEAL_KEY)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=_guarded(_cmd_logs_seal))

    p = sub.add_parser("verify", help="check sealed files and every archive partition")
    p.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    p.set_defaults(func=_guarded(_cmd_logs_verify))

    p = sub.add_parser("keygen", help="create an Ed25519 seal key pair (PEM)")
    p.add_argument("--private", required=True, metavar="FILE")
    p.add_argument("--public", required=True, metavar="FILE")
    p.set_defaults(func=_guarded(_cmd_logs_keygen))
