"""The decision log: one JSON line per decision, in a file and on stdout, before the answer.

File writes are safe with several gunicorn workers appending to the same file: the file is opened
with ``O_APPEND``, each complete line goes out in one ``os.write`` under an exclusive ``flock``,
then (by default) ``fsync``. Before each write the inode of the path is compared with the open
file's, so a rotated (renamed or deleted) file is reopened.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

import structlog

from service import jsonio
from service.log_config import StdoutLineLogger, as_line, write_stdout
from service.records.patient_ref import replace_patient_id
from service.records.runtime_dir import private_runtime_dir

EVENT = "disclosure_decision"
REDACTED = "[redacted]"
#: After a failed write, readiness stays 503 this long (or until a write succeeds again).
FAILURE_WINDOW_SECONDS = 15.0


class DecisionLogError(OSError):
    """The decision log record could not be written (``written``: it reached the file, but the
    fsync that makes it durable failed)."""

    written = False


class DecisionLogFile:
    """structlog logger writing rendered lines to the decision log file and stdout."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fsync: bool = True,
        stdout: bool = True,
        runtime_dir: str | os.PathLike[str] | None = None,
    ):
        self.path = Path(path)
        self.fsync = fsync
        self.stdout = stdout
        self.stdout_failures = 0
        self._fd: int | None = None
        self._lock = threading.Lock()
        # Shared by every worker writing this path: some failures (a full disk) can only be seen
        # by writing, so the last failure is remembered in a marker file that readiness reads,
        # in a directory only this user can write (service.records.runtime_dir).
        key = hashlib.sha256(str(self.path.resolve()).encode()).hexdigest()[:16]
        marker_dir = private_runtime_dir(runtime_dir)
        self.failure_marker = marker_dir / f"log-failed-{key}"

    # structlog calls the method named after the log level with the rendered line.
    def msg(self, line: str | bytes) -> None:
        self.write_line(line)

    info = msg

    def _open(self) -> int:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if self._fd is not None:
            os.close(self._fd)
        self._fd = fd
        return fd

    def _current_fd(self) -> int:
        """The open descriptor, reopened if the path now names another file (rotation)."""
        if self._fd is None:
            return self._open()
        try:
            on_disk = os.stat(self.path)
        except FileNotFoundError:
            return self._open()
        mine = os.fstat(self._fd)
        if (on_disk.st_ino, on_disk.st_dev) != (mine.st_ino, mine.st_dev):
            return self._open()
        return self._fd

    def write_line(self, line: str | bytes) -> None:
        """Append one line; with ``fsync``, return only once it is on disk.

        The locks cover only the reopen check and the append (one ``os.write`` on an
        ``O_APPEND`` descriptor); the fsync runs after they are released, on a duplicate of the
        descriptor that a concurrent reopen cannot close. fsync flushes every write made to the
        file before it, so this record is durable when it returns, while concurrent requests'
        fsyncs overlap instead of queueing behind each other's disk flush (ext4 joins them into
        one journal commit; sharing them in the application as well cost more CPU than it saved,
        see docs/benchmarks.md).
        """
        data = as_line(line)
        sync_fd: int | None = None
        with self._lock:
            try:
                fd = self._current_fd()
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    written = os.write(fd, data)
                    if written != len(data):
                        _drop_fragment(fd, written)
                        raise OSError(errno.EIO, "short write to the decision log")
                    if self.fsync:
                        sync_fd = os.dup(fd)
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            except OSError as exc:
                self._failed(exc, locked=True)
        if sync_fd is not None:
            try:
                os.fsync(sync_fd)
            except OSError as exc:
                self._failed(exc, locked=False, written=True)
            finally:
                os.close(sync_fd)
        if self.failure_marker.exists():
            with contextlib.suppress(OSError):
                self.failure_marker.unlink()
        if self.stdout:
            try:
                write_stdout(data)
            except (OSError, ValueError, AttributeError):
                self.stdout_failures += 1

    def _failed(self, exc: OSError, *, locked: bool, written: bool = False) -> NoReturn:
        """Drop the descriptor (reopened on the next write), mark the failure, raise."""
        if locked:
            self._close_locked()
        else:
            with self._lock:
                self._close_locked()
        with contextlib.suppress(OSError):
            self.failure_marker.touch()
        error = DecisionLogError(exc.errno, f"decision log not writable: {exc.strerror}")
        error.written = written
        raise error from None

    def check_writable(self) -> str | None:
        """``None`` when a record could be appended now, else the reason."""
        with self._lock:
            try:
                fd = self._current_fd()
                if not os.access(self.path, os.W_OK):
                    return "decision log file is not writable"
                os.fstat(fd)
            except OSError as exc:
                self._close_locked()
                return f"decision log not writable: {exc.strerror}"
        try:
            age = time.time() - self.failure_marker.stat().st_mtime
        except OSError:
            return None
        if age < FAILURE_WINDOW_SECONDS:
            return f"decision log write failed {age:.0f}s ago"
        return None

    def _close_locked(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            finally:
                self._fd = None

    def close(self) -> None:
        with self._lock:
            self._close_locked()


def _drop_fragment(fd: int, written: int) -> None:
    """Cut off the part of a line that a short write (full disk, file-size limit) left behind.

    Called under the flock, so no other writer appended after it: the fragment is the last
    ``written`` bytes. Left in place it would fuse with the next record into a line that is not
    JSON, losing that record too.
    """
    if written <= 0:
        return
    end = os.lseek(fd, 0, os.SEEK_CUR)  # O_APPEND: just past what this write stored
    os.ftruncate(fd, end - written)


#: Sink for the record of a decision whose file write failed: stdout only.
StdoutOnly = StdoutLineLogger


def _timestamp_and_event_first(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict:
    first = {"timestamp": event_dict.pop("timestamp"), "event": event_dict.pop("event")}
    return {**first, **event_dict}


def make_decision_logger(sink: DecisionLogFile) -> Any:
    """A structlog logger whose records are exactly the decision log fields of docs/api.md."""
    return structlog.wrap_logger(
        sink,
        processors=[
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            _timestamp_and_event_first,
            structlog.processors.JSONRenderer(serializer=jsonio.dumps),
        ],
        wrapper_class=structlog.BoundLogger,
        # Its processors are given here, not taken from the global configuration: the bound
        # logger is built once instead of on every record.
        cache_logger_on_first_use=True,
    )


def loggable_input(opa_input: dict[str, Any], patient_ref: str) -> dict[str, Any]:
    """The OPA input with the patient id replaced by its keyed pseudonym and free text removed.

    ``patient.id`` holds the pseudonym (so a replayed input is still well formed) and
    ``patient.patient_ref`` says so; a non-blank ``context.rationale`` becomes ``"[redacted]"``.
    """
    # Only the two objects that change are copied (the rest is shared, read-only, with the input
    # sent to OPA): a deep copy of the whole input cost more than rendering the record.
    logged = dict(opa_input)
    patient = logged.get("patient")
    if isinstance(patient, dict) and patient:
        logged["patient"] = {**patient, "id": patient_ref, "patient_ref": patient_ref}
    context = logged.get("context")
    if isinstance(context, dict) and _has_text(context.get("rationale")):
        logged["context"] = {**context, "rationale": REDACTED}
    return logged


def _has_text(value: Any) -> bool:
    """Free text to redact: a string with a character that is not white space. A blank one holds
    nothing to hide and stays as it is, so a replay sees the blank the policy saw."""
    return isinstance(value, str) and value.strip() != ""


#: Recipient types that are the patient or act as the patient: their name and address are the
#: patient's own (and such disclosures are outside the accounting, 45 CFR 164.528(a)(1)(ii)).
PATIENT_RECIPIENTS = frozenset({"patient", "personal_representative"})

#: Identifier and free-text fields that may embed the patient id (``portal:<id>``): the id is
#: replaced inside them. Elsewhere (enumerations, dates) only a value equal to it is replaced.
_EMBEDDING_FIELDS = {
    "request_id": None,
    "requester": ("user_id", "organization_id"),
    "recipient": ("id", "name", "address"),
    "context": ("approval_id", "data_use_agreement_id", "irb_waiver_id"),
}


def _replace_string(value: Any, raw: str, replacement: str) -> Any:
    """``value`` with every string equal to ``raw`` (any case, at any depth) replaced."""
    if isinstance(value, str):
        return replacement if value.lower() == raw else value
    if isinstance(value, dict):
        return {k: _replace_string(v, raw, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_string(v, raw, replacement) for v in value]
    return value


def _embedded(value: Any, raw: str, ref: str) -> Any:
    if isinstance(value, list):
        return [_embedded(v, raw, ref) for v in value]
    return replace_patient_id(value, raw, ref) if isinstance(value, str) else value


def _embedding(obj: dict[str, Any], names: Any, raw: str, ref: str) -> dict[str, Any]:
    return {k: _embedded(v, raw, ref) if k in names else v for k, v in obj.items()}


def without_raw_patient_id(opa_input: dict[str, Any], patient_ref: str) -> dict[str, Any]:
    """The input with everything that identifies the patient pseudonymized (docs/api.md §log).

    The patient id can come back outside ``patient.id``: as the recipient's id when the patient
    is the recipient (right of access), in an authorization's ``recipients``, as the requester's
    user id on a patient portal, as the request id, or inside any of these (``portal:<id>``). The
    contract (§5) allows it in no log line: every string equal to it (in any case) becomes
    ``patient_ref``, and inside identifier and free-text fields every occurrence does. When the
    recipient is the patient or a personal representative, its name and address (the patient's)
    become ``"[redacted]"``. A copy is made only when there is something to replace.
    """
    patient = opa_input.get("patient")
    raw = patient.get("id") if isinstance(patient, dict) else None
    recipient = opa_input.get("recipient")
    own = isinstance(recipient, dict) and recipient.get("type") in PATIENT_RECIPIENTS
    if not isinstance(raw, str) or not raw:
        return opa_input
    raw = raw.lower()
    if not own and jsonio.dumps(opa_input).lower().count(jsonio.dumps(raw)[1:-1]) < 2:
        return opa_input
    out = _replace_string(opa_input, raw, patient_ref)
    for field, names in _EMBEDDING_FIELDS.items():
        if names is None:
            out[field] = _embedded(out.get(field), raw, patient_ref)
        elif isinstance(out.get(field), dict):
            out[field] = _embedding(out[field], names, raw, patient_ref)
    authorizations = out.get("authorizations")
    if isinstance(authorizations, list):
        out["authorizations"] = [
            _embedding(auth, ("id", "recipients"), raw, patient_ref)
            if isinstance(auth, dict)
            else auth
            for auth in authorizations
        ]
    if own:
        out["recipient"] = {
            **out["recipient"],
            **{k: REDACTED for k in ("name", "address") if _has_text(out["recipient"].get(k))},
        }
    return out


def _codes(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [item["code"] for item in items if isinstance(item, dict) and "code" in item]


def _bases(items: Any) -> list[dict[str, Any]]:
    """Each basis as ``{code, rule, citation}`` (docs/api.md, decision log), so that an accounting
    of disclosures quotes the policy's own citation."""
    if not isinstance(items, list):
        return []
    return [
        {"code": item["code"], "rule": item.get("rule"), "citation": item.get("citation")}
        for item in items
        if isinstance(item, dict) and "code" in item
    ]


def basis_codes(logged: Any) -> list[str]:
    """The basis codes of a logged record: v1.2 records log ``{code, rule, citation}`` objects,
    older ones plain codes; both are read."""
    if not isinstance(logged, list):
        return []
    return [
        item["code"] if isinstance(item, dict) else item
        for item in logged
        if isinstance(item, str) or (isinstance(item, dict) and isinstance(item.get("code"), str))
    ]


def decision_record(
    *,
    decision_id: str,
    request_id: str,
    opa_input: dict[str, Any],
    patient_ref: str,
    decision: dict[str, Any] | None,
    opa_decision_id: str | None,
    latency_ms: float,
    failure: str | None = None,
) -> dict[str, Any]:
    """The §5 fields (without ``timestamp``/``event``, which the logger adds).

    For a request that ended in a 503, ``decision`` is ``None``: ``allow`` is false and
    ``reasons`` holds the error code (lower case, so it cannot be confused with a policy code).
    """
    opa_input = without_raw_patient_id(opa_input, patient_ref)
    requester = opa_input.get("requester", {})
    recipient = opa_input.get("recipient", {})
    data = opa_input.get("data", {})
    decision = decision or {}
    minimum = decision.get("minimum_necessary")
    permitted = minimum.get("permitted_elements") if isinstance(minimum, dict) else None
    record = {
        "decision_id": decision_id,
        "request_id": request_id,
        "source": "decide",
        "opa_decision_id": opa_decision_id,
        "policy_revision": decision.get("policy_revision"),
        "requester": {
            "user_id": requester.get("user_id"),
            "roles": requester.get("roles"),
            "organization_id": requester.get("organization_id"),
        },
        "patient_ref": patient_ref,
        "patient_state": opa_input.get("patient", {}).get("state"),
        "recipient": {
            "type": recipient.get("type"),
            "id": recipient.get("id"),
            "name": recipient.get("name"),
        },
        "purpose": opa_input.get("purpose"),
        "categories": data.get("categories"),
        "elements_permitted": permitted if isinstance(permitted, list) else [],
        "allow": decision.get("allow") is True and failure is None,
        "basis": _bases(decision.get("basis")),
        "reasons": [failure] if failure else _codes(decision.get("reasons")),
        "obligations": _codes(decision.get("obligations")),
        "accountable": decision.get("accountable") is True and failure is None,
        "latency_ms": round(latency_ms, 3),
        "input": loggable_input(opa_input, patient_ref),
    }
    # Break-glass overrode an access control (privacy-office procedure §2): the record is flagged.
    if decision.get("break_glass") is True and failure is None:
        record["break_glass"] = True
    return record
