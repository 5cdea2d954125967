"""Prometheus metrics. With several gunicorn workers, ``PROMETHEUS_MULTIPROC_DIR`` names a
directory where each worker keeps its values in files and ``/metrics`` aggregates them all
(prometheus-client multiprocess mode). ``serve`` sets it to a fresh directory; the image sets
it (Dockerfile, deploy/kubernetes/deployment.yaml) and gunicorn.conf.py's ``on_starting``
prepares it with ``prepare_multiprocess_dir``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REQUESTS = Counter(
    "hipaa_gate_requests",
    "HTTP requests answered, by endpoint, outcome (allow, deny, error) and status code.",
    ["endpoint", "outcome", "code"],
)
REQUEST_SECONDS = Histogram(
    "hipaa_gate_request_seconds",
    "Whole request latency in the shim, by endpoint.",
    ["endpoint"],
    buckets=LATENCY_BUCKETS,
)
OPA_SECONDS = Histogram(
    "hipaa_gate_opa_seconds",
    "OPA round trip (HTTP request to answer), by policy document.",
    ["document"],
    buckets=LATENCY_BUCKETS,
)
OPA_ERRORS = Counter(
    "hipaa_gate_opa_errors",
    "OPA calls without a usable decision, by kind (connection, timeout, http_<status>, "
    "undefined, malformed).",
    ["document", "kind"],
)
BREAK_GLASS = Counter(
    "hipaa_gate_break_glass_decisions",
    "Decisions on requests that declared break-glass (context.break_glass), by purpose and "
    "result: overrode (allowed and flagged break_glass: an access control was overridden), "
    "not_needed (allowed without an override) or denied.",
    ["purpose", "result"],
)
DECISION_LOG_FAILURES = Counter(
    "hipaa_gate_decision_log_write_failures",
    "Decision log records that could not be written to the file.",
)


# The labelled children of the per-request metrics, looked up once per label set (``labels()``
# takes a lock and builds a key on every call).
_request_counters: dict[tuple[str, str, int], Any] = {}
_request_histograms: dict[str, Any] = {}


def count_request(endpoint: str, outcome: str, status: int) -> None:
    key = (endpoint, outcome, status)
    child = _request_counters.get(key)
    if child is None:
        child = _request_counters[key] = REQUESTS.labels(endpoint, outcome, str(status))
    child.inc()


def observe_request(endpoint: str, seconds: float) -> None:
    child = _request_histograms.get(endpoint)
    if child is None:
        child = _request_histograms[endpoint] = REQUEST_SECONDS.labels(endpoint)
    child.observe(seconds)


def count_break_glass(opa_input: dict[str, Any], decision: dict[str, Any]) -> None:
    """Count a decision on a request that declared break-glass (nothing for any other)."""
    if opa_input.get("context", {}).get("break_glass") is not True:
        return
    if decision.get("allow") is not True:
        result = "denied"
    else:
        result = "overrode" if decision.get("break_glass") is True else "not_needed"
    BREAK_GLASS.labels(str(opa_input.get("purpose")), result).inc()


def render() -> tuple[bytes, str]:
    """The exposition text (all workers' values in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def prepare_multiprocess_dir(environ: dict[str, str] | None = None) -> Path | None:
    """Create ``$PROMETHEUS_MULTIPROC_DIR`` if missing and remove a previous run's metric files.

    prometheus-client requires the directory to exist and to be wiped between gunicorn runs
    (https://prometheus.github.io/client_python/multiprocess/): a container restarted inside
    its pod keeps its ``emptyDir``, and a previous run's files would be summed into this one's
    values. Only its ``*.db`` files (the client's) are removed. Call it in the gunicorn master
    before any worker starts; returns the directory, or None when the variable is unset.
    """
    configured = (os.environ if environ is None else environ).get("PROMETHEUS_MULTIPROC_DIR")
    if not configured:
        return None
    directory = Path(configured)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    return directory
