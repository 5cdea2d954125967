"""Retention and integrity (privacy-office §4): the Parquet archive, seals and their verification.

- ``archive``: closed (rotated) decision log files into ``OUT/day=YYYY-MM-DD/*.parquet``. Each
  record keeps its original line (``record``) next to the query columns. Before a source may be
  deleted (``--delete``), every one of its records is found in the archive with the same content
  digest (SHA-256 of the line) and the counts agree; a decision already archived is not written
  twice, so the archive holds each ``decision_id`` once.
- ``seal``: ``FILE.seal.json`` next to a closed file or partition: the file's SHA-256, its record
  count and each record's ``(decision_id, digest)``, signed with Ed25519 (``cryptography``).
- ``verify``: every seal's signature and file; a file that changed is compared record by record
  and every record added, removed or changed is named.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from service.audit import sql
from service.audit.engine import Engine, kind_of
from service.audit.findings import iso
from service.config import load as load_config
from service.records.files import ProblemHandler, report_to_stderr

SEAL_SUFFIX = ".seal.json"
SEAL_VERSION = 1


class SealKeyError(ValueError):
    """No usable seal key in the configuration."""


# ---------------------------------------------------------------- keys


def generate_keys(private_path: str, public_path: str) -> None:
    """A new Ed25519 key pair as PEM files (the private one readable by its owner only)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private)
    Path(public_path).write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def private_key() -> Ed25519PrivateKey:
    path = load_config().seal_key
    if not path:
        raise SealKeyError("HIPAA_GATE_SEAL_KEY (a PEM Ed25519 private key file) is not set")
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise SealKeyError(f"HIPAA_GATE_SEAL_KEY: cannot load {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SealKeyError("HIPAA_GATE_SEAL_KEY is not an Ed25519 key")
    return key


def public_key() -> Ed25519PublicKey:
    """``HIPAA_GATE_SEAL_PUBLIC_KEY``, else the public half of ``HIPAA_GATE_SEAL_KEY``."""
    path = load_config().seal_public_key
    if not path:
        return private_key().public_key()
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise SealKeyError(f"HIPAA_GATE_SEAL_PUBLIC_KEY: cannot load {path}: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SealKeyError("HIPAA_GATE_SEAL_PUBLIC_KEY is not an Ed25519 key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# ---------------------------------------------------------------- digests


def file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def record_digests(path: str, on_problem: ProblemHandler) -> tuple[list[list[str]], int]:
    """``([[decision_id, sha256 of the line], ...] sorted, problems)`` of one file (every copy)."""
    with Engine([path], on_problem=on_problem, records=True) as engine:
        rows = engine.rows("sealed_digests")
        return [[r["decision_id"], r["digest"]] for r in rows], engine.stats.problems


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal_path(path: str) -> str:
    return path + SEAL_SUFFIX


# ---------------------------------------------------------------- seal


def seal(
    path: str,
    key: Ed25519PrivateKey,
    *,
    on_problem: ProblemHandler = report_to_stderr,
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any], int]:
    """Write ``path.seal.json`` and return ``(seal, problems)``."""
    digests, problems = record_digests(path, on_problem)
    body = {
        "version": SEAL_VERSION,
        "file": os.path.basename(path),
        "kind": "parquet" if kind_of(path) == "parquet" else "jsonl",
        "sha256": file_digest(path),
        "records": len(digests),
        "digests": digests,
        "sealed_at": iso(now or dt.datetime.now(dt.UTC)),
        "key_id": key_id(key.public_key()),
    }
    body["signature"] = base64.b64encode(key.sign(_canonical(body))).decode()
    target = seal_path(path)
    tmp = f"{target}.tmp-{uuid.uuid4().hex}"
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(body, out, separators=(",", ":"))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)
    return body, problems


# ---------------------------------------------------------------- verify


@dataclass
class Verdict:
    """The verification of one sealed file."""

    file: str
    ok: bool
    message: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "ok": self.ok,
            "message": self.message,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
        }


def verify_one(
    sealed_file: str, key: Ed25519PublicKey, on_problem: ProblemHandler = report_to_stderr
) -> Verdict:
    """Check one file against its seal."""
    seal_file = seal_path(sealed_file)
    try:
        body = json.loads(Path(seal_file).read_text(encoding="utf-8"))
        signature = base64.b64decode(body.pop("signature"))
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        return Verdict(sealed_file, False, f"seal unreadable: {exc}")
    try:
        key.verify(signature, _canonical(body))
    except InvalidSignature:
        return Verdict(sealed_file, False, "seal signature does not verify (seal altered or key)")
    if not os.path.exists(sealed_file):
        return Verdict(
            sealed_file,
            False,
            "sealed file is missing",
            removed=[i for i, _ in body["digests"]],
        )
    if hmac.compare_digest(file_digest(sealed_file), str(body["sha256"])):
        return Verdict(sealed_file, True, f"ok ({body['records']} records)")
    now, _ = record_digests(sealed_file, on_problem)
    before = {}
    for i, d in body["digests"]:
        before.setdefault(i, set()).add(d)
    after = {}
    for i, d in now:
        after.setdefault(i, set()).add(d)
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(i for i in set(before) & set(after) if before[i] != after[i])
    return Verdict(
        sealed_file,
        False,
        f"file changed since sealed: {len(added)} added, {len(removed)} removed, "
        f"{len(changed)} changed record(s)",
        added=added,
        removed=removed,
        changed=changed,
    )


def sealable_files(paths: list[str]) -> tuple[list[str], list[str]]:
    """``(sealed files, unsealed archive partitions)`` under ``paths`` (files or directories)."""
    sealed: list[str] = []
    unsealed: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for seal_file in sorted(path.rglob("*" + SEAL_SUFFIX)):
                sealed.append(str(seal_file)[: -len(SEAL_SUFFIX)])
            for part in sorted(path.rglob("*.parquet")):
                if not os.path.exists(seal_path(str(part))):
                    unsealed.append(str(part))
        else:
            target = str(path)[: -len(SEAL_SUFFIX)] if str(path).endswith(SEAL_SUFFIX) else raw
            sealed.append(str(target))
    return sealed, unsealed


# ---------------------------------------------------------------- archive


@dataclass
class ArchiveResult:
    source: str
    records: int = 0
    written: int = 0
    already_archived: int = 0
    files: list[str] = field(default_factory=list)
    verified: bool = False
    deleted: bool = False
    problems: int = 0
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _archive_files(out_dir: Path) -> list[str]:
    return sorted(str(p) for p in out_dir.glob("day=*/*.parquet"))


def _stem(path: str) -> str:
    base = "".join(c if c.isalnum() or c in "-." else "_" for c in os.path.basename(path))
    return f"{base}-{file_digest(path)[:12]}"


def archive_file(
    path: str,
    out_dir: str,
    *,
    delete: bool = False,
    key: Ed25519PrivateKey | None = None,
    on_problem: ProblemHandler = report_to_stderr,
) -> ArchiveResult:
    """Archive one closed file; delete it only when every record is verified in the archive."""
    result = ArchiveResult(path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stage = out / f".staging-{uuid.uuid4().hex}"
    with Engine([path], on_problem=on_problem, records=True) as engine:
        result.problems = engine.stats.problems
        con = engine.con
        try:
            con.execute(sql.archive_copy(sql.DECISIONS, str(stage), _stem(path)))
            staged = sorted(str(p) for p in stage.glob("day=*/*.parquet"))
            staged_source = sql.parquet_source(staged, 0) if staged else None
            con.execute(sql.digest_table("staged", staged_source, day=True))
            # Only the partitions of the days this file covers can hold its decisions already.
            days = [str(r["day"]) for r in engine.rows("staged_days")]
            existing = [f for d in days for f in sorted(map(str, out.glob(f"day={d}/*.parquet")))]
            con.execute(
                sql.digest_table("archived", sql.parquet_source(existing, 0) if existing else None)
            )
            if engine.rows("staged_overlap")[0]["n"]:  # overlapping rotations: write each once
                for part in staged:
                    con.execute(sql.without_archived(part, part + ".new"))
                    os.replace(part + ".new", part)
                con.execute(sql.digest_table("staged", sql.parquet_source(staged, 0), day=True))
            # The source's own digests, read from its lines apart from the archive's writer.
            selects = [sql.line_digests(p, c) for p, c in engine.json_files]
            con.execute(
                sql.digest_table_of("source", " UNION ".join(selects))
                if selects
                else sql.digest_table("source", None)
            )
            (counts,) = engine.rows("archive_counts")
            mismatched = [r["decision_id"] for r in engine.rows("archive_mismatches")]
        except duckdb.Error as exc:
            shutil.rmtree(stage, ignore_errors=True)
            result.message = f"archive write failed: {exc}"
            return result
        result.records = counts["records"]
        result.written = counts["written"]
        result.already_archived = counts["already_archived"]
        # Every source record is in the archive with the same digest, nothing else was staged,
        # and the counts agree.
        if mismatched or result.written + result.already_archived != result.records:
            shutil.rmtree(stage, ignore_errors=True)
            result.message = f"verification failed; records: {', '.join(mismatched[:20])}"
            return result
    for part in staged:
        rel = Path(part).relative_to(stage)
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, target)
        result.files.append(str(target))
        if key is not None:
            seal(str(target), key, on_problem=on_problem)
    shutil.rmtree(stage, ignore_errors=True)
    result.verified = True
    if delete and result.problems == 0:
        os.remove(path)
        result.deleted = True
        result.message = "archived, verified and deleted"
    elif delete:
        result.message = "archived and verified; kept: it has lines that could not be read"
    else:
        result.message = "archived and verified (source kept; --delete removes it)"
    return result


def is_live_log(path: str) -> bool:
    """True for the file the service is writing (``HIPAA_GATE_DECISION_LOG``): not closed."""
    live = load_config().decision_log
    try:
        return os.path.samefile(path, live)
    except OSError:
        return False
