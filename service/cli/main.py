"""The ``hipaa-gate`` command (``service.cli.main:main``).

Subcommands: ``serve`` (OPA + gunicorn) and ``decide`` (one request through the same code path).
Other subcommands are added as one import plus one ``add_parser`` block each.
"""

from __future__ import annotations

import argparse
import json
import sys

from service import authorization_forms
from service.audit import accounting, replay, vendors
from service.cli import decide
from service.interop import audit
from service.opa import policy_data


def _cmd_serve(_args: argparse.Namespace) -> int:
    from service.server.serve import serve

    return serve()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hipaa-gate", description="HIPAA disclosure decisions on an OPA sidecar."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="start OPA (unless HIPAA_GATE_OPA_URL is set) and the shim")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser(
        "decide",
        help="evaluate one request or scenario fixture (JSON file or - for stdin) and print the "
        "decision; a dry run unless --log; exit 0 allow, 1 deny, 2 error",
    )
    decide.add_arguments(p)

    p = sub.add_parser(
        "check-data",
        help="check the policy data: schemas and cross-references (roles, views, purposes)",
    )
    policy_data.add_arguments(p)

    p = sub.add_parser(
        "accounting",
        help="accounting of disclosures (45 CFR 164.528; 42 CFR 2.25 with --part2) from logs",
    )
    accounting.add_arguments(p)

    p = sub.add_parser(
        "replay",
        help="re-evaluate logged decisions against a policy directory and report the changes",
    )
    replay.add_arguments(p)

    p = sub.add_parser("vendors", help="business-associate oversight findings")
    vendors.add_arguments(p)

    # The privacy office's audit desk (docs/audit.md); DuckDB is imported only when used.
    from service.audit import commands as audit_commands

    p = sub.add_parser("audit", help="audit findings, queries and the HTML report (DuckDB)")
    audit_commands.add_audit(p)
    p = sub.add_parser("reviews", help="post-event reviews: list and record")
    audit_commands.add_reviews(p)
    p = sub.add_parser("logs", help="Parquet archive, seals and their verification")
    audit_commands.add_logs(p)
    p = sub.add_parser(
        "authorization-form",
        help="print a template of an authorization or Part 2 consent with its required elements "
        "(HTML or Markdown)",
    )
    authorization_forms.add_arguments(p)

    p = sub.add_parser("consents", help="FHIR consents: disclosures made under one; AuditEvents")
    audit.add_arguments(p)

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the CLI never prints a stack trace either
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}), file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
