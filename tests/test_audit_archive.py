"""The Parquet archive (nothing lost), seals and their verification (real DuckDB, Ed25519)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from service.audit import archive
from service.cli import main as cli
from tests.audit_records import WEDNESDAY, decision, local, write_log


def records(n: int, day: dt.date = WEDNESDAY) -> list[dict]:
    return [decision(local(day, 9, k % 60, k // 60)) for k in range(n)]


@pytest.fixture
def keys(tmp_path, monkeypatch):
    private, public = tmp_path / "seal.pem", tmp_path / "seal.pub"
    archive.generate_keys(str(private), str(public))
    monkeypatch.setenv("HIPAA_GATE_SEAL_KEY", str(private))
    monkeypatch.setenv("HIPAA_GATE_SEAL_PUBLIC_KEY", str(public))
    return private, public


def archived_rows(out: Path) -> list[tuple]:
    files = [str(p) for p in sorted(out.glob("day=*/*.parquet"))]
    if not files:
        return []
    return duckdb.sql(
        f"SELECT decision_id, record, day FROM read_parquet({files!r}, hive_partitioning = true)"  # noqa: S608
    ).fetchall()


def test_archive_by_day_verified_then_deleted(tmp_path, capsys):
    two_days = records(3) + records(2, WEDNESDAY + dt.timedelta(days=1))
    src = write_log(tmp_path / "decisions.jsonl.1.gz", two_days, gz=True)
    lines = {r["decision_id"]: json.dumps(r) for r in two_days}
    out = tmp_path / "archive"
    code = cli.main(["logs", "archive", "--out", str(out), "--delete", str(src)])
    assert code == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert (result["records"], result["written"], result["verified"], result["deleted"]) == (
        5,
        5,
        True,
        True,
    )
    assert not src.exists()
    rows = archived_rows(out)
    assert {i: line for i, line, _ in rows} == lines  # every record, byte for byte
    assert sorted({str(day) for *_, day in rows}) == ["2026-06-17", "2026-06-18"]


def test_archiving_again_writes_nothing_twice(tmp_path):
    recs = records(4)
    first = write_log(tmp_path / "a.jsonl.1", recs[:3])
    second = write_log(tmp_path / "a.jsonl.2", recs[1:])  # overlaps the first rotation
    out = tmp_path / "archive"
    assert archive.archive_file(str(first), str(out)).written == 3
    again = archive.archive_file(str(second), str(out))
    assert (again.records, again.already_archived, again.written, again.verified) == (
        3,
        2,
        1,
        True,
    )
    ids = [i for i, *_ in archived_rows(out)]
    assert sorted(ids) == sorted(r["decision_id"] for r in recs)


def test_a_file_with_unreadable_lines_is_archived_but_never_deleted(tmp_path, capsys):
    src = write_log(tmp_path / "d.jsonl.1", records(2), extra="{cut\n")
    code = cli.main(["logs", "archive", "--out", str(tmp_path / "a"), "--delete", str(src)])
    out, err = capsys.readouterr()
    assert code == 1
    assert src.exists()
    assert f"{src}:3: not valid JSON" in err
    assert json.loads(out)[0]["deleted"] is False


def test_the_live_log_is_not_archived(tmp_path, capsys, monkeypatch):
    live = write_log(tmp_path / "decision-log.jsonl", records(1))
    monkeypatch.setenv("HIPAA_GATE_DECISION_LOG", str(live))
    assert cli.main(["logs", "archive", "--out", str(tmp_path / "a"), str(live)]) == 2
    assert "live decision log" in capsys.readouterr().err


# ---------------------------------------------------------------- seal / verify


def test_seal_then_verify_a_closed_file(tmp_path, keys, capsys):
    src = write_log(tmp_path / "d.jsonl.1", records(3))
    assert cli.main(["logs", "seal", str(src)]) == 0
    seal = json.loads(Path(str(src) + ".seal.json").read_text())
    assert seal["records"] == 3
    assert seal["signature"]
    assert cli.main(["logs", "verify", str(src)]) == 0
    assert "ok   " in capsys.readouterr().out


def test_verify_names_every_record_added_removed_or_changed(tmp_path, keys, capsys):
    recs = records(4)
    src = write_log(tmp_path / "d.jsonl.1", recs)
    cli.main(["logs", "seal", str(src)])
    capsys.readouterr()
    changed = {**recs[1], "allow": False}
    added = decision(local(WEDNESDAY, 12))
    write_log(src, [recs[0], changed, recs[3], added])  # recs[2] removed
    assert cli.main(["logs", "verify", str(src)]) == 1
    out = capsys.readouterr().out
    assert f"added: {added['decision_id']}" in out
    assert f"removed: {recs[2]['decision_id']}" in out
    assert f"changed: {recs[1]['decision_id']}" in out
    assert recs[0]["decision_id"] not in out
    assert "1 added, 1 removed, 1 changed" in out


def test_verify_the_archive_partitions_and_their_seals(tmp_path, keys, capsys):
    src = write_log(tmp_path / "d.jsonl.1", records(5))
    out = tmp_path / "archive"
    assert cli.main(["logs", "archive", "--seal", "--out", str(out), str(src)]) == 0
    capsys.readouterr()
    assert cli.main(["logs", "verify", str(out)]) == 0
    (part,) = out.glob("day=*/*.parquet")
    # Rewrite the partition with one record changed and one removed.
    rows = duckdb.sql(f"SELECT * FROM read_parquet('{part}')")  # noqa: S608
    victim, gone = sorted(r[0] for r in rows.fetchall())[:2]
    duckdb.sql(
        f"COPY (SELECT * REPLACE (CASE WHEN decision_id = '{victim}' THEN "  # noqa: S608
        f"replace(record, 'treatment', 'marketing') ELSE record END AS record) "
        f"FROM read_parquet('{part}') WHERE decision_id <> '{gone}') TO '{part}.new' "
        "(FORMAT parquet)"
    )
    Path(f"{part}.new").replace(part)
    assert cli.main(["logs", "verify", str(out)]) == 1
    text = capsys.readouterr().out
    assert f"FAIL {part}" in text
    assert f"changed: {victim}" in text
    assert f"removed: {gone}" in text
    # A partition without a seal is reported too.
    Path(str(part) + ".seal.json").unlink()
    assert cli.main(["logs", "verify", str(out)]) == 1
    assert "has no seal" in capsys.readouterr().out


def test_a_seal_under_another_key_or_altered_does_not_verify(tmp_path, keys, capsys, monkeypatch):
    src = write_log(tmp_path / "d.jsonl.1", records(2))
    cli.main(["logs", "seal", str(src)])
    seal_file = Path(str(src) + ".seal.json")
    body = json.loads(seal_file.read_text())
    body["records"] = 3
    seal_file.write_text(json.dumps(body))
    capsys.readouterr()
    assert cli.main(["logs", "verify", str(src)]) == 1
    assert "signature does not verify" in capsys.readouterr().out
    other_private, other_public = tmp_path / "o.pem", tmp_path / "o.pub"
    archive.generate_keys(str(other_private), str(other_public))
    cli.main(["logs", "seal", str(src)])
    monkeypatch.setenv("HIPAA_GATE_SEAL_PUBLIC_KEY", str(other_public))
    capsys.readouterr()
    assert cli.main(["logs", "verify", str(src)]) == 1


def test_seal_needs_a_configured_key(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HIPAA_GATE_SEAL_KEY", raising=False)
    src = write_log(tmp_path / "d.jsonl.1", records(1))
    assert cli.main(["logs", "seal", str(src)]) == 2
    assert "HIPAA_GATE_SEAL_KEY" in capsys.readouterr().err
