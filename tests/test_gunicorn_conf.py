"""``gunicorn --config gunicorn.conf.py`` (the image's CMD, Dockerfile and Kubernetes) with
``PROMETHEUS_MULTIPROC_DIR``: /metrics sums every worker, and a previous run's files are gone.

prometheus-client's multiprocess mode needs the directory to exist before the app is imported
and to be wiped between runs (https://prometheus.github.io/client_python/multiprocess/); a
container restarted inside its pod keeps its ``emptyDir``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from service.metrics import prepare_multiprocess_dir
from service.opa.sidecar import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def test_prepare_multiprocess_dir_creates_it_and_drops_only_metric_files(tmp_path):
    assert prepare_multiprocess_dir({}) is None
    directory = tmp_path / "a" / "metrics"
    assert prepare_multiprocess_dir({"PROMETHEUS_MULTIPROC_DIR": str(directory)}) == directory
    assert directory.is_dir()
    (directory / "counter_4242.db").write_bytes(b"stale")
    (directory / "histogram_4242.db").write_bytes(b"stale")
    (directory / "keep.txt").write_text("not prometheus-client's")
    prepare_multiprocess_dir({"PROMETHEUS_MULTIPROC_DIR": str(directory)})
    assert sorted(p.name for p in directory.iterdir()) == ["keep.txt"]


def _healthz_total(text: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("hipaa_gate_requests_total{") and 'endpoint="healthz"' in line
    )


def test_the_images_gunicorn_sums_every_worker_and_starts_from_zero(tmp_path):
    metrics_dir = tmp_path / "metrics"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIPAA_GATE_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    # A previous run's files, as a restarted container finds them in its emptyDir.
    metrics_dir.mkdir()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from service import metrics\n"
            "for _ in range(1000): metrics.count_request('healthz', 'ok', 200)",
        ],
        env=env,
        check=True,
        timeout=60,
    )
    assert list(metrics_dir.glob("counter_*.db"))
    port = free_port()
    env.update(
        HIPAA_GATE_BIND=f"127.0.0.1:{port}",
        HIPAA_GATE_OPA_URL="http://127.0.0.1:9",  # /healthz and /metrics never ask OPA
        HIPAA_GATE_DEV_MODE="1",
        HIPAA_GATE_DECISION_LOG=str(tmp_path / "decision-log.jsonl"),
        HIPAA_GATE_WORKERS="2",
        HIPAA_GATE_THREADS="2",
    )
    out = tmp_path / "gunicorn.out"
    with open(out, "wb") as sink:
        proc = subprocess.Popen(
            [str(GUNICORN), "--config", str(REPO / "gunicorn.conf.py")],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    url = f"http://127.0.0.1:{port}"
    answered = 0
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, out.read_text(errors="replace")
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    answered += 1
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, out.read_text(errors="replace")
            time.sleep(0.1)

        def one(_: int) -> int:
            with requests.Session() as session:  # a connection of its own each time
                return session.get(f"{url}/healthz", timeout=10).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(one, range(60)))
        assert codes == [200] * 60
        answered += 60
        text = requests.get(f"{url}/metrics", timeout=10).text
        # Multiprocess mode: the workers' files, not one worker's own registry (which would also
        # carry python_info and process_* series) ...
        assert "python_info" not in text
        # ... every answered /healthz exactly once: no previous run's 1000, no worker missing.
        assert _healthz_total(text) == answered
    finally:
        proc.terminate()
        proc.wait(30)
