"""The privacy office's audit desk: DuckDB over the decision log (docs/audit.md).

``sql`` holds every SQL statement the tools run; ``engine`` opens the log files (JSON lines, gzip
rotations, the Parquet archive) as one ``decisions`` relation; ``findings``, ``query``,
``report``, ``reviews``, ``archive`` and ``disclosures`` (the accounting) read it; ``commands``
wires them to ``hipaa-gate audit|reviews|logs``.
"""
