"""The shim changes made after profiling, measured against the code they replaced.

    .venv/bin/python bench/shim_changes.py

docs/benchmarks.md ("The shim") proposed three changes, which the shim's owner adopted:
the decision log fsyncs after releasing its locks (service/decision_log.py), the OPA client is a
bare urllib3 pool instead of a requests.Session (service/opa_client.py; since then libcurl
through pycurl, the urllib3 version is measured here too), and the request schema
is validated with its local $refs inlined (service/opa_input.py; since then a compiled
fastjsonschema check accepts valid bodies first). This script keeps the replaced
versions (``before``) next to the code in ``service/`` (``now``), runs both on the same work in
alternating rounds, and checks they give the same results. CPU figures are process CPU time
(``time.process_time``), which a busy machine disturbs less than wall time. Nothing here is
used by the service.
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
from jsonschema import Draft202012Validator

from service import opa_input
from service.decision_log import DecisionLogError, DecisionLogFile
from service.opa_client import OpaClient
from service.sidecar import build_bundle, policy_dir

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "policy_tests" / "scenarios"


# ----------------------------------------------------------------------------- decision log


class FsyncUnderLocks(DecisionLogFile):
    """``before``: the fsync ran while the thread lock and the cross-worker flock were held, so
    every decision of every worker queued behind the previous one's disk flush."""

    def write_line(self, line: str) -> None:
        data = (line.rstrip("\n") + "\n").encode("utf-8")
        with self._lock:
            try:
                fd = self._current_fd()
                fcntl_lock(fd, True)
                try:
                    if os.write(fd, data) != len(data):
                        raise OSError(5, "short write to the decision log")
                    if self.fsync:
                        os.fsync(fd)
                finally:
                    fcntl_lock(fd, False)
            except OSError as exc:
                self._close_locked()
                raise DecisionLogError(exc.errno, f"decision log not writable: {exc}") from None


def fcntl_lock(fd: int, lock: bool) -> None:
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX if lock else fcntl.LOCK_UN)


def _log_writer(cls_name: str, path: str, seconds: float, threads: int, queue) -> None:
    cls = {"before": FsyncUnderLocks, "now": DecisionLogFile}[cls_name]
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

    cpu = time.process_time()
    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    queue.put((latencies, time.process_time() - cpu))


def compare_decision_log(workdir: Path, rounds: int = 2, seconds: float = 4.0) -> None:
    """2 processes x 4 threads (the default gunicorn shape) appending 2 KB records, fsync=always."""
    print("decision log, fsync=always, 2 processes x 4 threads, 2 KB records:")
    for rnd in range(rounds):
        for name in ("before", "now"):
            path = workdir / f"log-{name}-{rnd}.jsonl"
            queue: mp.Queue = mp.Queue()
            procs = [
                mp.Process(target=_log_writer, args=(name, str(path), seconds, 4, queue))
                for _ in range(2)
            ]
            for p in procs:
                p.start()
            results = [queue.get() for _ in procs]
            lat = sorted(x for latencies, _ in results for x in latencies)
            cpu_us = sum(cpu for _, cpu in results) / len(lat) * 1e6
            for p in procs:
                p.join()
            lines = sum(1 for _ in path.open("rb"))
            assert lines == len(lat), "every write must land exactly once"
            p50, p99 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000
            rate = len(lat) / seconds
            print(
                f"  {name:9s} {rate:8.0f} records/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
                f"  {cpu_us:5.0f} us CPU per record"
            )


# ----------------------------------------------------------------------------- OPA client


def compare_opa_client(inputs: list[dict], workdir: Path, calls: int = 600) -> None:
    """CPU per decision query: a requests.Session (before), a bare urllib3 pool (urllib3, the
    next version) and service.opa_client (now: libcurl through pycurl)."""
    import requests
    import urllib3
    from requests.adapters import HTTPAdapter

    bundle, revision = build_bundle(policy_dir(), workdir / "bundle")
    opa = stack.start_opa(bundle, revision, workdir)
    try:
        client = OpaClient(opa.url)
        session = requests.Session()
        session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=4, max_retries=0))
        session.trust_env = False
        session.headers.update({"Content-Type": "application/json", "Accept": "application/json"})
        url = f"{opa.url}/v1/data/hipaa/decision"

        def before(x: dict) -> dict:
            resp = session.request("POST", url, json={"input": x}, timeout=(0.25, 0.5))
            if resp.status_code != 200:
                raise RuntimeError(f"OPA answered {resp.status_code}")
            return resp.json()["result"]

        host, port = opa.addr.rsplit(":", 1)
        pool = urllib3.HTTPConnectionPool(
            host, int(port), maxsize=4, retries=False, timeout=urllib3.Timeout(0.25, 0.5)
        )
        headers = {"Content-Type": "application/json", "Accept": "application/json"}

        def with_urllib3(x: dict) -> dict:
            body = json.dumps({"input": x}, separators=(",", ":")).encode()
            resp = pool.urlopen("POST", "/v1/data/hipaa/decision", body=body, headers=headers)
            if resp.status != 200:
                raise RuntimeError(f"OPA answered {resp.status}")
            return json.loads(resp.data)["result"]

        def now(x: dict) -> dict:
            return client.query("hipaa/decision", x).result

        for x in inputs:
            assert before(x) == with_urllib3(x) == now(x), "the clients must agree"
        print(f"OPA client, {calls} sequential decision queries (client process CPU, wall):")
        for _ in range(2):
            for name, fn in (("before", before), ("urllib3", with_urllib3), ("now", now)):
                started, wall = time.process_time(), time.perf_counter()
                for i in range(calls):
                    fn(inputs[i % len(inputs)])
                cpu = (time.process_time() - started) / calls * 1000
                wall = (time.perf_counter() - wall) / calls * 1000
                print(f"  {name:9s} {cpu:.3f} ms CPU, {wall:.3f} ms wall per query")
    finally:
        opa.stop()


# ----------------------------------------------------------------------------- validation


def compare_validation(requests_: list[dict], rounds: int = 3000) -> None:
    """The schema as written (before) against service.opa_input today: the request schema with
    its local $refs inlined (the validator that words errors) and, for accepting a valid body,
    ``validate_request`` (a compiled fastjsonschema check first, where the shim has one)."""
    from service.errors import RequestValidationError

    fmt = Draft202012Validator.FORMAT_CHECKER
    schema = opa_input.load_schema(opa_input.REQUEST_SCHEMA)
    before = Draft202012Validator(schema, format_checker=fmt)
    inlined = opa_input._validator(opa_input.REQUEST_SCHEMA)
    broken = [{}, {"purpose": "nope"}] + [dict(r, purpose="nope") for r in requests_[:10]]
    broken += [dict(r, data={"categories": []}) for r in requests_[:10]]
    for body in requests_ + broken:
        errors_before = sorted((list(e.absolute_path), e.message) for e in before.iter_errors(body))
        errors_now = sorted((list(e.absolute_path), e.message) for e in inlined.iter_errors(body))
        assert errors_before == errors_now, body
    for body in requests_:
        opa_input.validate_request(body)  # every scenario is valid
    for body in broken:
        try:
            opa_input.validate_request(body)
        except RequestValidationError:
            continue
        raise AssertionError(f"validate_request accepted a broken body: {body}")
    print(
        f"request validation ({len(requests_ + broken)} bodies give identical errors and "
        "verdicts), CPU per valid request:"
    )

    def run_before(body: dict) -> None:
        for _ in before.iter_errors(body):
            pass

    def run_inlined(body: dict) -> None:
        for _ in inlined.iter_errors(body):
            pass

    variants = (
        ("before", run_before),
        ("inlined", run_inlined),
        ("now", opa_input.validate_request),
    )
    for _ in range(2):
        for name, fn in variants:
            started = time.process_time()
            for i in range(rounds):
                fn(requests_[i % len(requests_)])
            print(f"  {name:9s} {(time.process_time() - started) / rounds * 1000:.3f} ms CPU")


def main() -> int:
    scenarios = fixtures.load(SCENARIOS)
    (REPO / ".build").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="shim-changes-", dir=REPO / ".build"))
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
