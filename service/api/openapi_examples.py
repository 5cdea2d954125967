"""Examples for the OpenAPI operations whose path items are built in code, not kept in
``service/api/openapi.json`` (the interop endpoints): ``openapi_examples.json`` here, attached
to the served document. Every operation of ``/openapi.json`` then carries an example
(``tests/test_first_hour.py``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EXAMPLES_FILE = Path(__file__).resolve().parent / "openapi_examples.json"


def attach_examples(doc: dict[str, Any]) -> None:
    """Add the file's 200-response examples to the operations ``doc`` has (on copies
    of their path items: the code that built them may share their parts)."""
    examples = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))["paths"]
    paths = doc.get("paths", {})
    for path, operations in examples.items():
        if path not in paths:
            continue
        item = paths[path] = copy.deepcopy(paths[path])
        for method, entry in operations.items():
            operation = item.get(method)
            if operation is None:
                continue
            ok = operation.get("responses", {}).get("200", {}).get("content", {})
            if "application/json" in ok:
                ok["application/json"].setdefault("examples", {"example": entry["response"]})
