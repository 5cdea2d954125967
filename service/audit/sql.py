"""Every SQL statement the audit tools run, in one place.

Two kinds:

- ``SOURCES``: how DuckDB reads the files where they lie (JSON lines and gzip rotations through
  ``read_csv`` one line per row, the Parquet archive through ``read_parquet``) and writes the
  archive. These are DuckDB's table functions; on a distributed engine the archive is a table
  (docs/scaling.md) and these are not needed.
- ``QUERIES``: the analysis, over one relation ``decisions`` (the columns of ``COLUMNS``) and,
  for the accounting, ``decisions_all`` (the same before de-duplication). Parameters are
  ``$name``. tests/test_audit_sql.py transpiles each to Trino and Spark SQL with sqlglot and
  parses the result, so they stay portable.
"""

from __future__ import annotations

#: The decision relation (and the Parquet archive's columns, plus the ``day`` partition).
COLUMNS: tuple[str, ...] = (
    "decision_id",
    "timestamp",
    "ts",
    "user_id",
    "roles",
    "organization_id",
    "patient_ref",
    "patient_state",
    "recipient_type",
    "recipient_id",
    "recipient_name",
    "recipient_address",
    "purpose",
    "categories",
    "elements_permitted",
    "allow",
    "accountable",
    "break_glass",
    "basis",
    "basis_citations",
    "reasons",
    "obligations",
    "policy_revision",
    "latency_ms",
    "record",
)

#: The fields read from a decision record (docs/api.md, decision log); ``break_glass`` is absent
#: from records written before break-glass existed and reads as NULL.
RECORD_STRUCTURE = (
    '{"decision_id": "VARCHAR", "timestamp": "VARCHAR", "event": "VARCHAR",'
    ' "requester": {"user_id": "VARCHAR", "roles": ["VARCHAR"], "organization_id": "VARCHAR"},'
    ' "patient_ref": "VARCHAR", "patient_state": "VARCHAR",'
    ' "recipient": {"type": "VARCHAR", "id": "VARCHAR", "name": "VARCHAR"},'
    ' "purpose": "VARCHAR", "categories": ["VARCHAR"], "elements_permitted": ["VARCHAR"],'
    ' "allow": "BOOLEAN", "accountable": "BOOLEAN", "break_glass": "BOOLEAN",'
    ' "basis": ["JSON"], "reasons": ["VARCHAR"], "obligations": ["VARCHAR"],'
    ' "policy_revision": "VARCHAR", "latency_ms": "DOUBLE",'
    ' "input": {"recipient": {"address": "VARCHAR"}}}'
)


#: The basis codes of a record: v1.2 logs each basis as ``{code, rule, citation}``, records
#: written before hold plain codes (docs/api.md, decision log); both become ``VARCHAR[]`` codes.
BASIS_CODES = (
    "list_transform(j.basis, lambda x: coalesce(json_extract_string(x, '$.code'),"
    " json_extract_string(x, '$')))"
)
#: The citation logged with each basis (NULL for a record that logged the code alone), in the
#: order of ``BASIS_CODES``: the accounting quotes it (docs/accounting.md).
BASIS_CITATIONS = "list_transform(j.basis, lambda x: json_extract_string(x, '$.citation'))"


def literal(text: str) -> str:
    """A SQL string literal (file names are interpolated into table-function calls)."""
    return "'" + text.replace("'", "''") + "'"


def lines(path: str, compression: str) -> str:
    """One row per line of a JSON-lines file (``line`` NULL for an empty line).

    No delimiter or quote: the unit separator never occurs in valid JSON (control characters must
    be escaped there), so a valid record is always exactly one column.
    """
    return (
        f"read_csv({literal(path)}, columns = {{'line': 'VARCHAR'}}, delim = '\x1f', quote = '',"
        f" escape = '', header = false, auto_detect = false, strict_mode = false,"
        f" compression = {literal(compression)})"
    )


def line_check(path: str, compression: str) -> str:
    """Counts for one JSON-lines file: non-blank lines, other events, unusable lines.

    The same tests as ``service.records.files`` (a JSON object with a non-empty string ``timestamp``
    and ``decision_id`` and a boolean ``allow``), with one parse of each line; a file with any
    unusable line is re-read line by line to report each with its number.
    """
    return f"""
WITH l AS (
  SELECT try(json_extract(line, ['$.event', '$.timestamp', '$.decision_id', '$.allow'])) AS e,
    ltrim(line)[1] = '{{' AS object
  FROM {lines(path, compression)} WHERE line IS NOT NULL AND trim(line) <> ''
), t AS (
  SELECT e IS NOT NULL AND object AS ok, e[1] ->> '$' AS event, json_type(e[2]) AS t_ts,
    e[2] ->> '$' AS ts, json_type(e[3]) AS t_id, e[3] ->> '$' AS id, json_type(e[4]) AS t_allow
  FROM l
), c AS (
  SELECT *, ok AND coalesce(event, 'disclosure_decision') <> 'disclosure_decision' AS other
  FROM t
)
SELECT count(*) AS lines,
  count(*) FILTER (WHERE other) AS other_events,
  count(*) FILTER (WHERE NOT other AND NOT (ok AND t_ts = 'VARCHAR' AND ts <> ''
    AND t_id = 'VARCHAR' AND id <> '' AND t_allow = 'BOOLEAN')) AS problems
FROM c
"""


#: ``read_json`` column types of the fields read from a decision record.
JSON_COLUMNS = (
    "{'event': 'VARCHAR', 'timestamp': 'VARCHAR', 'decision_id': 'VARCHAR',"
    " 'requester': 'STRUCT(user_id VARCHAR, roles VARCHAR[], organization_id VARCHAR)',"
    " 'patient_ref': 'VARCHAR', 'patient_state': 'VARCHAR',"
    " 'recipient': 'STRUCT(type VARCHAR, id VARCHAR, name VARCHAR)', 'purpose': 'VARCHAR',"
    " 'categories': 'VARCHAR[]', 'elements_permitted': 'VARCHAR[]', 'allow': 'BOOLEAN',"
    " 'accountable': 'BOOLEAN', 'break_glass': 'BOOLEAN', 'basis': 'JSON[]',"
    " 'reasons': 'VARCHAR[]', 'obligations': 'VARCHAR[]', 'policy_revision': 'VARCHAR',"
    " 'latency_ms': 'DOUBLE', 'input': 'STRUCT(recipient STRUCT(address VARCHAR))'}"
)


def _record_select(src: int, record: str, source: str) -> str:
    """``COLUMNS`` plus ``src``, ``day`` from the decision records ``j`` of ``source``."""
    return f"""
SELECT {src} AS src, j.decision_id, j.timestamp, TRY_CAST(j.timestamp AS TIMESTAMPTZ) AS ts,
  j.requester.user_id AS user_id, j.requester.roles AS roles,
  j.requester.organization_id AS organization_id, j.patient_ref, j.patient_state,
  j.recipient.type AS recipient_type, j.recipient.id AS recipient_id,
  j.recipient.name AS recipient_name, j.input.recipient.address AS recipient_address,
  j.purpose, j.categories, j.elements_permitted, j.allow, j.accountable, j.break_glass,
  {BASIS_CODES} AS basis, {BASIS_CITATIONS} AS basis_citations,
  j.reasons, j.obligations, j.policy_revision, j.latency_ms, {record} AS record,
  CAST(TRY_CAST(j.timestamp AS TIMESTAMPTZ) AS DATE) AS day
FROM {source}
WHERE coalesce(j.event, 'disclosure_decision') = 'disclosure_decision'
"""


def json_source(path: str, compression: str, src: int) -> str:
    """The decision records of one checked JSON-lines file as ``COLUMNS`` plus ``src``, ``day``,
    parsed by ``read_json`` (``record`` is NULL: the analysis does not need the line)."""
    source = (
        f"read_json({literal(path)}, format = 'newline_delimited', columns = {JSON_COLUMNS},"
        f" compression = {literal(compression)}) AS j"
    )
    return _record_select(src, "NULL::VARCHAR", source)


def json_record_source(path: str, compression: str, src: int) -> str:
    """As ``json_source``, with each record's original line in ``record`` (archive, seals)."""
    source = (
        f"(SELECT line, json_transform(line, {literal(RECORD_STRUCTURE)}) AS j"
        f" FROM {lines(path, compression)} WHERE line IS NOT NULL AND trim(line) <> '')"
    )
    return _record_select(src, "line", source)


#: Columns added to the archive after its first files were written, with their type: an
#: archive written before holds none of them, and reads as NULL there.
ADDED_COLUMNS = {"basis_citations": "VARCHAR[]"}


def parquet_files(paths: list[str]) -> str:
    files = "[" + ", ".join(literal(p) for p in paths) + "]"
    return (
        f"read_parquet({files}, hive_partitioning = true, hive_types = {{'day': DATE}},"
        " union_by_name = true)"
    )


def parquet_columns(paths: list[str]) -> str:
    """The columns the archive files hold together (one row per column, its name first)."""
    return f"DESCRIBE SELECT * FROM {parquet_files(paths)}"


def parquet_source(paths: list[str], src: int, present: set[str] | None = None) -> str:
    """Parquet archive files (``day=YYYY-MM-DD/*.parquet``) as ``COLUMNS`` plus ``src``, ``day``;
    a column of ``ADDED_COLUMNS`` that is not ``present`` in them is NULL."""
    cols = ", ".join(
        f"NULL::{ADDED_COLUMNS[c]} AS {c}"
        if present is not None and c in ADDED_COLUMNS and c not in present
        else c
        for c in COLUMNS
    )
    return f"SELECT {src} AS src, {cols}, day FROM {parquet_files(paths)}"


def decisions_view(sources: list[str], *, deduplicate: bool) -> tuple[str, str]:
    """``decisions_all`` (every copy) and ``decisions`` (each ``decision_id`` once: the first
    copy, except that a denial wins over an allow, as in ``service.records.files.deduplicate``).

    Without ``deduplicate`` (one source, or the archive alone, which holds each id once)
    ``decisions`` is ``decisions_all`` without the window that would sort every row.
    """
    union = "\nUNION ALL\n".join(sources) if sources else _EMPTY
    all_view = f"CREATE OR REPLACE TEMP VIEW decisions_all AS {union}"
    cols = ", ".join(COLUMNS)
    if deduplicate:
        body = (
            f"SELECT {cols}, day FROM (SELECT *, row_number() OVER"
            " (PARTITION BY decision_id ORDER BY allow, src) AS copy FROM decisions_all)"
            " WHERE copy = 1"
        )
    else:
        body = f"SELECT {cols}, day FROM decisions_all"
    return all_view, f"CREATE OR REPLACE TEMP VIEW decisions AS {body}"


_EMPTY = (
    "SELECT * FROM (SELECT 0 AS src, NULL::VARCHAR AS decision_id, NULL::VARCHAR AS timestamp,"
    " NULL::TIMESTAMPTZ AS ts, NULL::VARCHAR AS user_id, NULL::VARCHAR[] AS roles,"
    " NULL::VARCHAR AS organization_id, NULL::VARCHAR AS patient_ref,"
    " NULL::VARCHAR AS patient_state, NULL::VARCHAR AS recipient_type,"
    " NULL::VARCHAR AS recipient_id, NULL::VARCHAR AS recipient_name,"
    " NULL::VARCHAR AS recipient_address, NULL::VARCHAR AS purpose,"
    " NULL::VARCHAR[] AS categories, NULL::VARCHAR[] AS elements_permitted,"
    " NULL::BOOLEAN AS allow, NULL::BOOLEAN AS accountable, NULL::BOOLEAN AS break_glass,"
    " NULL::VARCHAR[] AS basis, NULL::VARCHAR[] AS basis_citations,"
    " NULL::VARCHAR[] AS reasons, NULL::VARCHAR[] AS obligations,"
    " NULL::VARCHAR AS policy_revision, NULL::DOUBLE AS latency_ms, NULL::VARCHAR AS record,"
    " NULL::DATE AS day) WHERE false"
)


def archive_copy(source: str, out_dir: str, stem: str) -> str:
    """Write one checked source's records to ``out_dir/day=YYYY-MM-DD/<stem>_<n>.parquet``."""
    cols = ", ".join(COLUMNS)
    return (
        f"COPY (SELECT {cols}, day FROM ({source}))"
        f" TO {literal(out_dir)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day),"
        f" FILENAME_PATTERN {literal(stem + '_{i}')}, OVERWRITE_OR_IGNORE true)"
    )


def without_archived(staged_file: str, out_file: str) -> str:
    """Rewrite a staged partition file without the decisions the archive already holds."""
    return (
        f"COPY (SELECT * FROM read_parquet({literal(staged_file)}) WHERE decision_id NOT IN"
        f" (SELECT decision_id FROM archived)) TO {literal(out_file)}"
        " (FORMAT parquet, COMPRESSION zstd)"
    )


def line_digests(path: str, compression: str) -> str:
    """``(decision_id, sha256 of the line)`` of a checked JSON-lines file, read independently of
    the archive's writer (the archive is verified against it)."""
    return (
        "SELECT DISTINCT json_extract_string(line, '$.decision_id') AS decision_id,"
        " sha256(line) AS digest, CAST(json_extract(line, '$.allow') AS BOOLEAN) AS allow"
        f" FROM {lines(path, compression)}"
        " WHERE line IS NOT NULL AND trim(line) <> ''"
    )


def memory_settings(memory_limit: str, temp_dir: str | None) -> list[str]:
    out = [f"SET memory_limit = {literal(memory_limit)}"]
    if temp_dir:
        out.append(f"SET temp_directory = {literal(temp_dir)}")
    return out


def parquet_check(path: str) -> str:
    """Reads a Parquet file's footer: fails on a file that is not Parquet or is cut short."""
    return f"SELECT count(*) FROM parquet_metadata({literal(path)})"


def digest_table(name: str, source: str | None, *, day: bool = False) -> str:
    """A temporary table ``name(decision_id, digest[, day])`` of a source's records (or empty)."""
    if source is None:
        extra = ", day DATE" if day else ""
        return (
            f"CREATE OR REPLACE TEMP TABLE {name} (decision_id VARCHAR, digest VARCHAR,"
            f" allow BOOLEAN{extra})"
        )
    return f"CREATE OR REPLACE TEMP TABLE {name} AS {record_digests(source, day=day)}"


def digest_table_of(name: str, select: str) -> str:
    return f"CREATE OR REPLACE TEMP TABLE {name} AS {select}"


def record_digests(source: str, *, day: bool = False) -> str:
    """``(decision_id, sha256 of the record's line, allow[, day])`` of a source."""
    extra = ", day" if day else ""
    return f"SELECT decision_id, sha256(record) AS digest, allow{extra} FROM ({source})"


#: The readable decisions of the opened files, each once (the archive's input).
DECISIONS = "SELECT * FROM decisions"

SESSION = (
    "SET TimeZone = 'UTC'",
    "SET preserve_insertion_order = false",
)


# ---------------------------------------------------------------- portable analysis

#: The decisions that need a post-event review (privacy-office.md §2-§3).
_NEEDS_REVIEW = """allow AND (coalesce(break_glass, false)
    OR list_contains(obligations, 'POST_EVENT_REVIEW')
    OR list_contains($emergency_purposes, purpose)
    OR array_length(array_intersect(basis, $emergency_basis)) > 0)"""

QUERIES: dict[str, str] = {
    # ---- accounting of disclosures (164.528; 42 CFR 2.25): the patient's accountable records,
    # each decision once (the first copy read), none that also has a denial record (a decision
    # whose record could not be made durable: the client got a 503); the window and formats are
    # applied by service.audit.accounting exactly as for the line-by-line reader.
    "accounting": """
SELECT decision_id, timestamp, recipient_type, recipient_id, recipient_name, recipient_address,
  purpose, categories, elements_permitted, basis, basis_citations
FROM (
  SELECT *, row_number() OVER (PARTITION BY decision_id ORDER BY src) AS copy
  FROM decisions_all
  WHERE patient_ref = $patient_ref AND allow AND accountable
    AND (NOT $part2 OR list_contains(basis, 'PART2_CONSENT'))
    AND decision_id NOT IN (
      SELECT decision_id FROM decisions_all WHERE patient_ref = $patient_ref AND NOT allow)
) AS mine
WHERE copy = 1
""",
    # ---- findings (privacy-office.md §1) ----
    "finding_volume_spike": """
WITH d AS (
  SELECT user_id, decision_id, ts, CAST(ts AT TIME ZONE $tz AS DATE) AS day
  FROM decisions WHERE allow AND user_id IS NOT NULL AND ts IS NOT NULL
), daily AS (
  SELECT user_id, day, count(*) AS n FROM d GROUP BY user_id, day
), trail AS (
  SELECT c.user_id, c.day, c.n,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY h.n) AS trailing_median,
    count(h.n) AS history_days
  FROM daily AS c LEFT JOIN daily AS h
    ON h.user_id = c.user_id AND date_diff('day', h.day, c.day) BETWEEN 1 AND $trailing_days
  GROUP BY c.user_id, c.day, c.n
), hits AS (
  SELECT * FROM trail
  WHERE n > $absolute_per_day
     OR (history_days >= $min_history_days AND n >= $min_count
         AND n > $median_multiplier * trailing_median)
)
SELECT h.user_id, h.day, h.n, h.trailing_median, h.history_days, min(d.ts) AS first_ts,
  max(d.ts) AS last_ts, list(d.decision_id ORDER BY d.ts, d.decision_id) AS evidence
FROM hits AS h JOIN d ON d.user_id = h.user_id AND d.day = h.day
GROUP BY h.user_id, h.day, h.n, h.trailing_median, h.history_days
ORDER BY h.day, h.user_id
""",
    "finding_deny_burst": """
WITH d AS (
  SELECT user_id, decision_id, ts, epoch(ts) AS t
  FROM decisions WHERE NOT allow AND user_id IS NOT NULL AND ts IS NOT NULL
), w AS (
  SELECT user_id, t, count(*) OVER (PARTITION BY user_id ORDER BY t
    RANGE BETWEEN CURRENT ROW AND $window_seconds FOLLOWING) AS n
  FROM d
), starts AS (
  SELECT user_id, t,
    CASE WHEN t - lag(t) OVER (PARTITION BY user_id ORDER BY t) <= $window_seconds
      THEN 0 ELSE 1 END AS new_episode
  FROM w WHERE n >= $count
), episodes AS (
  SELECT user_id, t, sum(new_episode) OVER (PARTITION BY user_id ORDER BY t
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS episode
  FROM starts
), spans AS (
  SELECT user_id, episode, min(t) AS t0, max(t) + $window_seconds AS t1
  FROM episodes GROUP BY user_id, episode
)
SELECT s.user_id, count(*) AS n, min(d.ts) AS first_ts, max(d.ts) AS last_ts,
  list(d.decision_id ORDER BY d.ts, d.decision_id) AS evidence
FROM spans AS s JOIN d ON d.user_id = s.user_id AND d.t >= s.t0 AND d.t <= s.t1
GROUP BY s.user_id, s.episode
ORDER BY first_ts, s.user_id
""",
    "finding_off_hours": """
WITH d AS (
  SELECT user_id, decision_id, ts, ts AT TIME ZONE $tz AS local_ts
  FROM decisions WHERE allow AND ts IS NOT NULL
), m AS (
  SELECT *, hour(local_ts) * 60 + minute(local_ts) AS minute_of_day FROM d
)
SELECT user_id, CAST(local_ts AS DATE) AS day, count(*) AS n, min(ts) AS first_ts,
  max(ts) AS last_ts, list(decision_id ORDER BY ts, decision_id) AS evidence
FROM m
WHERE NOT list_contains($days, isodow(local_ts))
   OR ($start_minute < $end_minute
       AND (minute_of_day < $start_minute OR minute_of_day >= $end_minute))
   OR ($start_minute > $end_minute
       AND minute_of_day < $start_minute AND minute_of_day >= $end_minute)
GROUP BY user_id, CAST(local_ts AS DATE)
ORDER BY day, user_id
""",
    "finding_flagged_patient": """
SELECT user_id, patient_ref, CAST(ts AT TIME ZONE $tz AS DATE) AS day, count(*) AS n,
  count(*) FILTER (WHERE allow) AS allowed, min(ts) AS first_ts, max(ts) AS last_ts,
  list(decision_id ORDER BY ts, decision_id) AS evidence
FROM decisions
WHERE list_contains($watch_list, patient_ref) AND ts IS NOT NULL AND (allow OR $include_denied)
GROUP BY user_id, patient_ref, CAST(ts AT TIME ZONE $tz AS DATE)
ORDER BY day, patient_ref, user_id
""",
    "finding_many_recipients": """
WITH d AS (
  SELECT user_id, patient_ref, decision_id, ts, CAST(ts AT TIME ZONE $tz AS DATE) AS day,
    coalesce(recipient_id, recipient_name, recipient_type) AS recipient
  FROM decisions
  WHERE allow AND ts IS NOT NULL AND patient_ref IS NOT NULL AND user_id IS NOT NULL
), busy AS (
  SELECT user_id, patient_ref, day FROM d
  GROUP BY user_id, patient_ref, day HAVING count(*) > $max_recipients
)
SELECT d.user_id, d.patient_ref, d.day, count(DISTINCT d.recipient) AS n, min(d.ts) AS first_ts,
  max(d.ts) AS last_ts, list(d.decision_id ORDER BY d.ts, d.decision_id) AS evidence
FROM d JOIN busy AS b ON b.user_id = d.user_id AND b.patient_ref = d.patient_ref AND b.day = d.day
GROUP BY d.user_id, d.patient_ref, d.day
HAVING count(DISTINCT d.recipient) > $max_recipients
ORDER BY d.day, d.user_id, d.patient_ref
""",
    "finding_break_glass": """
SELECT decision_id, user_id, patient_ref, ts, purpose
FROM decisions WHERE coalesce(break_glass, false)
ORDER BY ts, decision_id
""",
    "finding_emergency": """
SELECT decision_id, user_id, patient_ref, ts, purpose
FROM decisions
WHERE allow AND (list_contains($emergency_purposes, purpose)
  OR array_length(array_intersect(basis, $emergency_basis)) > 0)
ORDER BY ts, decision_id
""",
    # ---- post-event review (§3) ----
    "needs_review": f"""
SELECT decision_id, ts, user_id, patient_ref, purpose, coalesce(break_glass, false) AS break_glass,
  basis, obligations
FROM decisions WHERE {_NEEDS_REVIEW}
ORDER BY ts, decision_id
""",
    # ---- audit query: who disclosed what, when and why ----
    "query": """
SELECT timestamp, decision_id, user_id, patient_ref, purpose, recipient_type, recipient_id,
  recipient_name, allow, basis, reasons, categories
FROM decisions
WHERE ($user_id IS NULL OR user_id = $user_id)
  AND ($patient_ref IS NULL OR patient_ref = $patient_ref)
  AND ($purpose IS NULL OR purpose = $purpose)
  AND ($recipient IS NULL OR recipient_id = $recipient OR recipient_name = $recipient)
  AND ($allow IS NULL OR allow = $allow)
  AND ($since IS NULL OR CAST(ts AS DATE) >= $since)
  AND ($until IS NULL OR CAST(ts AS DATE) <= $until)
ORDER BY ts, decision_id
LIMIT $limit
""",
    # ---- the HTML report ----
    "report_totals": """
SELECT count(*) AS decisions, count(*) FILTER (WHERE allow) AS allowed,
  count(*) FILTER (WHERE NOT allow) AS denied, count(DISTINCT user_id) AS users,
  count(DISTINCT patient_ref) AS patients, min(ts) AS first_ts, max(ts) AS last_ts
FROM decisions
""",
    "report_per_day": """
SELECT CAST(ts AT TIME ZONE $tz AS DATE) AS day, count(*) FILTER (WHERE allow) AS allowed,
  count(*) FILTER (WHERE NOT allow) AS denied
FROM decisions WHERE ts IS NOT NULL
GROUP BY CAST(ts AT TIME ZONE $tz AS DATE)
ORDER BY day
""",
    "report_by_purpose": """
SELECT coalesce(purpose, '(none)') AS purpose, count(*) FILTER (WHERE allow) AS allowed,
  count(*) FILTER (WHERE NOT allow) AS denied
FROM decisions GROUP BY coalesce(purpose, '(none)')
ORDER BY count(*) DESC, purpose
""",
    "report_top_users": """
SELECT coalesce(user_id, '(none)') AS user_id, count(*) FILTER (WHERE allow) AS allowed,
  count(*) FILTER (WHERE NOT allow) AS denied
FROM decisions GROUP BY coalesce(user_id, '(none)')
ORDER BY count(*) DESC, user_id LIMIT $top
""",
    "report_top_recipients": """
SELECT coalesce(recipient_name, recipient_id, recipient_type, '(none)') AS recipient,
  coalesce(recipient_type, '') AS recipient_type, count(*) AS disclosures
FROM decisions WHERE allow
GROUP BY coalesce(recipient_name, recipient_id, recipient_type, '(none)'),
  coalesce(recipient_type, '')
ORDER BY count(*) DESC, recipient LIMIT $top
""",
    # ---- the archive (§4): over the digest tables source, staged and archived ----
    "staged_days": """
SELECT DISTINCT day FROM staged WHERE day IS NOT NULL ORDER BY day
""",
    "staged_overlap": """
SELECT count(*) AS n FROM staged WHERE decision_id IN (SELECT decision_id FROM archived)
""",
    "archive_counts": """
SELECT (SELECT count(DISTINCT decision_id) FROM source) AS records,
  (SELECT count(*) FROM staged) AS written,
  (SELECT count(*) FROM source WHERE decision_id IN (SELECT decision_id FROM archived))
    AS already_archived
""",
    # A source record not in the archive with the same digest, or a staged record not from the
    # source: either fails the verification, by name.
    # A source record the archive does not hold with the same digest (or superseded by a denial
    # of the same decision: the denial wins), or a staged record not from the source: either fails
    # the verification, by name.
    "archive_mismatches": """
SELECT s.decision_id FROM source AS s
WHERE NOT EXISTS (
  SELECT 1 FROM (
    SELECT decision_id, digest, allow FROM staged
    UNION ALL SELECT decision_id, digest, allow FROM archived
  ) AS a
  WHERE a.decision_id = s.decision_id AND (a.digest = s.digest OR (s.allow AND NOT a.allow))
)
UNION
SELECT decision_id FROM (
  SELECT decision_id, digest FROM staged EXCEPT SELECT decision_id, digest FROM source
) AS extra
ORDER BY decision_id
""",
    "sealed_digests": """
SELECT decision_id, sha256(record) AS digest FROM decisions_all ORDER BY decision_id, digest
""",
}
