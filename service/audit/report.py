"""``hipaa-gate audit report --html OUT.html LOG...``: a self-contained page for the privacy office.

Volumes per day, allow/deny by purpose, top users and recipients (inline SVG charts drawn by
pygal, with its JavaScript switched off: the page loads nothing), the findings and the open
post-event reviews.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pygal
from pygal.style import Style

from service.audit.findings import iso

if TYPE_CHECKING:  # DuckDB is imported only where a log is opened
    from service.audit.engine import Engine

TOP = 10
EVIDENCE_SHOWN = 5
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#666",
    colors=("#2f7d32", "#c62828", "#1565c0", "#6a1b9a"),
    font_family="system-ui, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
)

CSS = """
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#222}
h1{font-size:24px;margin-bottom:4px} h2{font-size:19px;margin-top:32px;border-bottom:1px solid #ccc}
.meta{color:#555;margin-top:0} .kpi{display:flex;gap:16px;flex-wrap:wrap;margin:16px 0}
.kpi div{border:1px solid #ddd;border-radius:6px;padding:10px 16px;min-width:120px}
.kpi b{display:block;font-size:22px}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:16px} .wide{grid-column:1/3}
.chart svg{width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.high{color:#b71c1c;font-weight:600} .medium{color:#e65100;font-weight:600} .low{color:#555}
.open{color:#b71c1c;font-weight:600} code{font-size:12px}
"""


def _chart(kind: type, title: str, **extra: Any) -> Any:
    config = pygal.Config(
        js=[],  # no external script: the page must load nothing
        disable_xml_declaration=True,
        style=STYLE,
        title=title,
        width=extra.pop("width", 560),
        height=extra.pop("height", 360),
        legend_at_bottom=True,
        print_values=False,
        truncate_label=-1,
        truncate_legend=-1,
        value_formatter=lambda v: f"{v:,.0f}",
        **extra,
    )
    return kind(config)


_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)


def _svg(chart: Any) -> str:
    # pygal embeds its tooltip configuration as an inline script even without its JavaScript:
    # dropped, so the page runs no code at all.
    return f'<div class="chart">{_SCRIPT.sub("", chart.render(is_unicode=True))}</div>'


def charts(engine: Engine, tz: str) -> dict[str, str]:
    per_day = engine.rows("report_per_day", {"tz": tz})
    day_chart = _chart(
        pygal.StackedBar,
        f"Decisions per day ({tz})",
        width=1140,
        height=380,
        x_label_rotation=45,
        show_minor_x_labels=False,
        x_labels_major_count=min(len(per_day), 20) or None,
    )
    day_chart.x_labels = [r["day"].isoformat() for r in per_day]
    day_chart.add("allowed", [r["allowed"] for r in per_day])
    day_chart.add("denied", [r["denied"] for r in per_day])

    by_purpose = engine.rows("report_by_purpose")[::-1]
    purpose_chart = _chart(pygal.HorizontalStackedBar, "Allow / deny by purpose")
    purpose_chart.x_labels = [r["purpose"] for r in by_purpose]
    purpose_chart.add("allowed", [r["allowed"] for r in by_purpose])
    purpose_chart.add("denied", [r["denied"] for r in by_purpose])

    users = engine.rows("report_top_users", {"top": TOP})[::-1]
    user_chart = _chart(pygal.HorizontalStackedBar, f"Top {TOP} users")
    user_chart.x_labels = [r["user_id"] for r in users]
    user_chart.add("allowed", [r["allowed"] for r in users])
    user_chart.add("denied", [r["denied"] for r in users])

    recipients = engine.rows("report_top_recipients", {"top": TOP})[::-1]
    recipient_chart = _chart(
        pygal.HorizontalBar,
        f"Top {TOP} recipients (allowed disclosures)",
        width=1140,
        height=380,
        show_legend=False,
    )
    recipient_chart.x_labels = [
        f"{r['recipient']} ({r['recipient_type']})" if r["recipient_type"] else r["recipient"]
        for r in recipients
    ]
    recipient_chart.add("disclosures", [r["disclosures"] for r in recipients])
    return {
        "per_day": _svg(day_chart),
        "purpose": _svg(purpose_chart),
        "users": _svg(user_chart),
        "recipients": _svg(recipient_chart),
    }


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _window_text(window: Mapping[str, Any]) -> str:
    """A local calendar day as ``day 2026-01-21``; a span as its two ends; one time once."""
    start, end = window.get("start") or "", window.get("end") or ""
    if start[10:19] == "T00:00:00" and end[10:19] == "T00:00:00":
        return f"day {_e(start[:10])}"
    if start == end:
        return _e(start)
    return f"{_e(start)}<br>to {_e(end)}"


def _findings_table(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "<p>No findings.</p>"
    rows = []
    for f in findings:
        ids = f["evidence"][:EVIDENCE_SHOWN]
        more = len(f["evidence"]) - len(ids)
        evidence = "<br>".join(f"<code>{_e(i)}</code>" for i in ids)
        if more > 0:
            evidence += f"<br>and {more} more"
        window = _window_text(f["window"] or {})
        review = f.get("review")
        status = ""
        if review:
            status = (
                f'<span class="open">open, {_e(review.get("age_days"))} day(s)</span>'
                if review["status"] == "open"
                else _e(f"reviewed: {review['outcome']}")
            )
        who = _e(f["user_id"] or "")
        if f["patient_ref"]:
            who += f"<br>patient <code>{_e(f['patient_ref'][:16])}…</code>"
        rows.append(
            f'<tr><td class="{_e(f["severity"])}">{_e(f["finding"])}</td>'
            f"<td>{_e(f['severity'])}</td><td>{who}</td>"
            f"<td>{window}</td>"
            f"<td>{_e(f['rule'])}<br><small>{_e(f['citation'])}</small></td>"
            f"<td>{len(f['evidence'])}: {evidence}</td><td>{status}</td></tr>"
        )
    return (
        "<table><tr><th>finding</th><th>severity</th><th>user / patient</th><th>window</th>"
        "<th>rule</th><th>evidence (decision ids)</th><th>review</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _reviews_table(items: list[dict[str, Any]]) -> str:
    open_items = [i for i in items if i["status"] == "open"]
    if not open_items:
        return f"<p>No open reviews ({len(items)} recorded).</p>"
    rows = "".join(
        f"<tr><td><code>{_e(i['decision_id'])}</code></td><td>{_e(i['timestamp'])}</td>"
        f"<td>{_e(i['user_id'])}</td><td>{_e(i['purpose'])}</td><td>{_e(', '.join(i['why']))}</td>"
        f'<td class="open">{_e(i["age_days"])}</td></tr>'
        for i in sorted(open_items, key=lambda i: -(i["age_days"] or 0))
    )
    return (
        f"<p>{len(open_items)} open of {len(items)} decisions that need a review.</p>"
        "<table><tr><th>decision</th><th>time</th><th>user</th><th>purpose</th><th>why</th>"
        "<th>age (days)</th></tr>" + rows + "</table>"
    )


def render(
    engine: Engine,
    config: Mapping[str, Any],
    findings: list[dict[str, Any]],
    review_items: list[dict[str, Any]],
    *,
    sources: list[str],
    now: dt.datetime | None = None,
) -> str:
    now = now or dt.datetime.now(dt.UTC)
    tz = config["time_zone"]
    totals = engine.rows("report_totals")[0]
    svg = charts(engine, tz)
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["finding"]] = counts.get(f["finding"], 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    incomplete = ""
    if engine.stats.problems:
        incomplete = (
            f'<p class="open">{engine.stats.problems} log line(s) or file(s) could not be read: '
            "this report is incomplete (the command listed them).</p>"
        )
    kpis = "".join(
        f"<div><b>{_e(v)}</b>{_e(k)}</div>"
        for k, v in (
            ("decisions", totals["decisions"]),
            ("allowed", totals["allowed"]),
            ("denied", totals["denied"]),
            ("users", totals["users"]),
            ("patients", totals["patients"]),
            ("findings", len(findings)),
            ("open reviews", sum(1 for i in review_items if i["status"] == "open")),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hipaa-gate audit report</title><style>{CSS}</style></head>
<body>
<h1>Decision log audit report</h1>
<p class="meta">{_e(iso(totals["first_ts"]))} to {_e(iso(totals["last_ts"]))} ·
generated {_e(iso(now))} · time zone {_e(tz)} · {len(sources)} log source(s)</p>
{incomplete}
<div class="kpi">{kpis}</div>
<h2>Volumes</h2>
<div class="charts"><div class="wide">{svg["per_day"]}</div>
{svg["purpose"]}{svg["users"]}<div class="wide">{svg["recipients"]}</div></div>
<h2>Findings</h2>
<p>{_e(summary)}</p>
{_findings_table(findings)}
<h2>Open post-event reviews</h2>
{_reviews_table(review_items)}
<p class="meta">Patients appear only as keyed pseudonyms (patient_ref). Rules, thresholds and
the watch list: policies/config/audit/data.json.</p>
</body></html>
"""
