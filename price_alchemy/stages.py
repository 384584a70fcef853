"""Pipeline stages with their I/O: what a DAG task or a CLI command calls, one function each.

Each stage reads its inputs from URIs, calls the pure stage logic, writes its outputs and
returns small metadata (URIs, ids, metrics) that fits in an Airflow XCom.
"""

import time
from datetime import datetime
from pathlib import Path

import mlflow
import pandas as pd

from price_alchemy.baseline import GroupMedianRegressor
from price_alchemy.evaluate import score_model
from price_alchemy.extract import extract_window
from price_alchemy.load import load_file
from price_alchemy.params import Params, load_params
from price_alchemy.price_range import range_coverage
from price_alchemy.registry import register_model
from price_alchemy.settings import Settings, get_settings
from price_alchemy.snapshot_profile import find_previous_profile
from price_alchemy.tracking import (
    ensure_experiment,
    flatten_params,
    load_price_model,
    log_price_model,
    use_tracking,
)
from price_alchemy.train import fit_model, split_listings
from price_alchemy.validate import validate_snapshot
from price_alchemy.warehouse import open_warehouse


def _params(settings: Settings) -> Params:
    return load_params(settings.params_file)


def _splits(clean_uri: str, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    return split_listings(pd.read_parquet(clean_uri), params.split)


def run_load(
    source: Path, loaded_at: datetime, replace: bool = False, settings: Settings | None = None
) -> dict:
    """Load a TSV, CSV or Parquet file of listings into the warehouse; returns the summary."""
    settings = settings or get_settings()
    warehouse = open_warehouse(settings)
    summary = load_file(warehouse, source, settings.home / "loads", loaded_at, replace)
    return summary.to_dict() | {"warehouse": warehouse.describe()}


def snapshot_tags(snapshot: dict) -> dict[str, str]:
    """MLflow tags that trace a model to its exact data (MLflow caps tag values at 8k)."""
    keys = ("uri", "rows", "sha256", "start", "end", "warehouse", "query", "parameters")
    return {f"snapshot.{key}": str(snapshot.get(key, ""))[:8000] for key in keys}


def run_extract(start: datetime, end: datetime, settings: Settings | None = None) -> dict:
    """Snapshot the window `[start, end)` of the warehouse; returns the snapshot record."""
    settings = settings or get_settings()
    snapshot = extract_window(open_warehouse(settings), start, end, settings.snapshots_dir)
    return snapshot.to_dict()


def run_validate(snapshot_uri: str, settings: Settings | None = None) -> dict:
    """Validate a snapshot against its rules and the previous snapshot's profile; returns the
    clean, quarantine and report URIs, the row counts and each check's result."""
    settings = settings or get_settings()
    previous = find_previous_profile(settings.snapshots_dir, snapshot_uri)
    return validate_snapshot(snapshot_uri, _params(settings).validation, previous).to_dict()


def _log_validation(validation: dict) -> None:
    counts = ("rows_in", "rows_passed", "rows_quarantined", "rows_cleaned")
    mlflow.log_metrics({f"validation.{k}": validation[k] for k in counts if k in validation})
    for key in ("report_json_uri", "report_html_uri"):
        if validation.get(key):
            mlflow.log_artifact(validation[key], artifact_path="validation")


def run_train(validation: dict, snapshot: dict, settings: Settings | None = None) -> str:
    """Fit the model on the training split of the validated snapshot in a new MLflow run,
    traced to its data (snapshot tags, validation report); returns the run id."""
    settings = settings or get_settings()
    params = _params(settings)
    train, test = _splits(validation["clean_uri"], params)
    experiment_id = ensure_experiment(settings)
    with mlflow.start_run(experiment_id=experiment_id, tags=snapshot_tags(snapshot)) as run:
        mlflow.log_params(flatten_params(params.model_dump()))
        mlflow.log_metrics({"train_rows": len(train), "test_rows": len(test)})
        _log_validation(validation)
        started = time.perf_counter()
        model = fit_model(train, params)
        mlflow.log_metric("fit_seconds", time.perf_counter() - started)
        mlflow.set_tag("model_uri", log_price_model(model, train))
    return run.info.run_id


def run_evaluate(run_id: str, clean_uri: str, settings: Settings | None = None) -> dict:
    """Score the run's model and the rules baseline on the held-out split, and the measured
    coverage of the model's price range; log and return."""
    settings = settings or get_settings()
    params = _params(settings)
    client = use_tracking(settings)
    train, test = _splits(clean_uri, params)
    model = load_price_model(client.get_run(run_id).data.tags["model_uri"])
    baseline = GroupMedianRegressor(min_group_size=params.baseline.min_group_size)
    baseline.fit(train, train["price"])
    metrics = {f"model_{k}": v for k, v in score_model(model, test).items()}
    metrics |= {"range_coverage": range_coverage(model, test), "range_nominal": model.coverage}
    metrics |= {f"baseline_{k}": v for k, v in score_model(baseline, test).items()}
    for key, value in metrics.items():
        client.log_metric(run_id, key, value)
    return metrics


def run_register(
    run_id: str, clean_uri: str, promote: str = "auto", settings: Settings | None = None
) -> dict:
    """Register the run's model as challenger and apply the promotion gate (`promote`: auto,
    force or never); logs both scores and the decision to the run and returns them."""
    settings = settings or get_settings()
    params = _params(settings)
    client = use_tracking(settings)
    _, test = _splits(clean_uri, params)
    model_uri = client.get_run(run_id).data.tags["model_uri"]
    registration = register_model(
        client, settings.model_name, run_id, model_uri, test, params.promotion.margin, promote
    )
    client.set_tag(run_id, "promoted", str(registration.promoted))
    client.set_tag(run_id, "promotion.decision", registration.decision)
    if registration.champion_rmsle is not None:
        client.log_metric(run_id, "champion_rmsle_same_split", registration.champion_rmsle)
    return registration.to_dict()
