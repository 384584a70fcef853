"""The online report with its I/O: what `price-alchemy online-report` and the monitoring DAG's
`online_report` task call. It joins the prediction log with the outcomes in the store, counts a
listing the warehouse holds with a price as sold at that price, computes the measures
(`monitoring.online`), writes the report under the state directory and logs it, with a metric
per version and arm, to the monitoring experiment in MLflow.
"""

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import mlflow
import pandas as pd

from price_alchemy.data.backends import open_warehouse
from price_alchemy.data.extract import naive_utc, window_key
from price_alchemy.data.prediction_store import open_prediction_store
from price_alchemy.lifecycle import names
from price_alchemy.lifecycle.registry import alias_version, holding_since
from price_alchemy.lifecycle.tracking import code_version_tags, ensure_experiment, use_tracking
from price_alchemy.monitoring.online import (
    daily_rmsle,
    latest_suggestions,
    rmsle_difference,
    version_metrics,
)
from price_alchemy.monitoring.online_report import write_online_report
from price_alchemy.params import load_params
from price_alchemy.records import Record
from price_alchemy.settings import Settings, get_settings

PAIR_COLUMNS = (
    "listing_id", "arm", "model_version", "served", "price", "low", "high", "created_at",
    "sold_price", "listed_price",
)  # fmt: skip


@dataclass(frozen=True)
class OnlineReport(Record):
    """The online measures of a window of logged suggestions, and where they were written."""

    start: str
    end: str
    suggestions: int
    with_sale: int
    versions: list[dict] = field(default_factory=list)
    difference: dict | None = None  # the current challenger against the current champion
    champion_version: str | None = None
    challenger_version: str | None = None
    report_uri: str = ""
    mlflow_run_id: str = ""


def read_pairs(settings: Settings, start: datetime, end: datetime) -> pd.DataFrame:
    """The window's live suggestions with their listing's sale and listed prices: the store's
    outcomes, and for listings without a posted sale the warehouse's price of that id."""
    store = open_prediction_store(settings)
    try:
        pairs = store.read_outcome_pairs(start, end)
    finally:
        store.close()
    if pairs is None:
        return pd.DataFrame(columns=list(PAIR_COLUMNS))
    return _with_warehouse_sales(pairs, settings)


def _with_warehouse_sales(pairs: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    unsold = pairs.loc[pairs["sold_price"].isna(), "listing_id"].dropna().astype(str)
    ids = sorted({int(i) for i in unsold if i.isdigit() and len(i) < 19})
    prices = open_warehouse(settings).prices_of(ids) if ids else {}
    if not prices:
        return pairs
    known = pairs["listing_id"].astype(str).map({str(i): p for i, p in prices.items()})
    return pairs.assign(sold_price=pairs["sold_price"].fillna(known.astype(float)))


def run_online_report(
    end: datetime, days: int | None = None, settings: Settings | None = None
) -> OnlineReport:
    """The online report of the suggestions logged in the `days` days (None: the params
    file's `online.days`) before `end`."""
    settings = settings or get_settings()
    online = load_params(settings.params_file).online
    days = days or online.days
    end = naive_utc(end)
    start = end - timedelta(days=days)
    pairs = latest_suggestions(read_pairs(settings, start, end))
    client = use_tracking(settings)
    champion = alias_version(client, settings.model_name, settings.model_alias)
    challenger = alias_version(client, settings.model_name, settings.challenger_alias)
    difference = None
    if champion and challenger:
        compared = (champion, challenger)
        evidence = _experiment_pairs(settings, client, compared, (start, end), pairs)
        difference = rmsle_difference(evidence, versions=compared, planned=online.planned_listings)
    report: dict = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "suggestions": int(len(pairs)),
        "with_sale": int(pairs["sold_price"].notna().sum()),
        "versions": version_metrics(pairs),
        "difference": difference,
        "champion_version": champion,
        "challenger_version": challenger,
    }
    out_dir = settings.monitoring_dir / "online" / window_key(start, end)
    page = write_online_report(report, daily_rmsle(pairs), out_dir)
    run_id = _log(settings, report, out_dir)
    return OnlineReport(**report, report_uri=str(page), mlflow_run_id=run_id)


def _experiment_pairs(
    settings: Settings, client, versions: tuple[str, str], window: tuple[datetime, datetime], pairs
) -> pd.DataFrame:
    """The suggestions of the experiment between the champion and the challenger `versions`:
    all since both held their aliases, however long ago (the interval that decides is valid
    at every look only when each look keeps every earlier observation), none from before;
    `pairs`: those of the report's `window`, read again only when the experiment is older."""
    name = settings.model_name
    began = max(
        holding_since(client, name, versions[0], names.CHAMPION),
        holding_since(client, name, versions[1], names.CHALLENGER),
    )
    start, end = window
    if began < start:
        return latest_suggestions(read_pairs(settings, began, end))
    return pairs[pd.to_datetime(pairs["created_at"]) >= pd.Timestamp(began)]


def _log(settings: Settings, report: dict, out_dir) -> str:
    tags = code_version_tags() | {names.KIND: "online", "window.end": report["end"]}
    experiment = ensure_experiment(settings, settings.monitoring_experiment)
    name = f"online {report['start'][:10]} .. {report['end'][:10]}"
    with mlflow.start_run(experiment_id=experiment, run_name=name, tags=tags) as run:
        mlflow.log_metrics({"suggestions": report["suggestions"], "with_sale": report["with_sale"]})
        mlflow.log_metrics(_version_metrics(report["versions"]))
        difference = report["difference"] or {}
        for key in ("difference", "low", "high", "anytime_low", "anytime_high"):
            if key in difference:
                mlflow.log_metric(f"rmsle_difference_{key}", difference[key])
        mlflow.log_artifacts(str(out_dir), artifact_path="online")
        mlflow.set_tag("report.generated_at", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    return run.info.run_id


def _version_metrics(versions: list[dict]) -> dict[str, float]:
    metrics = {}
    for v in versions:
        label = f"v{v['model_version']}_{v['arm']}" + ("" if v["served"] else "_shadow")
        for key in ("suggestions", "with_sale", "rmsle", "mae", "range_coverage", "acceptance"):
            if v[key] is not None:
                metrics[f"online_{key}_{label}"] = float(v[key])
    return metrics
