"""Monitoring report: what one monitoring run found, as `report.json` and a readable, self-contained
`report.html` (the decision and its reasons first, then every check, the drift score of each
feature, unseen categories and brands, the title vocabulary, the champion's error, and two
plots: drift scores against the threshold and the price distributions), written into one folder
for the monitoring stage to log to MLflow.
"""

import json
from html import escape
from pathlib import Path
from string import Template

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from price_alchemy.model.diagnostics import save_figure
from price_alchemy.validation.html_report import (
    STYLE,
    cell,
    checks_table,
    inline_image,
    json_default,
    table,
)

_PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Monitoring report: $status</title>
$style
</head>
<body>
<h1>Monitoring report: <span class="$css">$status</span></h1>
<p>Listings created in <b>$start</b> to <b>$end</b> (UTC), against the training listings of
champion <b>$champion</b>.</p>
$reasons
<h2>Summary</h2>
$summary
<h2>Checks</h2>
<p>Each threshold is one check; a failed check triggers retraining.</p>
$checks
$details
</body>
</html>
""")
_DETAILS = Template("""<h2>Feature drift</h2>
<p>PSI: population stability index over the training listings' quantile bins (numeric) or most
frequent values (categorical); 0.1 to 0.2 is a moderate shift, above 0.2 a large one. KS: the
two-sample Kolmogorov-Smirnov statistic and its p-value.</p>
$features
$psi_plot
$price_plot
<h2>Unseen categories and brands</h2>
$unseen
<h2>Title vocabulary</h2>
$vocabulary
<h2>Model error on realized prices</h2>
$model
""")


def _number(value, digits: int = 4) -> str | None:
    return None if value is None else f"{value:.{digits}g}"


def _summary(report: dict) -> str:
    rows = [
        ("clean listings in the window (realized prices)", report.get("rows")),
        ("drift measured on", report.get("inputs")),
        ("quarantined listings", report.get("rows_quarantined")),
        ("training listings compared with", report.get("reference_rows")),
        ("champion run", report.get("champion", {}).get("run_id")),
        ("MLflow run of this report", report.get("mlflow_run_id")),
    ]
    return table(("", ""), [cell(label) + cell(value) for label, value in rows])


def _reasons(report: dict) -> str:
    if report["status"] == "skipped":
        return f"<p><b>Not judged:</b> {escape(report['skipped_reason'])}</p>"
    if not report["reasons"]:
        return "<p>No threshold crossed: no retraining.</p>"
    items = "\n".join(f"<li>{escape(reason)}</li>" for reason in report["reasons"])
    return f"<p><b>Retraining triggered</b> because:</p>\n<ul>\n{items}\n</ul>"


def _features_table(features: list[dict]) -> str:
    header = ("feature", "kind", "PSI", "KS", "KS p-value", "training mean", "window mean")
    keys = ("psi", "ks", "ks_pvalue", "reference_mean", "current_mean")
    rows = [
        cell(f["feature"]) + cell(f["kind"]) + "".join(cell(_number(f[k]), "num") for k in keys)
        for f in features
    ]
    return table(header, rows)


def _unseen_table(unseen: dict) -> str:
    rows = [
        cell(name)
        + cell(f"{found['share']:.2%}", "num")
        + cell(found["distinct"], "num")
        + cell(", ".join(f"{value} ({n})" for value, n in found["top"]) or "none")
        for name, found in unseen.items()
    ]
    return table(("value", "share of rows", "new values", "most common new values"), rows)


def _pairs_table(values: dict, labels: dict[str, str]) -> str:
    rows = [cell(label) + cell(_number(values[key]), "num") for key, label in labels.items()]
    return table(("", ""), rows)


def _served(report: dict) -> str:
    """The drift of the served listings, when they were judged too."""
    served = report.get("served")
    if not served:
        return ""
    return (
        f"<h2>Drift of the listings served ({served['rows']}, live, each once)</h2>"
        + _features_table(served["features"])
        + _unseen_table(served["unseen"])
        + _pairs_table(served["vocabulary"], _VOCABULARY)
    )


_VOCABULARY = {
    "reference_oov": "out-of-vocabulary share within the training titles",
    "current_oov": "out-of-vocabulary share of the window's titles",
    "shift": "shift",
}


def _details(report: dict, images: dict[str, Path]) -> str:
    return _served(report) + _DETAILS.substitute(
        features=_features_table(report["features"]),
        psi_plot=inline_image(images["drift_scores"], "PSI per feature"),
        price_plot=inline_image(images["price_distribution"], "price distributions"),
        unseen=_unseen_table(report["unseen"]),
        vocabulary=_pairs_table(report["vocabulary"], _VOCABULARY),
        model=_pairs_table(
            report["model"],
            {
                "window_rmsle": "RMSLE on the window",
                "training_rmsle": "RMSLE on the held-out split at training",
                "ratio": "ratio",
                "window_mae": "MAE on the window ($)",
                "window_r2": "R^2 of log prices on the window",
            },
        ),
    )


def render_html(report: dict, images: dict[str, Path]) -> str:
    """The report as one self-contained HTML page (plots inlined)."""
    champion = report.get("champion") or {}
    css = {"retrain": "failed", "no drift": "passed"}.get(report["status"], "skipped")
    return _PAGE.substitute(
        style=STYLE,
        status=escape(report["status"]),
        css=css,
        start=escape(report["window"]["start"]),
        end=escape(report["window"]["end"]),
        champion=escape(f"{champion.get('name', '-')} v{champion.get('version', '-')}"),
        reasons=_reasons(report),
        summary=_summary(report),
        checks=checks_table(report.get("checks", [])),
        details=_details(report, images) if images else "",
    )


def plot_drift_scores(path: Path, features: list[dict], limit: float) -> Path:
    """Horizontal bars of each feature's PSI with the retraining threshold."""
    names = [f["feature"] for f in features]
    scores = np.array([f["psi"] for f in features])
    fig = Figure(figsize=(7, 0.35 * len(names) + 1.2))
    ax = fig.subplots()
    ax.barh(names, scores, color=np.where(scores > limit, "tab:red", "tab:blue"))
    ax.axvline(limit, color="black", linestyle="--", label=f"threshold {limit:g}")
    ax.invert_yaxis()
    ax.set_xlabel("population stability index (PSI)")
    ax.set_title("Drift of each feature, window vs training listings")
    ax.legend(loc="lower right")
    save_figure(fig, path)
    return path


def plot_price_distribution(path: Path, reference: pd.Series, current: pd.Series) -> Path:
    """Density histograms of log1p(price) of the training listings and of the window."""
    before, now = np.log1p(reference.to_numpy(float)), np.log1p(current.to_numpy(float))
    bins = np.histogram_bin_edges(np.concatenate([before, now]), bins=40).tolist()
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    ax.hist(before, bins=bins, density=True, alpha=0.5, label=f"training ({before.size:,})")
    ax.hist(now, bins=bins, density=True, alpha=0.5, label=f"window ({now.size:,})")
    ax.set_xlabel("log1p(price)")
    ax.set_ylabel("density")
    ax.set_title("Price distribution")
    ax.legend()
    save_figure(fig, path)
    return path


def write_monitoring_report(
    report: dict,
    out_dir: Path,
    reference: pd.DataFrame | None = None,
    current: pd.DataFrame | None = None,
) -> list[Path]:
    """Write report.json, report.html and (when the window was judged) the plots into
    `out_dir`; returns the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    images: dict[str, Path] = {}
    if report["status"] != "skipped" and reference is not None and current is not None:
        limit = report["thresholds"]["max_psi"]
        images = {
            "drift_scores": plot_drift_scores(
                out_dir / "drift_scores.png", report["features"], limit
            ),
            "price_distribution": plot_price_distribution(
                out_dir / "price_distribution.png", reference["price"], current["price"]
            ),
        }
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=json_default))
    html_path.write_text(render_html(report, images), encoding="utf-8")
    return [json_path, html_path, *images.values()]
