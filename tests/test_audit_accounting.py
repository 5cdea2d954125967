"""The accounting of disclosures on DuckDB gives the line-by-line reader's output, on the same log
(JSON lines, gzip rotations that overlap, bad lines) and on its Parquet archive."""

from __future__ import annotations

import argparse
import datetime as dt
import json

import pytest

from service.audit import accounting, archive, disclosures
from service.records.patient_ref import patient_ref
from tests.test_accounting import KEY, PATIENT, record, write_log

REF = patient_ref(KEY, PATIENT)
WINDOW = accounting.Window(dt.date(2020, 11, 28), dt.date(2026, 11, 28))
LE_CITATION = "45 CFR 164.512(f)(1)(ii)(A)"


def _log(tmp_path):
    recs = [record(when=f"2026-{m:02d}-01T10:00:00Z", decision_id=f"d-{m}") for m in range(1, 12)]
    recs.append(
        record(
            decision_id="d-le",
            purpose="law_enforcement",
            recipient=("law_enforcement", "le-0001", "Synthetic Police Dept"),
            # v1.2: each basis logged with the rule and the citation the policy gave
            basis=[{"code": "LAW_ENFORCEMENT", "rule": "P13", "citation": LE_CITATION}],
        )
    )
    recs[-1]["input"]["recipient"] = {"type": "law_enforcement", "address": "1 Example Plaza"}
    recs.append(
        record(decision_id="d-p2", basis=["PART2_CONSENT"], categories=["substance_use_disorder"])
    )
    recs.append(record(decision_id="d-tpo", accountable=False, purpose="treatment"))
    recs.append(record(decision_id="d-deny", allow=False))
    recs.append(record(decision_id="d-other", patient="p-test-0002"))
    recs.append(record(decision_id="d-old", when="2019-01-01T00:00:00Z"))
    recs.append(record(decision_id="d-no-offset", when="2026-05-05T10:00:00"))
    recs.append(record(decision_id="d-offset", when="2026-06-30T23:30:00-05:00"))
    live = write_log(tmp_path / "decisions.jsonl", recs[6:], extra="not json\n")
    rotated = write_log(tmp_path / "decisions.jsonl.1.gz", recs[:8], compress=True)
    return [str(live), str(rotated)]


def both(paths, *, part2=False):
    old_problems: list = []
    new_problems: list = []
    old = accounting.from_logs(
        paths, patient_ref=REF, window=WINDOW, part2=part2, on_problem=old_problems.append
    )
    new, count = disclosures.from_logs(
        paths, patient_ref=REF, window=WINDOW, part2=part2, on_problem=new_problems.append
    )
    return old, new, old_problems, new_problems, count


@pytest.mark.parametrize("part2", [False, True])
def test_both_readers_give_the_same_accounting(tmp_path, part2):
    old, new, old_problems, new_problems, count = both(_log(tmp_path), part2=part2)
    assert new == old
    assert len(new) == (1 if part2 else 14)
    # Both quote the citation the record logged, not the basis code's general one.
    quoted = [b["citation"] for e in new for b in e["basis"] if b["code"] == "LAW_ENFORCEMENT"]
    assert quoted == ([] if part2 else [LE_CITATION])
    for fmt in ("json", "csv", "text"):
        assert accounting.render(new, fmt, window=WINDOW, part2=part2) == accounting.render(
            old, fmt, window=WINDOW, part2=part2
        )
    # The same lines are reported by both: the bad line and the record without an offset.
    assert sorted(str(p) for p in new_problems) == sorted(str(p) for p in old_problems)
    assert count == len(old_problems) == (1 if part2 else 2)


def test_the_archive_gives_the_same_accounting(tmp_path):
    paths = _log(tmp_path)
    old = accounting.from_logs(paths, patient_ref=REF, window=WINDOW, on_problem=lambda p: None)
    out = tmp_path / "archive"
    for path in paths:
        assert archive.archive_file(path, str(out), on_problem=lambda p: None).verified
    new, _ = disclosures.from_logs(
        [str(out)], patient_ref=REF, window=WINDOW, on_problem=lambda p: None
    )
    # The archive keeps each record's original line: the same records, the same problems.
    assert new == old


def test_the_command_uses_duckdb_by_default_and_lines_on_request(tmp_path, capsys):
    paths = _log(tmp_path)
    outputs = []
    for engine in ("duckdb", "lines"):
        parser = argparse.ArgumentParser()
        accounting.add_arguments(parser)
        args = parser.parse_args(
            ["--patient", PATIENT, "--until", "2026-11-28", "--engine", engine, *paths]
        )
        code = args.func(args, environ={"HIPAA_GATE_PATIENT_REF_KEY": KEY})
        out, err = capsys.readouterr()
        assert code == 1  # a line could not be read: printed, flagged
        assert "the accounting may be incomplete" in err
        outputs.append(out)
    assert outputs[0] == outputs[1]
    assert outputs[0].startswith("Accounting of disclosures (45 CFR 164.528)")
    assert json.dumps(outputs[0])  # text output, non-empty


def test_a_denial_record_of_the_same_decision_wins_on_both_paths(tmp_path):
    # A decision whose record could not be made durable: the allow line, then the service's
    # denial under the same decision_id (docs/accounting.md). It is not a disclosure.
    allowed = record(when="2026-03-01T10:00:00Z", decision_id="d-failed")
    denied = {
        **allowed,
        "allow": False,
        "accountable": False,
        "reasons": ["decision_log_unavailable"],
    }
    kept = record(when="2026-04-01T10:00:00Z", decision_id="d-kept")
    newer = write_log(tmp_path / "decisions.jsonl", [denied, kept])
    older = write_log(tmp_path / "decisions.jsonl.1.gz", [allowed], compress=True)
    for paths in ([str(newer), str(older)], [str(older), str(newer)]):
        old, new, *_ = both(paths)
        assert [e["decision_id"] for e in new] == [e["decision_id"] for e in old] == ["d-kept"]
    # In one rotated file, the archive keeps the denial and verifies.
    one = write_log(tmp_path / "one.jsonl.2", [allowed, kept, denied])
    out = tmp_path / "archive"
    result = archive.archive_file(str(one), str(out))
    assert (result.verified, result.records, result.written) == (True, 2, 2)
    new, _ = disclosures.from_logs([str(out)], patient_ref=REF, window=WINDOW)
    assert [e["decision_id"] for e in new] == ["d-kept"]


def test_an_archive_written_before_basis_citations_still_reads(tmp_path):
    # Archive files from before the basis_citations column: the column reads as NULL, so the
    # accounting words each basis with its general citation, as for a code-only record.
    import duckdb

    paths = _log(tmp_path)
    out = tmp_path / "archive"
    for path in paths:
        assert archive.archive_file(path, str(out), on_problem=lambda p: None).verified
    con = duckdb.connect()
    for file in out.rglob("*.parquet"):
        rel = con.read_parquet(str(file)).project("* EXCLUDE (basis_citations)")
        rel.write_parquet(f"{file}.old")
        file.with_name(file.name + ".old").replace(file)
    new, _ = disclosures.from_logs(
        [str(out)], patient_ref=REF, window=WINDOW, on_problem=lambda p: None
    )
    assert len(new) == 14
    quoted = [b["citation"] for e in new for b in e["basis"] if b["code"] == "LAW_ENFORCEMENT"]
    assert quoted == [accounting.BASIS_WORDS["LAW_ENFORCEMENT"][1]]
