"""The decision log file: whole lines under concurrency, rotation, exact fields."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading

from service.records.decision_log import DecisionLogFile, decision_record, make_decision_logger

WORKERS = 4
RECORDS = 150


def _writer(path: str, worker: int, count: int) -> None:
    sink = DecisionLogFile(path, fsync=False, stdout=False)
    logger = make_decision_logger(sink)
    padding = "x" * (5000 + worker * 1500)  # lines well over PIPE_BUF (4096 bytes)
    for i in range(count):
        logger.info("disclosure_decision", worker=worker, seq=i, padding=padding)
    sink.close()


def test_concurrent_processes_and_threads_never_interleave(tmp_path):
    path = tmp_path / "log.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(path), w, RECORDS)) for w in range(WORKERS)]
    threads = [threading.Thread(target=_writer, args=(str(path), 100 + t, 50)) for t in range(3)]
    for p in procs:
        p.start()
    for t in threads:
        t.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    for t in threads:
        t.join(60)
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]
    seen: dict[int, list[int]] = {}
    for record in records:
        seen.setdefault(record["worker"], []).append(record["seq"])
    for w in range(WORKERS):
        assert seen[w] == list(range(RECORDS))
    for t in range(3):
        assert seen[100 + t] == list(range(50))


def test_rotation_by_rename_is_followed(tmp_path):
    path = tmp_path / "log.jsonl"
    sink = DecisionLogFile(path, stdout=False)
    sink.write_line('{"n": 1}')
    os.rename(path, tmp_path / "log.jsonl.1")
    sink.write_line('{"n": 2}')
    assert (tmp_path / "log.jsonl.1").read_text() == '{"n": 1}\n'
    assert path.read_text() == '{"n": 2}\n'
    path.unlink()
    sink.write_line('{"n": 3}')
    assert path.read_text() == '{"n": 3}\n'
    sink.close()


def test_file_is_created_private(tmp_path):
    path = tmp_path / "log.jsonl"
    DecisionLogFile(path, stdout=False).write_line("{}")
    assert (path.stat().st_mode & 0o777) == 0o600


def test_check_writable(tmp_path):
    assert DecisionLogFile(tmp_path / "ok.jsonl", stdout=False).check_writable() is None
    problem = DecisionLogFile(tmp_path / "no" / "x.jsonl", stdout=False).check_writable()
    assert problem
    assert "not writable" in problem


def test_a_503_record_carries_the_failure_and_never_allows():
    opa_input = {
        "requester": {"user_id": "u-1", "roles": ["r"], "organization_id": None},
        "patient": {"id": "p-test-0002", "state": "NY"},
        "recipient": {"type": "provider", "id": None, "name": None},
        "purpose": "treatment",
        "data": {"categories": ["general"]},
        "context": {"rationale": None},
    }
    record = decision_record(
        decision_id="d",
        request_id="r",
        opa_input=opa_input,
        patient_ref="ref",
        decision={"allow": True, "basis": [{"code": "TREATMENT"}]},
        opa_decision_id=None,
        latency_ms=1.0,
        failure="decision_log_unavailable",
    )
    assert record["allow"] is False
    assert record["reasons"] == ["decision_log_unavailable"]
    assert "p-test-0002" not in json.dumps(record)
    assert opa_input["patient"]["id"] == "p-test-0002"  # the caller's input is not modified


def test_fsync_failure_raises_marks_the_failure_and_leaks_no_descriptor(tmp_path, monkeypatch):
    # The fsync runs after the locks are released, on a duplicate descriptor: a failing flush
    # must still fail the write (the request then answers 503) and close that duplicate.
    import errno

    import pytest

    from service.records import decision_log
    from service.records.decision_log import DecisionLogError

    path = tmp_path / "log.jsonl"
    sink = DecisionLogFile(path, fsync=True, stdout=False)
    sink.failure_marker = tmp_path / "marker"
    sink.write_line('{"n": 1}')
    open_fds = len(os.listdir("/proc/self/fd"))

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(decision_log.os, "fsync", failing_fsync)
    with pytest.raises(DecisionLogError) as info:
        sink.write_line('{"n": 2}')
    assert info.value.errno == errno.EIO
    assert sink.failure_marker.exists()
    # Both the duplicate and the log's own descriptor are closed (reopened on the next write).
    assert len(os.listdir("/proc/self/fd")) == open_fds - 1
    assert sink.check_writable() is not None
    monkeypatch.undo()
    sink.write_line('{"n": 3}')  # reopened; a successful write clears the marker
    assert not sink.failure_marker.exists()
    assert path.read_text() == '{"n": 1}\n{"n": 2}\n{"n": 3}\n'
    sink.close()


def test_durable_writes_from_many_threads_land_once_each(tmp_path):
    path = tmp_path / "log.jsonl"
    sink = DecisionLogFile(path, fsync=True, stdout=False)

    def write(worker: int) -> None:
        for seq in range(40):
            sink.write_line(json.dumps({"worker": worker, "seq": seq, "pad": "y" * 3000}))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted((r["worker"], r["seq"]) for r in records) == [
        (w, s) for w in range(8) for s in range(40)
    ]
    sink.close()


def test_every_write_returns_only_after_an_fsync_that_covers_it(tmp_path, monkeypatch):
    # Each write returns only after an fsync that started once its line was in the file (the
    # file size when the fsync started reaches the end of the line) and ended before the write
    # returned, with 8 threads writing at once (the fsync runs outside the locks).
    import time

    from service.records import decision_log

    path = tmp_path / "log.jsonl"
    sink = DecisionLogFile(path, fsync=True, stdout=False)
    real_fsync = os.fsync
    syncs: list[tuple[int, float]] = []  # (file size when the fsync started, when it ended)
    events = threading.Lock()

    def slow_fsync(fd: int) -> None:
        size = os.fstat(fd).st_size
        time.sleep(0.01)  # a slow disk: other threads append meanwhile
        real_fsync(fd)
        with events:
            syncs.append((size, time.monotonic()))

    monkeypatch.setattr(decision_log.os, "fsync", slow_fsync)
    returned: dict[str, float] = {}

    def write(worker: int) -> None:
        for seq in range(10):
            line = json.dumps({"worker": worker, "seq": seq})
            sink.write_line(line)
            returned[line] = time.monotonic()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    sink.close()
    content = path.read_bytes()
    assert len(returned) == 80
    assert content.count(b"\n") == 80
    for line, at in returned.items():
        end = content.index(line.encode() + b"\n") + len(line) + 1
        assert any(size >= end and done <= at for size, done in syncs), line


def test_logged_input_replaces_the_patient_id_and_rationale_without_touching_the_input():
    from service.records.decision_log import REDACTED, loggable_input

    opa_input = {
        "patient": {"id": "p-test-0003", "state": "CA", "restrictions": []},
        "context": {"rationale": "free text", "court_order": False},
        "data": {"categories": ["general"], "elements": ["medications"]},
    }
    before = json.dumps(opa_input, sort_keys=True)
    logged = loggable_input(opa_input, "ref-0003")
    assert logged["patient"] == {
        "id": "ref-0003",
        "state": "CA",
        "restrictions": [],
        "patient_ref": "ref-0003",
    }
    assert logged["context"] == {"rationale": REDACTED, "court_order": False}
    assert logged["data"] == opa_input["data"]
    assert "p-test-0003" not in json.dumps(logged)
    assert "free text" not in json.dumps(logged)
    assert json.dumps(opa_input, sort_keys=True) == before  # the input sent to OPA is unchanged
    no_rationale = {"patient": {"id": "p-test-0003"}, "context": {"rationale": None}}
    assert loggable_input(no_rationale, "r")["context"] == {"rationale": None}
    # a blank rationale hides nothing: kept, so that a replay sees what the policy saw
    for blank in ("", "  ", "\t\n"):
        kept = {"patient": {"id": "p-test-0003"}, "context": {"rationale": blank}}
        assert loggable_input(kept, "r")["context"] == {"rationale": blank}


def test_v12_basis_is_logged_with_its_rule_and_citation():
    from service.records.decision_log import basis_codes, decision_record

    opa_input = {
        "requester": {"user_id": "u-1", "roles": ["r"], "organization_id": None},
        "patient": {"id": "p-test-0003", "state": "NY"},
        "recipient": {"type": "employer", "id": "emp-1", "name": "Synthetic Employer"},
        "purpose": "workers_compensation",
        "data": {"categories": ["general"]},
        "context": {"rationale": None},
    }
    basis = {
        "code": "WORKERS_COMPENSATION",
        "rule": "P27",
        "citation": "45 CFR 164.512(l)",
        "summary": "Disclosure as authorized by a workers' compensation law.",
    }
    record = decision_record(
        decision_id="d",
        request_id="r",
        opa_input=opa_input,
        patient_ref="ref",
        decision={"allow": True, "accountable": True, "basis": [basis]},
        opa_decision_id=None,
        latency_ms=1.0,
        failure=None,
    )
    assert record["basis"] == [
        {"code": "WORKERS_COMPENSATION", "rule": "P27", "citation": "45 CFR 164.512(l)"}
    ]
    assert record["accountable"] is True
    # Records of either generation are read: v1.2 objects and the plain codes logged before.
    assert basis_codes(record["basis"]) == ["WORKERS_COMPENSATION"]
    assert basis_codes(["PUBLIC_HEALTH", 7, {"rule": "x"}]) == ["PUBLIC_HEALTH"]
    assert basis_codes(None) == []
