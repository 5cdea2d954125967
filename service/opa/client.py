"""The shim's client for OPA's data API: libcurl (pycurl), one handle per thread.

Chosen over opa-python-client, a ``requests.Session`` and a bare ``urllib3`` pool for this path
(docs/decisions/0001-opa-client.md): a separate connect timeout and a bound on the whole
answer, keep-alive (each thread's handle keeps its connection to OPA open), one retry on
connection errors only and never once the request was sent and OPA is merely slow, a CA bundle
and bearer token for a remote sidecar, no proxy from the environment, no redirects, undefined
results surfaced. A call costs about a third of the client CPU of ``urllib3`` (whose HTTP parsing
is Python: ``http.client`` and the ``email`` header parser).
"""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pycurl

from service import jsonio

#: Failures before an answer: connect refused or timed out, TLS handshake or verification, a
#: connection closed or reset (e.g. a keep-alive connection OPA had closed). Retried once.
_CONNECTION_ERRORS = {
    pycurl.E_COULDNT_CONNECT,
    pycurl.E_COULDNT_RESOLVE_HOST,
    pycurl.E_GOT_NOTHING,
    pycurl.E_SEND_ERROR,
    pycurl.E_RECV_ERROR,
    pycurl.E_SSL_CONNECT_ERROR,
    pycurl.E_PEER_FAILED_VERIFICATION,
    pycurl.E_SSL_CACERT_BADFILE,
}


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
        ca_bundle: str | None = None,
        token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        url = urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"OPA URL must be http(s)://host[:port]: {base_url}")
        self.scheme = url.scheme
        self.timeout = (connect_timeout, read_timeout)
        self.ca_bundle = ca_bundle
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        # "Expect:" stops libcurl from waiting for a "100 Continue" before sending a large body.
        self._header_lines = [f"{k}: {v}" for k, v in self.headers.items()] + ["Expect:"]
        self._local = threading.local()
        self._handles: list[pycurl.Curl] = []
        self._handles_lock = threading.Lock()

    def _handle(self) -> pycurl.Curl:
        """This thread's libcurl handle (created on first use; it keeps its connection open)."""
        curl = getattr(self._local, "curl", None)
        if curl is not None:
            return curl
        curl = pycurl.Curl()
        connect, read = self.timeout
        curl.setopt(pycurl.NOSIGNAL, 1)  # timeouts without SIGALRM: safe in threads
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, round(connect * 1000)))
        # The whole exchange is bounded: connecting plus waiting for (and reading) the answer.
        curl.setopt(pycurl.TIMEOUT_MS, max(1, round((connect + read) * 1000)))
        curl.setopt(pycurl.PROXY, "")  # never a proxy from the environment
        curl.setopt(pycurl.NOPROXY, "*")
        curl.setopt(pycurl.FOLLOWLOCATION, 0)
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.HTTPHEADER, self._header_lines)
        curl.setopt(pycurl.ACCEPT_ENCODING, None)  # identity: no compression to pay for
        if self.scheme == "https":
            curl.setopt(pycurl.SSL_VERIFYPEER, 1)
            curl.setopt(pycurl.SSL_VERIFYHOST, 2)
            if self.ca_bundle:
                curl.setopt(pycurl.CAINFO, self.ca_bundle)
            else:  # the system trust store, as Python's ssl module finds it
                paths = ssl.get_default_verify_paths()
                if paths.cafile:
                    curl.setopt(pycurl.CAINFO, paths.cafile)
                if paths.capath:
                    curl.setopt(pycurl.CAPATH, paths.capath)
        self._local.curl = curl
        with self._handles_lock:
            self._handles.append(curl)
        return curl

    def _send(self, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """One request (POST with ``body``, else GET); ``(status, response body)``."""
        curl = self._handle()
        curl.setopt(pycurl.URL, f"{self.base_url}{path}")
        if body is None:
            curl.setopt(pycurl.HTTPGET, 1)
        else:
            curl.setopt(pycurl.POSTFIELDS, body)
        for attempt in (1, 2):
            chunks: list[bytes] = []
            curl.setopt(pycurl.WRITEFUNCTION, chunks.append)
            try:
                curl.perform()
                return curl.getinfo(pycurl.RESPONSE_CODE), b"".join(chunks)
            except pycurl.error as exc:
                code = exc.args[0] if exc.args else None
                if code == pycurl.E_OPERATION_TIMEDOUT:
                    if curl.getinfo(pycurl.REQUEST_SIZE) > 0:
                        # Sent: OPA may be busy, and a retry would double its load. Never retried.
                        raise OpaError("timeout", "OPA did not answer in time") from None
                elif code not in _CONNECTION_ERRORS:
                    raise OpaError("request", f"OPA request failed (curl error {code})") from None
                if attempt == 2:
                    raise OpaError("connection", f"cannot reach OPA (curl error {code})") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def query(self, document: str, opa_input: Any) -> OpaAnswer:
        """POST ``/v1/data/<document>`` with ``{"input": ...}``."""
        started = time.perf_counter()
        try:
            payload = jsonio.dumps({"input": opa_input})
        except (TypeError, ValueError):
            raise OpaError("request", "OPA input is not JSON-serialisable") from None
        status, data = self._send(f"/v1/data/{document}", payload)
        seconds = time.perf_counter() - started
        if status != 200:
            raise OpaError(f"http_{status}", f"OPA answered HTTP {status}")
        try:
            body = jsonio.loads(data)
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
            status, _ = self._send("/health?bundles")
        except OpaError as exc:
            return str(exc)
        if status != 200:
            return f"OPA health check answered HTTP {status} (bundle not activated)"
        return None

    def close(self) -> None:
        with self._handles_lock:
            handles, self._handles = self._handles, []
        for curl in handles:
            curl.close()
        self._local = threading.local()
