"""The audit engine's reading of bad input, and the audit commands' exit codes (real DuckDB)."""

from __future__ import annotations

import gzip
import json

import pytest

from service.audit.engine import Engine
from service.cli import main as cli
from service.records.files import Problem
from tests.audit_records import WEDNESDAY, decision, local, write_log


def records(n: int) -> list[dict]:
    return [decision(local(WEDNESDAY, 9, k % 60, k // 60)) for k in range(n)]


def open_engine(paths) -> tuple[Engine, list[Problem]]:
    problems: list[Problem] = []
    return Engine([str(p) for p in paths], on_problem=problems.append), problems


def decision_ids(engine: Engine) -> list[str]:
    return [r[0] for r in engine.con.execute("SELECT decision_id FROM decisions").fetchall()]


def test_bad_lines_are_reported_with_file_and_line_counted_and_the_rest_read(tmp_path):
    good = records(3)
    no_allow = {**decision(local(WEDNESDAY, 10)), "allow": "yes"}
    lines = [
        json.dumps(good[0]),
        '{"timestamp": "2026-06-17T13:00:00Z", "decision_id": "d-cut", "allo',  # truncated
        json.dumps(good[1]),
        json.dumps({"event": "service_started", "pid": 1}),  # another event type
        json.dumps([1, 2]),
        json.dumps(no_allow),
        json.dumps(good[2]),
    ]
    path = tmp_path / "decisions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    engine, problems = open_engine([path])
    with engine:
        assert sorted(decision_ids(engine)) == sorted(r["decision_id"] for r in good)
        assert engine.stats.problems == 3
        assert engine.stats.other_events == 1
        assert engine.incomplete
    where = [(p.path, p.line) for p in problems]
    assert where == [(str(path), 2), (str(path), 4), (str(path), 5), (str(path), 6)]
    assert "not valid JSON" in problems[0].message
    assert "service_started" in problems[1].message
    assert "'allow'" in problems[3].message


def test_a_gzip_file_cut_short_keeps_what_was_read_and_reports_it(tmp_path):
    full = write_log(tmp_path / "full.gz", records(400), gz=True)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    engine, problems = open_engine([cut])
    with engine:
        kept = decision_ids(engine)
        assert 0 < len(kept) < 400
        assert engine.incomplete
    assert problems[-1].path == str(cut)
    assert "truncated or corrupt" in problems[-1].message


def test_clean_files_need_no_second_reading_and_overlaps_count_once(tmp_path):
    recs = records(5)
    a = write_log(tmp_path / "decisions.jsonl", recs[2:])
    b = write_log(tmp_path / "decisions.jsonl.1.gz", recs[:3], gz=True)
    engine, problems = open_engine([a, b])
    with engine:
        assert sorted(decision_ids(engine)) == sorted(r["decision_id"] for r in recs)
        assert engine.stats.lines == 6
    assert problems == []


def test_a_file_that_is_not_parquet_inside_an_archive_directory_is_reported(tmp_path):
    part = tmp_path / "archive" / "day=2026-06-17"
    part.mkdir(parents=True)
    (part / "x.parquet").write_bytes(b"PAR1 this is not a parquet file PAR1")
    engine, problems = open_engine([tmp_path / "archive"])
    with engine:
        assert decision_ids(engine) == []
    assert [p.path for p in problems] == [str(part / "x.parquet")]


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        Engine([str(tmp_path / "nope.jsonl")])


# ---------------------------------------------------------------- exit codes


def test_commands_exit_1_when_a_line_could_not_be_read_and_2_on_errors(tmp_path, capsys):
    log = write_log(tmp_path / "d.jsonl", records(2), extra="{broken\n")
    assert cli.main(["audit", "findings", str(log)]) == 1
    out, err = capsys.readouterr()
    assert "0 finding(s)." in out
    assert f"{log}:3: not valid JSON" in err
    assert "the result is incomplete" in err
    clean = write_log(tmp_path / "c.jsonl", records(2))
    assert cli.main(["audit", "findings", "--format", "json", str(clean)]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli.main(["audit", "findings", str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
    bad_config = tmp_path / "audit.json"
    bad_config.write_text(json.dumps({"time_zone": "UTC"}))
    assert cli.main(["audit", "findings", "--config", str(bad_config), str(clean)]) == 2
    assert "audit configuration" in capsys.readouterr().err


def test_audit_query_filters_and_formats(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HIPAA_GATE_PATIENT_REF_KEY", "test-key-0123456789abcdef")
    from service.records.patient_ref import patient_ref

    ref = patient_ref("test-key-0123456789abcdef", "p-test-0042")
    mine = decision(
        local(WEDNESDAY, 9), patient_ref=ref, user="u-test-7", purpose="payment", basis=["PAYMENT"]
    )
    denied = decision(local(WEDNESDAY, 10), patient_ref=ref, user="u-test-7", allow=False)
    other = decision(local(WEDNESDAY, 11), user="u-test-8")
    log = write_log(tmp_path / "d.jsonl.gz", [mine, denied, other], gz=True)
    assert (
        cli.main(["audit", "query", "--patient", "p-test-0042", "--format", "json", str(log)]) == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [r["decision_id"] for r in rows] == [mine["decision_id"], denied["decision_id"]]
    assert (
        cli.main(
            [
                "audit",
                "query",
                "--user",
                "u-test-7",
                "--outcome",
                "deny",
                "--format",
                "csv",
                str(log),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("timestamp,decision_id,user_id")
    assert len(out) == 2
    assert denied["decision_id"] in out[1]
    assert ",deny," in out[1]
    assert (
        cli.main(
            [
                "audit",
                "query",
                "--purpose",
                "payment",
                "--since",
                "2026-06-17",
                "--until",
                "2026-06-17",
                str(log),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert text.startswith("1 decision(s).")
    assert mine["decision_id"] in text
    assert cli.main(["audit", "query", "--since", "2026-06-18", "--format", "json", str(log)]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_gzip_is_recognised_by_content(tmp_path):
    path = tmp_path / "rotated.log"
    with gzip.open(path, "wt") as handle:
        handle.write(json.dumps(records(1)[0]) + "\n")
    engine, problems = open_engine([path])
    with engine:
        assert len(decision_ids(engine)) == 1
    assert problems == []
