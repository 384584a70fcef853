"""Diagnostics of a training run, the plots and tables a person looks at after training: from
the held-out listings with the model's and the rules baseline's predicted prices (and,
optionally, the model's feature importance and the Hyperopt trials) `write_diagnostics` writes
into one folder a hexbin of predicted against actual price, a boxplot of log residuals by
top-level category, a per-category error table (CSV and a self-contained HTML page; RMSLE as in
`price_alchemy.model.metrics`, computed here from the same log residuals the plots show), a feature
importance chart and table, and the Hyperopt loss per trial, for the caller to log to MLflow.
Plots use matplotlib's object API (`Figure`, never pyplot), so nothing here touches the
process-wide backend or keeps figures alive after they are saved.
"""

from html import escape
from pathlib import Path
from string import Template

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

_NO_CATEGORY = "(none)"
_ALL_ROWS = "(all)"
_TOP_FEATURES = 30
_CATEGORY_COLUMNS = (
    "category",
    "rows",
    "rmsle",
    "baseline_rmsle",
    "mae",
    "bias",
    "median_price",
)
_DOLLAR_TICKS = (0, 1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000)
_DPI = 110
_PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Errors by category</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; }
th { background: #f3f3f3; text-align: left; }
td { text-align: right; font-variant-numeric: tabular-nums; }
td:first-child { text-align: left; }
</style>
</head>
<body>
<h1>Errors by category</h1>
<p>One row per top-level category of the held-out listings ($rows rows in all), most rows
first, and every row together last. <b>rmsle</b> and <b>baseline_rmsle</b>: root mean squared
error of log1p prices for the model and for the rules baseline; <b>mae</b>: the model's mean
absolute error in dollars; <b>bias</b>: the mean of log1p(predicted) &minus; log1p(actual),
positive when the model over-predicts; <b>median_price</b>: the median actual price in
dollars.</p>
$table
</body>
</html>
""")


def write_diagnostics(
    out_dir: Path,
    listings: pd.DataFrame,
    predicted: np.ndarray,
    baseline_predicted: np.ndarray,
    importance: pd.Series | None = None,
    trials: pd.DataFrame | None = None,
) -> list[Path]:
    """Write all diagnostics into out_dir (created if missing); return the written paths."""
    actual, predicted, baseline_predicted = _validated(listings, predicted, baseline_predicted)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    top = _top_categories(listings["category_name"])
    table = category_errors(listings, predicted, baseline_predicted)
    paths = [
        _plot_predicted_vs_actual(out_dir / "predicted_vs_actual.png", actual, predicted),
        _plot_residuals_by_category(
            out_dir / "residuals_by_category.png", top, _log_residuals(actual, predicted)
        ),
        *_write_category_errors(out_dir, table),
    ]
    if importance is not None and importance.dropna().size:
        paths += _write_feature_importance(out_dir, importance)
    if trials is not None and len(trials):
        paths.append(plot_search_loss(out_dir / "hyperopt_loss.png", trials))
    return paths


def category_errors(
    listings: pd.DataFrame, predicted: np.ndarray, baseline_predicted: np.ndarray
) -> pd.DataFrame:
    """Errors per top-level category, most rows first, then an "(all)" row for every listing."""
    actual, predicted, baseline_predicted = _validated(listings, predicted, baseline_predicted)
    residual = _log_residuals(actual, predicted)
    frame = pd.DataFrame(
        {
            "category": _top_categories(listings["category_name"]).to_numpy(),
            "squared": residual**2,
            "baseline_squared": _log_residuals(actual, baseline_predicted) ** 2,
            "absolute_error": np.abs(predicted - actual),
            "residual": residual,
            "price": actual,
        }
    )
    table = _error_table(frame).sort_values(["rows", "category"], ascending=[False, True])
    return pd.concat([table, _error_table(frame.assign(category=_ALL_ROWS))], ignore_index=True)


def _top_categories(category_name: pd.Series) -> pd.Series:
    """The part of each category name before the first "/"; missing or blank -> "(none)"."""
    top = category_name.astype("string").str.split("/", n=1).str[0].str.strip()
    top = top.mask(top == "", pd.NA).fillna(_NO_CATEGORY)
    return top.astype(object)


def _write_category_errors(out_dir: Path, table: pd.DataFrame) -> list[Path]:
    """Write the category table as `category_errors.csv` and `category_errors.html`."""
    csv_path = out_dir / "category_errors.csv"
    html_path = out_dir / "category_errors.html"
    table.to_csv(csv_path, index=False)
    html_table = table.to_html(index=False, float_format=lambda v: f"{v:,.4f}", border=0)
    total = int(table["rows"].iloc[-1])  # the "(all)" row
    html_path.write_text(_PAGE.substitute(rows=escape(f"{total:,}"), table=html_table))
    return [csv_path, html_path]


def _write_feature_importance(out_dir: Path, importance: pd.Series) -> list[Path]:
    """Write the top features by importance as `feature_importance.csv` and a bar chart."""
    top = importance.dropna().astype(float).sort_values(ascending=False, kind="stable")
    top = top.head(_TOP_FEATURES)
    table = pd.DataFrame({"feature": top.index.astype(str), "importance": top.to_numpy()})
    csv_path = out_dir / "feature_importance.csv"
    table.to_csv(csv_path, index=False)
    png_path = out_dir / "feature_importance.png"
    fig = Figure(figsize=(8, 1.5 + 0.28 * len(table)))
    ax = fig.subplots()
    ax.barh(table["feature"], table["importance"], color="tab:blue")
    ax.invert_yaxis()
    ax.set_xlabel("importance")
    ax.set_title(f"Feature importance (top {len(table)} of {importance.size})")
    save_figure(fig, png_path)
    return [csv_path, png_path]


def _plot_predicted_vs_actual(path: Path, actual: np.ndarray, predicted: np.ndarray) -> Path:
    """Hexbin of predicted against actual price on log1p axes, with the y = x line."""
    x, y = np.log1p(actual), np.log1p(predicted)
    low, high = _log_limits(np.concatenate([x, y]))
    fig = Figure(figsize=(7, 6))
    ax = fig.subplots()
    extent = (low, high, low, high)
    cells = ax.hexbin(x, y, gridsize=60, mincnt=1, norm=LogNorm(), extent=extent)
    fig.colorbar(cells, ax=ax, label="listings")
    ax.plot([low, high], [low, high], color="tab:red", linewidth=1, label="y = x")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    _dollar_ticks(ax, low, high)
    ax.set_xlabel("actual price")
    ax.set_ylabel("predicted price")
    score = float(np.sqrt(np.mean((y - x) ** 2)))
    ax.set_title(f"Predicted vs actual price: RMSLE {score:.4f}, {x.size:,} rows")
    ax.legend(loc="upper left")
    save_figure(fig, path)
    return path


def _plot_residuals_by_category(path: Path, categories: pd.Series, residuals: np.ndarray) -> Path:
    """Boxplot (no fliers) of log residuals per category, most rows at the top."""
    groups = pd.Series(residuals, index=categories.to_numpy()).groupby(level=0)
    counts = groups.size().rename_axis("category").reset_index(name="rows")
    counts = counts.sort_values(["rows", "category"], ascending=[True, False])  # most on top
    data = [_finite(groups.get_group(name).to_numpy()) for name in counts["category"]]
    labels = [f"{name} (n={rows:,})" for name, rows in counts.itertuples(index=False)]
    fig = Figure(figsize=(8, 1.5 + 0.4 * len(data)))
    ax = fig.subplots()
    ax.boxplot(data, orientation="horizontal", showfliers=False, tick_labels=labels)
    ax.axvline(0, color="tab:red", linewidth=1)
    ax.set_xlabel("log1p(predicted) - log1p(actual)  (positive = over-predicts)")
    ax.set_title("Log residuals by top-level category")
    save_figure(fig, path)
    return path


def plot_search_loss(path: Path, trials: pd.DataFrame) -> Path:
    """Loss per Hyperopt trial, failed trials as x marks at the top edge, and the running best."""
    trials = trials.sort_values("trial", kind="stable")
    number = trials["trial"].to_numpy()
    loss = pd.to_numeric(trials["loss"], errors="coerce").to_numpy(dtype=float)
    status = trials["status"] if "status" in trials else pd.Series("ok", index=trials.index)
    failed = (status.fillna("fail").astype(str) != "ok").to_numpy() | ~np.isfinite(loss)
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    ok_loss = np.where(failed, np.nan, loss)
    ax.plot(number[~failed], loss[~failed], "o", color="tab:blue", label="loss")
    ax.step(number, np.fmin.accumulate(ok_loss), where="post", color="tab:green", label="best")
    if failed.any():
        top_edge = np.ones(int(failed.sum()))  # in axes coordinates: y = 1 is the top edge
        ax.plot(
            number[failed],
            top_edge,
            "x",
            color="tab:red",
            clip_on=False,
            transform=ax.get_xaxis_transform(),
            label=f"failed ({top_edge.size})",
        )
    ax.set_xlabel("trial")
    ax.set_ylabel("loss")
    ax.set_title(f"Hyperopt: {len(trials)} trials, best loss {_best(ok_loss)}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save_figure(fig, path)
    return path


def _validated(
    listings: pd.DataFrame, predicted, baseline_predicted
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Actual, predicted and baseline prices as float arrays, after checking they line up."""
    missing = {"price", "category_name"} - set(listings.columns)
    if missing:
        raise ValueError(f"listings lacks column(s) {sorted(missing)}")
    if len(listings) == 0:
        raise ValueError("listings is empty: there is nothing to diagnose")
    predicted = np.asarray(predicted, dtype=float).ravel()
    baseline_predicted = np.asarray(baseline_predicted, dtype=float).ravel()
    if not len(listings) == predicted.size == baseline_predicted.size:
        raise ValueError(
            f"lengths differ: {len(listings)} listings, {predicted.size} predicted prices, "
            f"{baseline_predicted.size} baseline predicted prices"
        )
    return listings["price"].to_numpy(dtype=float), predicted, baseline_predicted


def _log_residuals(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return np.log1p(predicted) - np.log1p(actual)


def _error_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row of errors per category of `frame` (its columns as built in `category_errors`)."""
    table = frame.groupby("category", as_index=False).agg(
        rows=("price", "size"),
        rmsle=("squared", "mean"),
        baseline_rmsle=("baseline_squared", "mean"),
        mae=("absolute_error", "mean"),
        bias=("residual", "mean"),
        median_price=("price", "median"),
    )
    table[["rmsle", "baseline_rmsle"]] = np.sqrt(table[["rmsle", "baseline_rmsle"]])
    return table[list(_CATEGORY_COLUMNS)]


def _log_limits(values: np.ndarray) -> tuple[float, float]:
    """Common axis limits for log1p prices, padded a little (and never empty)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    pad = max(0.05 * (high - low), 0.25)
    return low - pad, high + pad


def _dollar_ticks(ax, low: float, high: float) -> None:
    """Label both log1p axes in dollars at the round prices inside [low, high]."""
    dollars = [d for d in _DOLLAR_TICKS if low <= np.log1p(d) <= high]
    positions = np.log1p(dollars)
    labels = [f"${d // 1000:,}k" if d >= 1000 else f"${d}" for d in dollars]
    ax.set_xticks(positions, labels)
    ax.set_yticks(positions, labels)


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def _best(loss: np.ndarray) -> str:
    return f"{np.nanmin(loss):.4f}" if np.isfinite(loss).any() else "none (all failed)"


def save_figure(fig: Figure, path: Path) -> None:
    """Write `fig` as a PNG at the diagnostics resolution, trimmed to its contents."""
    fig.savefig(path, dpi=_DPI, bbox_inches="tight")
