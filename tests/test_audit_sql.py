"""Every analysis query of the audit desk is portable: sqlglot transpiles it from DuckDB to Trino
and to Spark SQL, and the result parses in that dialect (docs/scaling.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from service.audit import sql
from service.audit.engine import connect

AUDIT = Path(sql.__file__).resolve().parent


@pytest.mark.parametrize("name", sorted(sql.QUERIES))
@pytest.mark.parametrize("dialect", ["trino", "spark"])
def test_query_transpiles_and_parses(name, dialect):
    tree = sqlglot.parse_one(sql.QUERIES[name], read="duckdb")
    out = tree.sql(dialect=dialect)
    again = sqlglot.parse_one(out, read=dialect)
    assert again.find(exp.Select) is not None
    # The transpiled query reads the same tables (decisions, or the archive's digest tables).
    tables = {t.name for t in tree.find_all(exp.Table)}
    assert {t.name for t in again.find_all(exp.Table)} == tables
    assert tables <= {"decisions", "decisions_all", "source", "staged", "archived"} | {
        t.alias_or_name for t in tree.find_all(exp.CTE)
    }


def test_every_query_runs_on_duckdb_over_an_empty_log():
    con = connect()
    for statement in sql.decisions_view([], deduplicate=True):
        con.execute(statement)
    for name in ("source", "staged", "archived"):
        con.execute(sql.digest_table(name, None, day=name == "staged"))
    params = {
        "patient_ref": "x",
        "part2": False,
        "tz": "America/New_York",
        "absolute_per_day": 1,
        "median_multiplier": 2,
        "trailing_days": 3,
        "min_history_days": 1,
        "min_count": 1,
        "window_seconds": 60,
        "count": 2,
        "days": [1],
        "start_minute": 1,
        "end_minute": 2,
        "watch_list": ["x"],
        "include_denied": True,
        "max_recipients": 1,
        "emergency_purposes": ["x"],
        "emergency_basis": ["X"],
        "user_id": None,
        "purpose": None,
        "recipient": None,
        "allow": None,
        "since": None,
        "until": None,
        "limit": 1,
        "top": 1,
    }
    for name, query in sql.QUERIES.items():
        wanted = {p.name for p in sqlglot.parse_one(query, read="duckdb").find_all(exp.Parameter)}
        wanted |= {
            p.name for p in sqlglot.parse_one(query, read="duckdb").find_all(exp.Placeholder)
        }
        rows = con.execute(query, {k: v for k, v in params.items() if k in wanted}).fetchall()
        assert isinstance(rows, list), name


def test_sql_is_written_only_in_the_sql_module():
    """No other module of the audit desk holds a SQL statement of its own."""
    statement = re.compile(r"^\s*(SELECT|CREATE|COPY|INSERT|WITH|SET)\b")
    for module in AUDIT.glob("*.py"):
        if module.name == "sql.py":
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not statement.match(node.value), (module.name, node.value)
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                assert not statement.match(text), (module.name, text)
