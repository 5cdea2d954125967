"""Business-associate oversight: print ``data.hipaa.vendors.findings`` (policies/hipaa/vendors).

``hipaa-gate vendors`` asks the OPA at ``HIPAA_GATE_OPA_URL`` when that is set, else builds a
bundle from the policy directory and runs a local OPA for the one query (like ``replay``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from service import config
from service.opa.client import OpaClient, OpaError
from service.opa.sidecar import OpaStartError, local_opa
from service.paths import policy_dir

FINDINGS_DOCUMENT = "hipaa/vendors/findings"
SEVERITY_ORDER = ("critical", "high", "medium", "low")


class FindingsError(RuntimeError):
    """OPA gave no findings."""


def fetch(client: OpaClient, now: str) -> list[dict[str, Any]]:
    """The findings at ``now`` (RFC 3339), from the OPA behind ``client``."""
    try:
        answer = client.query(FINDINGS_DOCUMENT, {"now": now})
    except OpaError as exc:
        raise FindingsError(str(exc)) from None
    if not answer.defined or not isinstance(answer.result, list):
        raise FindingsError("the policy has no data.hipaa.vendors.findings document")
    return answer.result


def findings(
    *,
    now: str,
    opa_url: str | None = None,
    policies: str | Path | None = None,
    token: str | None = None,
    ca_bundle: str | None = None,
) -> list[dict[str, Any]]:
    """Findings from the OPA at ``opa_url`` (bearer ``token``, ``ca_bundle``), or from a local
    OPA over ``policies``."""
    if opa_url:
        client = OpaClient(
            opa_url, connect_timeout=2.0, read_timeout=10.0, token=token, ca_bundle=ca_bundle
        )
        try:
            return fetch(client, now)
        finally:
            client.close()
    with local_opa(policies or policy_dir()) as opa:
        client = OpaClient(opa.url, connect_timeout=2.0, read_timeout=10.0)
        try:
            return fetch(client, now)
        finally:
            client.close()


def to_text(items: list[dict[str, Any]], now: str) -> str:
    """Findings grouped by vendor, each ``SEVERITY CODE message (citation)``."""
    if not items:
        return f"No business-associate findings at {now}.\n"
    vendors: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        vendors.setdefault(str(item.get("vendor_id")), []).append(item)
    lines = [f"{len(items)} finding(s) for {len(vendors)} vendor(s) at {now}."]
    for vendor_id, group in vendors.items():
        name = group[0].get("vendor_name") or vendor_id
        lines.append("")
        lines.append(f"{vendor_id} ({name})" if name != vendor_id else vendor_id)
        rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
        for item in sorted(group, key=lambda f: rank.get(f.get("severity"), len(rank))):
            lines.append(
                f"  {str(item.get('severity', '')).upper():8} {item.get('code')}: "
                f"{item.get('message')} ({item.get('citation')})"
            )
    return "\n".join(lines) + "\n"


def render(items: list[dict[str, Any]], fmt: str, now: str) -> str:
    if fmt == "json":
        return json.dumps(items, indent=2) + "\n"
    if fmt == "text":
        return to_text(items, now)
    raise ValueError(f"unknown format {fmt!r}")


def _rfc3339(text: str) -> str:
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time: {text!r}") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"RFC 3339 time needs a UTC offset: {text!r}")
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``vendors`` subcommand's arguments."""
    parser.add_argument("--format", choices=["json", "text"], default="text")
    parser.add_argument(
        "--now", type=_rfc3339, metavar="TIME", help="evaluate at this RFC 3339 time (default now)"
    )
    parser.add_argument(
        "--policies",
        metavar="DIR",
        help="policy directory for the local OPA (default HIPAA_GATE_POLICY_DIR or policies/); "
        "ignored when HIPAA_GATE_OPA_URL is set",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    """``hipaa-gate vendors``: print the findings; 0, or 2 when OPA gave none."""
    cfg = config.load(environ=environ)
    now = args.now or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        items = findings(
            now=now,
            opa_url=cfg.opa_url if cfg.is_set("OPA_URL") else None,
            policies=args.policies,
            token=cfg.opa_token,
            ca_bundle=cfg.opa_ca_bundle,
        )
    except (FindingsError, OpaStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(items, args.format, now))
    return 0
