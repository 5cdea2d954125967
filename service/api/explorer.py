"""The decision explorer page (``/explorer``): try a request, read the decision, browse the state
law matrix, the business-associate findings and the breach planner.

Registered only when ``HIPAA_GATE_EXPLORER`` is on (by default exactly in development mode). The
page is one self-contained HTML file (``service/api/explorer.html``: no external script, style, font
or image) that calls the public API from the browser; it decides nothing itself. Its inline
script and style run under a per-response nonce (Content-Security-Policy); everything it shows is
inserted as text, never as HTML.
"""

from __future__ import annotations

import json
import secrets
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, g, jsonify

from service.paths import REPO_DIR

bp = Blueprint("explorer", __name__)
PAGE = Path(__file__).resolve().parent / "explorer.html"
EXAMPLES_DIR = REPO_DIR / "examples" / "requests"


@cache
def _page_template() -> str:
    return PAGE.read_text(encoding="utf-8")


def load_examples(directory: Path = EXAMPLES_DIR) -> list[dict[str, Any]]:
    """The example requests (scenario fixtures: name, description, request, expect), by name."""
    examples = []
    for path in sorted(directory.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("request"), dict):
            continue
        name = str(doc.get("name") or path.stem)
        examples.append(
            {
                "name": name,
                "title": str(doc.get("title") or name.replace("-", " ")),
                "description": str(doc.get("description") or ""),
                "request": doc["request"],
                "expect": doc.get("expect"),
            }
        )
    return examples


@bp.get("/explorer")
def page() -> Response:
    g.endpoint_label = "explorer"
    nonce = secrets.token_urlsafe(16)
    resp = Response(_page_template().replace("{{NONCE}}", nonce), mimetype="text/html")
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


@bp.get("/explorer/examples")
def examples() -> Response:
    g.endpoint_label = "explorer"
    return jsonify({"examples": load_examples()})
