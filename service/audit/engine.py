"""DuckDB over the decision log where it lies: JSON lines, gzip rotations, the Parquet archive.

``Engine(paths)`` checks every file, reports what cannot be read (file and line, through the
same ``Problem`` handler as ``service.records.files``) and exposes the readable decisions as the
views ``decisions_all`` (every copy) and ``decisions`` (each ``decision_id`` once, the first copy
in argument order). A JSON-lines file is checked in one DuckDB pass; only a file with an unusable
line (or that DuckDB cannot read to its end, e.g. a gzip file cut short) is read again line by
line in Python to name each line, and its readable records are used from a cleaned copy.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from service.audit import sql
from service.config import load as load_config
from service.records.files import (
    DECISION_EVENT,
    GZIP_MAGIC,
    Problem,
    ProblemHandler,
    check_record,
    iter_lines,
    report_to_stderr,
)

PARQUET_MAGIC = b"PAR1"
#: DuckDB's memory limit (it spills to a temporary directory beyond it); threads: all cores.
DEFAULT_MEMORY_LIMIT = "512MB"


class EngineError(RuntimeError):
    """The log could not be opened as a whole (a missing file is an ``OSError``)."""


@dataclass
class EngineStats:
    """What the engine saw: files, lines checked, other events, problems (unreadable lines)."""

    files: int = 0
    lines: int = 0
    other_events: int = 0
    problems: int = 0
    problem_files: set[str] = field(default_factory=set)


def kind_of(path: str) -> str:
    """``parquet``, ``gzip`` or ``none`` (plain), by the file's first bytes, not its name."""
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == PARQUET_MAGIC:
        return "parquet"
    if magic[:2] == GZIP_MAGIC:
        return "gzip"
    return "none"


def expand(paths: list[str]) -> list[tuple[int, str]]:
    """``(argument index, file)``; a directory stands for the ``*.parquet`` files under it."""
    out: list[tuple[int, str]] = []
    for index, raw in enumerate(paths):
        path = os.fspath(raw)
        if os.path.isdir(path):
            out.extend((index, str(p)) for p in sorted(Path(path).rglob("*.parquet")))
        else:
            with open(path, "rb"):  # raises OSError for a missing or unreadable file
                pass
            out.append((index, path))
    return out


def connect(memory_limit: str | None = None, temp_dir: str | None = None) -> Any:
    """A DuckDB connection with the session settings of ``sql.SESSION``."""
    con = duckdb.connect(":memory:")
    for statement in sql.SESSION:
        con.execute(statement)
    for statement in sql.memory_settings(memory_limit or DEFAULT_MEMORY_LIMIT, temp_dir):
        con.execute(statement)
    return con


class Engine:
    """The decision log files as DuckDB views; close it (or use ``with``) to drop cleaned copies."""

    def __init__(
        self,
        paths: list[str],
        *,
        on_problem: ProblemHandler = report_to_stderr,
        records: bool = False,
    ) -> None:
        """``records``: keep each JSON line in ``record`` (archive, seals; a slower parse)."""
        self._json_source = sql.json_record_source if records else sql.json_source
        self._tmp = tempfile.TemporaryDirectory(prefix="hipaa-gate-audit-")
        self.on_problem = on_problem
        self.stats = EngineStats()
        self.con = connect(load_config().audit_memory_limit, self._tmp.name)
        self.sources: list[str] = []
        #: The JSON-lines files the views read: ``(path, compression)``, a cleaned copy in place
        #: of a file with unusable lines.
        self.json_files: list[tuple[str, str]] = []
        try:
            self._open(paths)
        except BaseException:
            self.close()
            raise

    # ---------------------------------------------------------------- set-up

    def problem(self, path: str, line: int, message: str) -> None:
        self.stats.problems += 1
        self.stats.problem_files.add(path)
        self.on_problem(Problem(path, line, message))

    def _open(self, paths: list[str]) -> None:
        files = expand(paths)
        parquet: dict[int, list[str]] = {}
        json_sources: list[str] = []
        for index, path in files:
            self.stats.files += 1
            kind = kind_of(path)
            if kind == "parquet":
                if self._parquet_readable(path):
                    parquet.setdefault(index, []).append(path)
                continue
            source = self.checked_json(path, kind, index)
            if source is not None:
                json_sources.append(source)
        self.sources = json_sources + [
            sql.parquet_source(p, i, self._parquet_columns(p)) for i, p in parquet.items()
        ]
        # The archive holds each decision once; anything else may overlap (rotated copies).
        deduplicate = bool(json_sources) or len(parquet) > 1
        for statement in sql.decisions_view(self.sources, deduplicate=deduplicate):
            self.con.execute(statement)

    def _parquet_columns(self, paths: list[str]) -> set[str]:
        """The columns the archive files hold together (older ones lack later columns)."""
        return {row[0] for row in self.con.execute(sql.parquet_columns(paths)).fetchall()}

    def _parquet_readable(self, path: str) -> bool:
        try:
            self.con.execute(sql.parquet_check(path)).fetchall()
        except duckdb.Error as exc:
            self.problem(path, 0, f"not a readable Parquet file ({_first_line(exc)})")
            return False
        return True

    def checked_json(self, path: str, compression: str, src: int) -> str | None:
        """The SQL source for one JSON-lines file, after checking every line."""
        try:
            lines, other, problems = self.con.execute(sql.line_check(path, compression)).fetchone()
        except duckdb.Error:
            lines = other = problems = None
        if problems == 0 and other == 0:
            self.stats.lines += lines
            self.json_files.append((path, compression))
            return self._json_source(path, compression, src)
        cleaned = self._clean_copy(path)
        if cleaned is None:
            return None
        self.json_files.append((cleaned, "none"))
        return self._json_source(cleaned, "none", src)

    def _clean_copy(self, path: str) -> str | None:
        """Read ``path`` line by line, report each unusable line, keep the readable records."""
        fd, cleaned = tempfile.mkstemp(suffix=".jsonl", dir=self._tmp.name)
        kept = 0
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for number, text in iter_lines(path, lambda p: self.problem(p.path, p.line, p.message)):
                self.stats.lines += 1
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as exc:
                    self.problem(path, number, f"not valid JSON ({exc.msg} at column {exc.colno})")
                    continue
                if isinstance(record, dict) and record.get("event", DECISION_EVENT) != (
                    DECISION_EVENT
                ):
                    self.stats.other_events += 1
                    self.on_problem(
                        Problem(path, number, f"event {record.get('event')!r} is not a decision")
                    )
                    continue
                why = check_record(record)
                if why is not None:
                    self.problem(path, number, f"not a decision record: {why}")
                    continue
                out.write(text.rstrip("\r\n") + "\n")
                kept += 1
        return cleaned if kept else None

    # ---------------------------------------------------------------- use

    def rows(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows of ``sql.QUERIES[name]`` as dicts."""
        cursor = self.con.execute(sql.QUERIES[name], dict(params or {}))
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def iter_rows(
        self, name: str, params: Mapping[str, Any] | None = None, batch: int = 10_000
    ) -> Iterator[dict[str, Any]]:
        cursor = self.con.execute(sql.QUERIES[name], dict(params or {}))
        columns = [d[0] for d in cursor.description]
        while chunk := cursor.fetchmany(batch):
            for row in chunk:
                yield dict(zip(columns, row, strict=True))

    @property
    def incomplete(self) -> bool:
        return self.stats.problems > 0

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()
        self._tmp.cleanup()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
