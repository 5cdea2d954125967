"""Authorization requirements and printable templates (privacy-office procedure §5).

``POST /v1/authorizations/requirements`` answers what a valid HIPAA authorization,
psychotherapy-notes authorization or 42 CFR Part 2 consent must contain for given states,
categories, purpose, recipient type and document type (policies/hipaa/authorization_forms),
each item with its citation (the view is in ``service.api.authorizations``).
``hipaa-gate authorization-form`` renders those requirements as a printable template (HTML or
Markdown) with Jinja2, the template engine Flask ships with: the elements become fields to fill
in, the statements are printed. This module does not import Flask (a CLI command that does not
serve loads no web framework).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from service.errors import RequestValidationError
from service.opa.client import OpaClient
from service.opa.input import validate_request

REQUIREMENTS_DOCUMENT = "hipaa/authorization_forms/requirements"
SCHEMA = "authorization_requirements.schema.json"
FORMATS = ("html", "md")
# Elements signed at the end of the document, after the statements.
SIGNATURE_FIELDS = frozenset(
    {
        "signature_date",
        "signature",
        "date_signed",
        "representative_authority",
        "signer_capacity",
        "witness_signature",
    }
)

TITLES = {
    "hipaa_authorization": "Authorization to use or disclose health information",
    "psychotherapy_notes_authorization": "Authorization to use or disclose psychotherapy notes",
    "part2_consent": "Consent to disclose substance use disorder records (42 CFR Part 2)",
    "part2_tpo_consent": (
        "Consent to disclose substance use disorder records for treatment, payment and "
        "health care operations (42 CFR Part 2)"
    ),
    "sud_counseling_notes_consent": "Consent to disclose SUD counseling notes (42 CFR Part 2)",
    "part2_proceedings_consent": (
        "Consent to use or disclose substance use disorder records in proceedings "
        "against the patient (42 CFR Part 2)"
    ),
}


def requirements_input(body: dict[str, Any]) -> dict[str, Any]:
    """The policy input: the request's fields, ``states`` defaulting to none."""
    return {
        "states": body.get("states", []),
        "categories": body["categories"],
        "purpose": body["purpose"],
        "recipient_type": body["recipient_type"],
        "type": body["type"],
    }


def problems(answer: Any) -> list[dict[str, str]] | None:
    """The policy's ``errors`` as 400 details, or None when the answer has none."""
    if isinstance(answer, dict) and isinstance(answer.get("errors"), list) and answer["errors"]:
        return [
            {"path": str(e.get("path", "")), "message": str(e.get("message", ""))}
            for e in answer["errors"]
            if isinstance(e, dict)
        ]
    return None


def usable(answer: Any) -> bool:
    return isinstance(answer, dict) and isinstance(answer.get("requirements"), list)


# ----------------------------------------------------------------------------- templates


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("service", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(answer: dict[str, Any], fmt: str) -> str:
    """The printable template for a requirements answer, as ``html`` or ``md``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    # Optional keys made explicit, so the templates can use StrictUndefined (a typo fails).
    items = [{"condition": None, "text": None, "field": None, **i} for i in answer["requirements"]]
    by_kind: dict[str, list[dict[str, Any]]] = {"element": [], "statement": [], "format": []}
    notices = []
    for item in items:
        (notices if item["kind"] == "notice" else by_kind[item["kind"]]).append(item)
    signature = [i for i in by_kind["element"] if i.get("field") in SIGNATURE_FIELDS]
    context = {
        "title": TITLES.get(answer["type"], "Authorization"),
        "answer": answer,
        "elements": [i for i in by_kind["element"] if i not in signature],
        "signature": signature,
        "statements": by_kind["statement"],
        "formats": by_kind["format"],
        "notices": notices,
        "review": [i for i in items if i.get("confidence") != "high"],
    }
    template = _environment().get_template(f"authorization_form.{fmt}.j2")
    return template.render(**context)


# ----------------------------------------------------------------------------- CLI


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--state",
        dest="states",
        action="append",
        default=[],
        metavar="XX",
        help="USPS code of a state whose law applies (repeat for several)",
    )
    p.add_argument("--categories", nargs="+", required=True, metavar="CATEGORY")
    p.add_argument("--purpose", required=True)
    p.add_argument("--recipient-type", default="other")
    p.add_argument(
        "--type",
        default="hipaa_authorization",
        help="document type (default hipaa_authorization; part2_consent, ...)",
    )
    p.add_argument("--format", choices=FORMATS, default="html")
    p.add_argument("--out", help="write the template here instead of stdout")
    p.add_argument("--policies", help="policy directory (default: the bundled one)")
    p.set_defaults(func=run)


def fetch(client: OpaClient, body: dict[str, Any]) -> dict[str, Any]:
    """The requirements answer; ``RequestValidationError`` for an unknown value."""
    answer = client.query(REQUIREMENTS_DOCUMENT, requirements_input(body))
    details = problems(answer.result if answer.defined else None)
    if details:
        raise RequestValidationError(details=details)
    if not answer.defined or not usable(answer.result):
        raise RuntimeError("the policy has no data.hipaa.authorization_forms.requirements")
    return answer.result


def run(args: argparse.Namespace) -> int:
    from service import config
    from service.opa.sidecar import local_opa
    from service.paths import policy_dir

    body = {
        "states": [s.strip().upper() for v in args.states for s in v.split(",") if s.strip()],
        "categories": args.categories,
        "purpose": args.purpose,
        "recipient_type": args.recipient_type,
        "type": args.type,
    }
    try:
        validate_request(body, schema=SCHEMA)
        cfg = config.load()
        if cfg.is_set("OPA_URL"):
            client = OpaClient(cfg.opa_url, connect_timeout=2.0, read_timeout=10.0)
            try:
                answer = fetch(client, body)
            finally:
                client.close()
        else:
            with local_opa(args.policies or policy_dir()) as opa:
                client = OpaClient(opa.url, connect_timeout=2.0, read_timeout=10.0)
                try:
                    answer = fetch(client, body)
                finally:
                    client.close()
    except RequestValidationError as exc:
        for d in exc.details:
            print(f"{d['path']}: {d['message']}", file=sys.stderr)
        return 2
    text = render(answer, args.format)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
