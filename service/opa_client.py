"""The shim's client for OPA's data API: one ``urllib3`` connection pool per process.

Chosen over opa-python-client and over a ``requests.Session`` for this path
(docs/decisions/0001-opa-client.md): separate connect/read timeouts, a keep-alive pool sized to
the thread count, one retry on connection errors only, a CA bundle and bearer token for a remote
sidecar, undefined results surfaced. A bare pool costs about half the client CPU per decision of
``requests`` (no session, adapter, cookie, hook or header-merging machinery per call).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from service import jsonio

#: A stale keep-alive socket, a refused or reset connection, a failed TLS handshake: retried once.
_CONNECTION_ERRORS = (ConnectTimeoutError, ProtocolError, SSLError, ConnectionError)


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
        url = urllib3.util.parse_url(self.base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"OPA URL must be http(s)://host[:port]: {base_url}")
        self.prefix = (url.path or "").rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        # No proxy from the environment (urllib3 reads none), no redirects, no automatic retries:
        # the one retry on a connection error is explicit in _send.
        common: dict[str, Any] = {
            "maxsize": max(1, pool_size),
            "retries": False,
            "timeout": urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            "headers": self.headers,
        }
        if url.scheme == "https":
            # Verified against the CA bundle when given, else the system trust store.
            self.pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
                url.host, url.port or 443, cert_reqs="CERT_REQUIRED", ca_certs=ca_bundle, **common
            )
        else:
            self.pool = urllib3.HTTPConnectionPool(url.host, url.port or 80, **common)

    def _send(self, method: str, path: str, body: bytes | None = None) -> urllib3.BaseHTTPResponse:
        url = f"{self.prefix}{path}"
        for attempt in (1, 2):
            try:
                return self.pool.urlopen(
                    method, url, body=body, headers=self.headers, redirect=False,
                    preload_content=True,
                )  # fmt: skip
            except ReadTimeoutError:
                # Never retried: OPA may be busy, and a retry would double its load.
                raise OpaError("timeout", "OPA did not answer in time") from None
            except _CONNECTION_ERRORS as exc:
                # Refused, reset or closed (e.g. a stale keep-alive), or a connect timeout: once.
                if attempt == 2:
                    message = f"cannot reach OPA ({type(exc).__name__})"
                    raise OpaError("connection", message) from None
            except (HTTPError, OSError) as exc:
                raise OpaError("request", f"OPA request failed ({type(exc).__name__})") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def query(self, document: str, opa_input: Any) -> OpaAnswer:
        """POST ``/v1/data/<document>`` with ``{"input": ...}``."""
        started = time.perf_counter()
        try:
            payload = jsonio.dumps({"input": opa_input})
        except (TypeError, ValueError):
            raise OpaError("request", "OPA input is not JSON-serialisable") from None
        resp = self._send("POST", f"/v1/data/{document}", payload)
        seconds = time.perf_counter() - started
        if resp.status != 200:
            raise OpaError(f"http_{resp.status}", f"OPA answered HTTP {resp.status}")
        try:
            body = jsonio.loads(resp.data)
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
        if resp.status != 200:
            return f"OPA health check answered HTTP {resp.status} (bundle not activated)"
        return None

    def close(self) -> None:
        self.pool.close()
