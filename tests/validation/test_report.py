"""Tests for price_alchemy.validation.report: the quarantine sample, HTML rendering and escaping,
and writing both files."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from price_alchemy.validation.report import (
    SAMPLE_VALUE_CHARS,
    quarantine_sample,
    render_html,
    write_report,
)

HOSTILE = '<script>alert("x")</script> & <b>'


def report(**changes) -> dict:
    """A report shaped like the one `validate_snapshot` writes."""
    base = {
        "snapshot_uri": "/snaps/20250101T000000_20260101T000000/listings.parquet",
        "status": "failed",
        "previous_profile_uri": "/snaps/20240101T000000_20250101T000000/profile.json",
        "clean_uri": "/snaps/w/clean.parquet",
        "quarantine_uri": "/snaps/w/quarantine.parquet",
        "rows_in": 10,
        "rows_passed": 8,
        "rows_quarantined": 2,
        "reason_counts": {"shipping: isin([0, 1])": 2, HOSTILE: 1},
        "report_json_uri": "/snaps/w/report.json",
        "report_html_uri": "/snaps/w/report.html",
        "profile_uri": None,
        "rows_cleaned": 3,
        "cleaning_counts": {"html": 2, "url": 1, "control_chars": 1, "truncated": 0},
        "checks": [
            {"name": "columns", "status": "passed", "detail": "all 9 present", "numbers": {}},
            {"name": "bad_share", "status": "failed", "detail": "2 of 10 rows", "numbers": {}},
            {"name": "price_ks", "status": "skipped", "detail": "no profile", "numbers": {}},
        ],
        "quarantine_sample": [
            {"train_id": "3", "name": HOSTILE, "reasons": "shipping: isin([0, 1])"},
            {"train_id": "5", "name": None, "reasons": "name: not_nullable"},
        ],
        "params": {"max_bad_share": 0.05},
    }
    return base | changes


def test_html_shows_the_summary_checks_counts_and_sample() -> None:
    page = render_html(report())
    assert page.startswith("<!doctype html>")
    for text in (
        "Validation report",
        "rows quarantined",
        "rows kept with cleaned text",
        '<td class="failed">failed</td>',
        '<td class="passed">passed</td>',
        '<td class="skipped">skipped</td>',
        "shipping: isin([0, 1])",
        "control_chars",
        "The first 2 of 2 quarantined rows",
        '<td class="null">null</td>',  # a missing value, told apart from an empty one
        "/snaps/w/quarantine.parquet",
    ):
        assert text in page, text


def test_html_escapes_every_value() -> None:
    page = render_html(report(snapshot_uri=f"/x/{HOSTILE}"))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in page


def test_html_with_nothing_quarantined() -> None:
    page = render_html(
        report(status="passed", quarantine_sample=[], reason_counts={}, rows_quarantined=0)
    )
    assert "No quarantined rows." in page and "None." in page


def test_html_of_a_run_that_stopped_at_the_gate() -> None:
    """Missing columns: no clean rows or counts yet, only the checks."""
    page = render_html(
        report(
            clean_uri=None,
            quarantine_uri=None,
            rows_passed=None,
            rows_quarantined=None,
            rows_cleaned=None,
            reason_counts={},
            cleaning_counts={},
            quarantine_sample=[],
        )
    )
    assert "None" not in page.replace("None.", "")
    assert "clean.parquet" not in page
    assert '<td class="num">not judged</td>' in page


def test_sample_takes_the_first_rows_as_text_and_shortens_long_values() -> None:
    quarantined = pd.DataFrame(
        {"train_id": ["1", "2", "3"], "item_description": ["a" * 20000, None, "b"]},
        dtype="string",
    ).assign(reasons=["r1", "r2", "r3"])
    sample = quarantine_sample(quarantined, 2)
    assert [row["train_id"] for row in sample] == ["1", "2"]
    assert sample[0]["item_description"].startswith("a" * SAMPLE_VALUE_CHARS + "...")
    assert "[20000 characters]" in sample[0]["item_description"]
    assert sample[1]["item_description"] is None


def test_sample_of_nothing() -> None:
    assert quarantine_sample(None, 5) == []
    assert quarantine_sample(pd.DataFrame({"reasons": ["x"]}), 0) == []


def test_write_report_writes_json_and_html(tmp_path: Path) -> None:
    content = report(rows_in=np.int64(10), checks=[])
    content["numbers"] = {"share": np.float64(0.2), "grid": np.arange(3)}
    write_report(content, tmp_path / "report.json", tmp_path / "report.html")
    back = json.loads((tmp_path / "report.json").read_text())
    assert back["rows_in"] == 10 and back["numbers"] == {"share": 0.2, "grid": [0, 1, 2]}
    assert back["quarantine_sample"][0]["name"] == HOSTILE
    assert "&lt;script&gt;" in (tmp_path / "report.html").read_text()
