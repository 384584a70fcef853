"""The online report as files a person opens: `online.json` and a self-contained `online.html`
(per version and arm the suggestions, the sales known, RMSLE, MAE, range coverage, acceptance
and the listed-price gap; the challenger's RMSLE minus the champion's with its 95% interval;
a chart of RMSLE per day and version)."""

import json
from html import escape
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from price_alchemy.model.diagnostics import save_figure
from price_alchemy.validation.html_report import STYLE, cell, inline_image, json_default, table

_COLUMNS = (
    ("model_version", "version"),
    ("arm", "arm"),
    ("served", "served"),
    ("suggestions", "suggestions"),
    ("with_sale", "with a sale"),
    ("rmsle", "RMSLE"),
    ("mae", "MAE ($)"),
    ("range_coverage", "in range"),
    ("acceptance", "accepted"),
    ("median_listed_gap", "median listed gap"),
)


def _number(value) -> str | None:
    return f"{value:.4f}" if isinstance(value, float) else value


def _versions_table(versions: list[dict]) -> str:
    rows = ["".join(cell(_number(v[key]), "num") for key, _ in _COLUMNS) for v in versions]
    return table(tuple(label for _, label in _COLUMNS), rows)


def _difference(difference: dict | None) -> str:
    if difference is None:
        return "<p>No comparison yet: the challenger or the champion has no sale.</p>"
    how = "over each arm's listings"
    if difference["paired"]:
        how = "paired on listings both priced (shadow)"
    return (
        f"<p>Challenger RMSLE minus champion RMSLE: <b>{difference['difference']:+.4f}</b>"
        f" (95% interval {difference['low']:+.4f} to {difference['high']:+.4f}, bootstrap"
        f" {escape(how)}; {difference['champion_listings']} and"
        f" {difference['challenger_listings']} sold listings). Valid at every look, the"
        f" interval promotion and rejection use: {difference['anytime_low']:+.4f} to"
        f" {difference['anytime_high']:+.4f}.</p>"
    )


def plot_daily_rmsle(path: Path, daily: pd.DataFrame) -> Path:
    """RMSLE per day of suggestion, a line per version and arm."""
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for version, rows in daily.groupby("version"):
        ax.plot(rows["day"], rows["rmsle"], marker="o", label=str(version))
    ax.set_ylabel("RMSLE against the sale price")
    ax.set_title("Online error per day of suggestion")
    if len(daily):
        ax.legend()
    fig.autofmt_xdate()
    save_figure(fig, path)
    return path


def write_online_report(report: dict, daily: pd.DataFrame, out_dir: Path) -> Path:
    """Write online.json, online.html and the chart into `out_dir`; returns the page."""
    out_dir.mkdir(parents=True, exist_ok=True)
    chart = plot_daily_rmsle(out_dir / "online_rmsle.png", daily)
    (out_dir / "online.json").write_text(json.dumps(report, indent=2, default=json_default))
    page = out_dir / "online.html"
    page.write_text(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Online report</title>{STYLE}</head><body>
<h1>Online report</h1>
<p>Suggestions logged from <b>{escape(report["start"])}</b> to <b>{escape(report["end"])}</b>
(UTC), live traffic with a listing id; a sale counts when it was posted as an outcome or the
listing is in the warehouse with its price. Suggestions whose listing has not sold yet count
among the suggestions only.</p>
<h2>Per version</h2>
{_versions_table(report["versions"])}
<h2>Challenger against champion</h2>
{_difference(report["difference"])}
{inline_image(chart, "RMSLE per day and version")}
</body></html>""",
        encoding="utf-8",
    )
    return page
