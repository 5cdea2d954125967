"""Measure the shim changes proposed in docs/benchmarks.md against the current code.

    .venv/bin/python bench/proposals.py

Each comparison runs the current implementation from ``service/`` and the proposed one (written
here, as a subclass or a small function) on the same work, alternating rounds, and prints what
changes. CPU figures are process CPU time (``time.process_time``), which a busy machine disturbs
less than wall time. Nothing here is used by the service.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import fixtures
import stack
import urllib3
from jsonschema import Draft202012Validator

from service import opa_input
from service.decision_log import DecisionLogError, DecisionLogFile
from service.opa_client import OpaClient
from service.sidecar import build_bundle, policy_dir

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "policy_tests" / "scenarios"


# ----------------------------------------------------------------------------- decision log


class FsyncOutsideLocks(DecisionLogFile):
    """Proposed ``write_line``: append under the locks, fsync after releasing them.

    ``os.write`` on an ``O_APPEND`` descriptor appends the whole line atomically; the locks only
    have to cover the append (and a reopen after rotation). The fsync runs on a duplicate of the
    descriptor (a concurrent reopen cannot close it) after both locks are released, so
    concurrent requests' fsyncs overlap and share journal commits instead of queueing behind
    one another. The call still returns only after this record is on disk.
    """

    def write_line(self, line: str) -> None:
        data = (line.rstrip("\n") + "\n").encode("utf-8")
        sync_fd = None
        with self._lock:
            try:
                fd = self._current_fd()
                fcntl_lock(fd, True)
                try:
                    if os.write(fd, data) != len(data):
                        raise OSError(5, "short write to the decision log")
                    if self.fsync:
                        sync_fd = os.dup(fd)
                finally:
                    fcntl_lock(fd, False)
            except OSError as exc:
                self._close_locked()
                raise DecisionLogError(exc.errno, f"decision log not writable: {exc}") from None
        if sync_fd is not None:
            try:
                os.fsync(sync_fd)
            except OSError as exc:
                raise DecisionLogError(exc.errno, f"decision log not durable: {exc}") from None
            finally:
                os.close(sync_fd)


def fcntl_lock(fd: int, lock: bool) -> None:
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX if lock else fcntl.LOCK_UN)


def _log_writer(cls_name: str, path: str, seconds: float, threads: int, queue) -> None:
    cls = {"current": DecisionLogFile, "proposed": FsyncOutsideLocks}[cls_name]
    sink = cls(path, fsync=True, stdout=False)
    line = json.dumps({"event": "disclosure_decision", "pad": "x" * 2000})
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        mine = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            sink.write_line(line)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    queue.put(latencies)


def compare_decision_log(workdir: Path, rounds: int = 2, seconds: float = 4.0) -> None:
    """2 processes x 4 threads (the default gunicorn shape) appending 2 KB records, fsync=always."""
    print("decision log, fsync=always, 2 processes x 4 threads, 2 KB records:")
    for rnd in range(rounds):
        for name in ("current", "proposed"):
            path = workdir / f"log-{name}-{rnd}.jsonl"
            queue: mp.Queue = mp.Queue()
            procs = [
                mp.Process(target=_log_writer, args=(name, str(path), seconds, 4, queue))
                for _ in range(2)
            ]
            for p in procs:
                p.start()
            lat = sorted(x for _ in procs for x in queue.get())
            for p in procs:
                p.join()
            lines = sum(1 for _ in path.open("rb"))
            assert lines == len(lat), "every write must land exactly once"
            p50, p99 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000
            rate = len(lat) / seconds
            print(f"  {name:9s} {rate:8.0f} records/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")


# ----------------------------------------------------------------------------- OPA client


def compare_opa_client(inputs: list[dict], workdir: Path, calls: int = 600) -> None:
    """CPU per decision query: the requests-based OpaClient against a bare urllib3 pool."""
    bundle, revision = build_bundle(policy_dir(), workdir / "bundle")
    opa = stack.start_opa(bundle, revision, workdir)
    try:
        client = OpaClient(opa.url)
        host, port = opa.url.removeprefix("http://").rsplit(":", 1)
        pool = urllib3.HTTPConnectionPool(
            host, int(port), maxsize=4, retries=False, timeout=urllib3.Timeout(0.25, 0.5)
        )
        headers = {"Content-Type": "application/json", "Accept": "application/json"}

        def current(x: dict) -> dict:
            return client.query("hipaa/decision", x).result

        def proposed(x: dict) -> dict:
            body = json.dumps({"input": x}).encode()
            resp = pool.request("POST", "/v1/data/hipaa/decision", body=body, headers=headers)
            if resp.status != 200:
                raise RuntimeError(f"OPA answered {resp.status}")
            return json.loads(resp.data)["result"]

        for x in inputs:
            assert current(x) == proposed(x), "both clients must return the same decision"
        print(f"OPA client, {calls} sequential decision queries (client process CPU):")
        for _ in range(2):
            for name, fn in (("current", current), ("proposed", proposed)):
                started = time.process_time()
                for i in range(calls):
                    fn(inputs[i % len(inputs)])
                cpu = (time.process_time() - started) / calls * 1000
                print(f"  {name:9s} {cpu:.3f} ms CPU per query")
    finally:
        opa.stop()


# ----------------------------------------------------------------------------- validation


def inline_refs(node, root):
    """The schema with every local ``$ref`` replaced by its target (the request schema has no
    recursive references)."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            target = root
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            rest = {k: inline_refs(v, root) for k, v in node.items() if k != "$ref"}
            return {**inline_refs(target, root), **rest}
        return {k: inline_refs(v, root) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [inline_refs(v, root) for v in node]
    return node


def compare_validation(requests_: list[dict], rounds: int = 3000) -> None:
    schema = opa_input.load_schema(opa_input.REQUEST_SCHEMA)
    flat = inline_refs(schema, schema)
    assert "$ref" not in json.dumps(flat)
    fmt = Draft202012Validator.FORMAT_CHECKER
    as_is = Draft202012Validator(schema, format_checker=fmt)
    inlined = Draft202012Validator(flat, format_checker=fmt)
    broken = [{}, {"purpose": "nope"}] + [dict(r, purpose="nope") for r in requests_[:10]]
    broken += [dict(r, data={"categories": []}) for r in requests_[:10]]
    for body in requests_ + broken:
        errors_as_is = sorted((list(e.absolute_path), e.message) for e in as_is.iter_errors(body))
        errors_inlined = sorted(
            (list(e.absolute_path), e.message) for e in inlined.iter_errors(body)
        )
        assert errors_as_is == errors_inlined, body
    print(
        f"request validation ({len(requests_ + broken)} bodies give identical errors), "
        "CPU per valid request:"
    )
    for name, validator in (("current", as_is), ("proposed", inlined)):
        started = time.process_time()
        for i in range(rounds):
            for _ in validator.iter_errors(requests_[i % len(requests_)]):
                pass
        print(f"  {name:9s} {(time.process_time() - started) / rounds * 1000:.3f} ms CPU")


def main() -> int:
    scenarios = fixtures.load(SCENARIOS)
    (REPO / ".build").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="proposals-", dir=REPO / ".build"))
    try:
        print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        compare_decision_log(workdir)
        inputs = [s.opa_input() for s in scenarios]
        compare_opa_client(inputs, workdir)
        compare_validation([s.request for s in scenarios])
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
