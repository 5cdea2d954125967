"""service/'s layout: imports between its parts point one way, and the configuration is read
from the environment in one module (service/config.py).

Each part is a subpackage (``service/opa/``) or a top-level module (``service/paths.py``); a part
may import only parts of a lower layer. Every import counts, also one inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVICE = REPO / "service"

#: Lowest first. Why this order: records, config and paths are what everything else reads (the
#: configured policy directory and OPA binary included); OPA's client and sidecar read the config;
#: the audit desk and the authorization forms use OPA; the API uses the forms; interop (CDS Hooks)
#: reuses the API's request handling; the app puts them together; serve runs it; the CLI runs all.
LAYERS: list[set[str]] = [
    {"errors", "jsonio", "metrics"},
    {"log_config"},
    {"records"},
    {"config"},
    {"paths"},
    {"opa"},
    {"audit", "authorization_forms"},
    {"api"},
    {"interop"},
    {"app"},
    {"server"},
    {"cli"},
]
LAYER = {part: n for n, parts in enumerate(LAYERS) for part in parts}


def part_of(module: str) -> str:
    """``service.opa.client`` -> ``opa``; ``service.paths`` -> ``paths``; ``service`` itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "service"


def module_name(path: Path) -> str:
    names = list(path.relative_to(REPO).with_suffix("").parts)
    if names[-1] == "__init__":
        names.pop()
    return ".".join(names)


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, module)`` of every import of a ``service`` module in ``tree``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "service":
                found += [(node.lineno, f"service.{a.name}") for a in node.names]
            elif node.module.startswith("service."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("service.")]
    return found


def wrong_way_imports(sources: dict[str, str]) -> list[str]:
    """Each import (of ``sources``, module name -> text) that does not point down a layer."""
    problems = []
    for module, text in sorted(sources.items()):
        here = part_of(module)
        for line, target in imported_modules(ast.parse(text)):
            there = part_of(target)
            if there == here or here == "service":
                continue
            if here not in LAYER or there not in LAYER:
                unknown = here if here not in LAYER else there
                problems.append(f"{module}:{line}: {unknown} is in no layer of test_layout.py")
            elif LAYER[there] >= LAYER[here]:
                problems.append(
                    f"{module}:{line} imports {target}: {here} (layer {LAYER[here]}) may import "
                    f"only lower layers, {there} is layer {LAYER[there]}"
                )
    return problems


def service_sources() -> dict[str, str]:
    return {module_name(p): p.read_text(encoding="utf-8") for p in SERVICE.rglob("*.py")}


def test_every_part_of_service_is_in_a_layer():
    parts = {part_of(m) for m in service_sources()} - {"service"}
    assert parts == set(LAYER), (
        f"parts without a layer: {sorted(parts - set(LAYER))}; "
        f"layers naming no part: {sorted(set(LAYER) - parts)}"
    )


def test_imports_between_the_parts_of_service_point_one_way():
    assert wrong_way_imports(service_sources()) == []


def test_a_wrong_way_import_is_named():
    sources = {
        "service.paths": "def f():\n    from service.opa.client import OpaClient\n",
        "service.opa.sidecar": "from service import paths, config\n",
    }
    assert wrong_way_imports(sources) == [
        "service.paths:2 imports service.opa.client: paths (layer 4) may import only lower "
        "layers, opa is layer 5"
    ]


# ------------------------------------------------------------------ the environment


PREFIX = "HIPAA_GATE_"


def _prefixed_names(tree: ast.AST) -> set[str]:
    """Module-level names bound to a ``HIPAA_GATE_*`` string (``TOKEN_ENV = "HIPAA_GATE_..."``)."""
    names = set()
    for node in getattr(tree, "body", []):
        if isinstance(node, ast.Assign) and _is_prefixed(node.value, set()):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _is_prefixed(node: ast.AST | None, names: set[str]) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.startswith(PREFIX)
    if isinstance(node, ast.JoinedStr) and node.values:
        return _is_prefixed(node.values[0], names)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_prefixed(node.left, names)
    return isinstance(node, ast.Name) and node.id in names


def environment_reads(text: str) -> list[int]:
    """Lines where ``text`` looks a ``HIPAA_GATE_*`` variable up: ``x.get("HIPAA_GATE_...")``,
    ``getenv(...)``, ``x["HIPAA_GATE_..."]`` read, ``"HIPAA_GATE_..." in x``."""
    tree = ast.parse(text)
    names = _prefixed_names(tree)
    lines = []
    for node in ast.walk(tree):
        key = None  # the expression naming the variable looked up, if this is a look-up
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            key = node.args[0] if called in {"get", "getenv"} else None
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key = node.slice
        elif isinstance(node, ast.Compare) and any(isinstance(o, ast.In) for o in node.ops):
            key = node.left
        if _is_prefixed(key, names):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_only_config_reads_hipaa_gate_variables():
    readers = {
        module: lines
        for module, text in service_sources().items()
        if module != "service.config" and (lines := environment_reads(text))
    }
    assert readers == {}, f"HIPAA_GATE_* read outside service/config.py (module: lines): {readers}"


def test_an_environment_read_is_found():
    text = (
        'import os\nTOKEN = "HIPAA_GATE_OPA_TOKEN"\n'
        'a = os.environ.get("HIPAA_GATE_OPA_URL")\n'
        "b = os.environ[TOKEN]\n"
        'c = os.getenv(f"HIPAA_GATE_{a}")\n'
        'd = "HIPAA_GATE_DEV_MODE" in os.environ\n'
        'env = {}\nenv["HIPAA_GATE_BIND"] = "x"\n'  # setting a child's variable is no read
    )
    assert environment_reads(text) == [3, 4, 5, 6]
