"""Read decision log files (docs/api.md): plain or gzip-rotated, in any order, overlapping.

Used by the offline commands (``accounting``, ``replay``). Every line that cannot be used is
reported to the caller's ``on_problem`` with its file and line number, never dropped silently.
Records are deduplicated by ``decision_id`` (rotated copies of a file may overlap).
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TextIO

GZIP_MAGIC = b"\x1f\x8b"
DECISION_EVENT = "disclosure_decision"

#: Fields every decision record must carry to be usable offline, with their JSON types.
REQUIRED_FIELDS: dict[str, type | tuple[type, ...]] = {
    "timestamp": str,
    "decision_id": str,
    "allow": bool,
}


@dataclass(frozen=True)
class Problem:
    """A line that was skipped, and why."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class ReadStats:
    """What a read saw: lines, usable records, duplicates, and problems."""

    files: int = 0
    lines: int = 0
    records: int = 0
    duplicates: int = 0
    other_events: int = 0
    problems: int = 0


ProblemHandler = Callable[[Problem], None]


def report_to_stderr(problem: Problem, stream: TextIO | None = None) -> None:
    """The default problem handler: one ``file:line: message`` line on stderr."""
    print(f"warning: skipped {problem}", file=stream or sys.stderr)


def _open_binary(path: str) -> BinaryIO:
    """Open ``path`` as bytes, gunzipping when it starts with the gzip magic (any file name)."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == GZIP_MAGIC:
        return gzip.open(path, "rb")
    return open(path, "rb")


def _check_record(record: Any) -> str | None:
    """Why ``record`` is not a usable decision record, or None when it is."""
    if not isinstance(record, dict):
        return f"not a JSON object ({type(record).__name__})"
    for field, kind in REQUIRED_FIELDS.items():
        value = record.get(field)
        if not isinstance(value, kind) or (isinstance(value, str) and not value):
            return f"field {field!r} missing or not a {getattr(kind, '__name__', kind)}"
    return None


def iter_lines(path: str, on_problem: ProblemHandler) -> Iterator[tuple[int, str]]:
    """``(line_number, text)`` for each non-blank line; undecodable lines are reported."""
    number = 0
    try:
        with _open_binary(path) as handle:
            for raw in handle:
                number += 1
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    on_problem(Problem(path, number, f"not UTF-8 text ({exc.reason})"))
                    continue
                if text.strip():
                    yield number, text
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        # A gzip file cut short (e.g. copied while being rotated): keep what was read.
        on_problem(Problem(path, number + 1, f"compressed file is truncated or corrupt ({exc})"))


def check_record(record: Any) -> str | None:
    """Why ``record`` is not a usable decision record, or None when it is (public name)."""
    return _check_record(record)


def iter_valid_records(
    paths: Iterable[str | os.PathLike[str]],
    on_problem: ProblemHandler = report_to_stderr,
    stats: ReadStats | None = None,
) -> Iterator[dict[str, Any]]:
    """Every usable decision record in ``paths``, one at a time, every copy (not de-duplicated).

    Lines that are not JSON, not objects, or lack ``timestamp``/``decision_id``/``allow`` are
    reported through ``on_problem`` and skipped. JSON objects of another ``event`` (if a log
    stream carries other lines) are counted in ``stats.other_events`` and skipped. A file that
    cannot be opened raises ``OSError``.
    """
    stats = stats if stats is not None else ReadStats()

    def problem(item: Problem) -> None:
        stats.problems += 1
        on_problem(item)

    for raw in paths:
        path = os.fspath(raw)
        stats.files += 1
        for number, text in iter_lines(path, problem):
            stats.lines += 1
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                problem(Problem(path, number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
                continue
            if isinstance(record, dict) and record.get("event", DECISION_EVENT) != DECISION_EVENT:
                stats.other_events += 1
                continue
            why = _check_record(record)
            if why is not None:
                problem(Problem(path, number, f"not a decision record: {why}"))
                continue
            yield record


def deduplicate(
    records: Iterable[dict[str, Any]], stats: ReadStats | None = None
) -> list[dict[str, Any]]:
    """Each ``decision_id`` once: the first copy, except that a denial wins over an allow.

    Copies of one record (overlapping rotated files) count as duplicates. A ``decision_id`` with
    an ``allow: true`` line and an ``allow: false`` line is a decision whose record was written
    and then could not be made durable (the fsync failed): the client got a 503, so the denial
    wins whichever file or line comes first (docs/accounting.md).
    """
    stats = stats if stats is not None else ReadStats()
    seen: dict[str, int] = {}  # decision_id -> index in out
    out: list[dict[str, Any]] = []
    for record in records:
        index = seen.get(record["decision_id"])
        if index is not None:
            stats.duplicates += 1
            if out[index]["allow"] and not record["allow"]:
                out[index] = record  # the later failure wins
            continue
        seen[record["decision_id"]] = len(out)
        out.append(record)
        stats.records += 1
    return out


def read_records(
    paths: Iterable[str | os.PathLike[str]],
    on_problem: ProblemHandler = report_to_stderr,
    stats: ReadStats | None = None,
) -> list[dict[str, Any]]:
    """Every decision record in ``paths``, each ``decision_id`` once (``deduplicate``).

    Unusable lines are reported and skipped as ``iter_valid_records`` says.
    """
    stats = stats if stats is not None else ReadStats()
    return deduplicate(iter_valid_records(paths, on_problem, stats), stats)
