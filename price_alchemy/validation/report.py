"""Validation report: what the validate stage found, as `report.json` and a readable `report.html`.

The validate stage assembles the report as a plain dict (counts, each batch check with its status
and numbers, quarantine reasons, text-cleaning counts, a sample of quarantined rows); this module
takes a sample of the quarantine, renders the dict as one self-contained HTML page (every value
escaped, with the blocks of `price_alchemy.validation.html_report`) and writes both files.
"""

import json
from html import escape
from pathlib import Path
from string import Template

import pandas as pd

from price_alchemy.validation.html_report import STYLE, cell, checks_table, json_default, table

SAMPLE_VALUE_CHARS = 300
_SUMMARY_ROWS = (
    ("rows_in", "rows in"),
    ("rows_passed", "rows passed"),
    ("rows_quarantined", "rows quarantined"),
    ("rows_cleaned", "rows kept with cleaned text"),
)
_OUTPUTS = (
    ("clean_uri", "clean rows"),
    ("quarantine_uri", "quarantined rows"),
    ("profile_uri", "profile"),
    ("previous_profile_uri", "compared with"),
    ("report_json_uri", "this report as JSON"),
)
_PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Validation report: $status</title>
$style
</head>
<body>
<h1>Validation report: <span class="$status">$status</span></h1>
<p>Snapshot <code>$snapshot</code></p>
<h2>Summary</h2>
$summary
<h2>Checks</h2>
$checks
<h2>Quarantine reasons</h2>
<p>Each quarantined row counts once for every check it failed.</p>
$reasons
<h2>Text cleaning</h2>
<p>Rows kept after their free text was cleaned, by kind of cleaning.</p>
$cleaning
<h2>Sample of quarantined rows</h2>
$sample
<h2>Outputs</h2>
$outputs
</body>
</html>
""")


def quarantine_sample(quarantined: pd.DataFrame | None, rows: int) -> list[dict]:
    """The first `rows` quarantined rows as dicts of text, long values cut for display."""
    if quarantined is None or rows == 0:
        return []
    head = quarantined.head(rows).astype("string")
    return [
        {column: _shorten(value) for column, value in record.items()}
        for record in head.to_dict("records")
    ]


def _shorten(value) -> str | None:
    if value is None or value is pd.NA:
        return None
    text = str(value)
    if len(text) <= SAMPLE_VALUE_CHARS:
        return text
    return f"{text[:SAMPLE_VALUE_CHARS]}... [{len(text)} characters]"


def _counts_table(counts: dict, label: str) -> str:
    rows = [cell(key) + cell(n, "num") for key, n in counts.items()]
    return table((label, "rows"), rows)


def _summary_table(report: dict) -> str:
    rows = [
        cell(label) + cell(_or_not_judged(report.get(key)), "num") for key, label in _SUMMARY_ROWS
    ]
    return table(("", "count"), rows)


def _or_not_judged(count: int | None) -> int | str:
    return "not judged" if count is None else count


def _sample_table(sample: list[dict], total: int | None) -> str:
    if not sample:
        return "<p>No quarantined rows.</p>"
    header = tuple(sample[0])
    rows = ["".join(cell(record.get(column)) for column in header) for record in sample]
    shown = f"<p>The first {len(sample)} of {total} quarantined rows, values as received.</p>"
    return shown + table(header, rows).replace("<table>", '<table class="sample">', 1)


def _outputs_list(report: dict) -> str:
    items = [
        f"<li>{escape(label)}: <code>{escape(str(report[key]))}</code></li>"
        for key, label in _OUTPUTS
        if report.get(key)
    ]
    return "<ul>\n" + "\n".join(items) + "\n</ul>"


def render_html(report: dict) -> str:
    """The report as one self-contained HTML page."""
    return _PAGE.substitute(
        style=STYLE,
        status=escape(report["status"]),
        snapshot=escape(str(report["snapshot_uri"])),
        summary=_summary_table(report),
        checks=checks_table(report["checks"]),
        reasons=_counts_table(report["reason_counts"], "reason"),
        cleaning=_counts_table(report["cleaning_counts"], "cleaning"),
        sample=_sample_table(report["quarantine_sample"], report.get("rows_quarantined")),
        outputs=_outputs_list(report),
    )


def write_report(report: dict, json_path: Path, html_path: Path) -> None:
    """Write `report` as JSON to `json_path` and as HTML to `html_path`."""
    text = json.dumps(report, indent=2, ensure_ascii=False, default=json_default)
    Path(json_path).write_text(text)
    Path(html_path).write_text(render_html(report), encoding="utf-8")
