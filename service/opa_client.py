"""The shim's client for OPA's data API: one ``requests.Session`` per process.

Chosen over opa-python-client for this path (docs/decisions/0001-opa-client.md): separate
connect/read timeouts, a keep-alive pool sized to the thread count, one retry on connection
errors only, a CA bundle and bearer token for a remote sidecar, undefined results surfaced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter


class OpaError(Exception):
    """OPA gave no usable answer. ``kind`` is a short label for metrics and logs."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class OpaAnswer:
    defined: bool
    result: Any
    decision_id: str | None
    seconds: float


class OpaClient:
    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 0.25,
        read_timeout: float = 0.5,
        pool_size: int = 4,
        ca_bundle: str | None = None,
        token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(1, pool_size), max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.trust_env = False  # no proxies from the environment on the PHI path
        if ca_bundle:
            session.verify = ca_bundle
        session.headers.update({"Content-Type": "application/json", "Accept": "application/json"})
        if token:
            session.headers["Authorization"] = f"Bearer {token}"
        self.session = session

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"{self.base_url}{path}"
        for attempt in (1, 2):
            try:
                return self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.exceptions.ConnectionError as exc:
                # A read timeout surfaces as ReadTimeout (not a ConnectionError) and is never
                # retried; a refused or reset connection (e.g. a stale keep-alive) is, once.
                if attempt == 2:
                    message = f"cannot reach OPA ({type(exc).__name__})"
                    raise OpaError("connection", message) from None
            except requests.exceptions.Timeout:
                raise OpaError("timeout", "OPA did not answer in time") from None
            except requests.exceptions.RequestException as exc:
                raise OpaError("request", f"OPA request failed ({type(exc).__name__})") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def query(self, document: str, opa_input: Any) -> OpaAnswer:
        """POST ``/v1/data/<document>`` with ``{"input": ...}``."""
        started = time.perf_counter()
        resp = self._send("POST", f"/v1/data/{document}", json={"input": opa_input})
        seconds = time.perf_counter() - started
        if resp.status_code != 200:
            raise OpaError(f"http_{resp.status_code}", f"OPA answered HTTP {resp.status_code}")
        try:
            body = resp.json()
        except ValueError:
            raise OpaError("bad_json", "OPA answered with invalid JSON") from None
        if not isinstance(body, dict):
            raise OpaError("bad_json", "OPA answered with a non-object")
        decision_id = body.get("decision_id")
        return OpaAnswer(
            defined="result" in body,
            result=body.get("result"),
            decision_id=decision_id if isinstance(decision_id, str) else None,
            seconds=seconds,
        )

    def bundles_ready(self) -> str | None:
        """``None`` when ``GET /health?bundles`` is 200, else what is wrong."""
        try:
            resp = self._send("GET", "/health?bundles")
        except OpaError as exc:
            return str(exc)
        if resp.status_code != 200:
            return f"OPA health check answered HTTP {resp.status_code} (bundle not activated)"
        return None

    def close(self) -> None:
        self.session.close()
