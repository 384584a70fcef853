"""Model stages with their I/O: what a DAG task or a CLI command calls, one function each (the
data stages, which need no MLflow, are `price_alchemy.data_stages`).

Each stage reads its inputs from URIs, calls the pure stage logic, writes its outputs and
returns small metadata (URIs, ids, metrics) that fits in an Airflow XCom.
"""

import tempfile
import time
from pathlib import Path

import mlflow
import pandas as pd

from price_alchemy.baseline import GroupMedianRegressor
from price_alchemy.diagnostics import plot_search_loss, write_diagnostics
from price_alchemy.evaluate import score_prices
from price_alchemy.params import Params, apply_overrides, load_params
from price_alchemy.price_range import range_coverage
from price_alchemy.registry import register_model
from price_alchemy.reproduce import PARAMS_ARTIFACT, reproduce_run
from price_alchemy.settings import Settings, get_settings
from price_alchemy.tracking import (
    code_version_tags,
    ensure_experiment,
    flatten_params,
    load_price_model,
    log_price_model,
    use_tracking,
)
from price_alchemy.train import (
    blend_of,
    feature_importance,
    fit_model,
    predict_members,
    sample_listings,
    split_listings,
)
from price_alchemy.tune import SearchResult, search


def _params(settings: Settings) -> Params:
    return load_params(settings.params_file)


def _splits(clean_uri: str, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    return split_listings(pd.read_parquet(clean_uri), params.split)


def snapshot_tags(snapshot: dict) -> dict[str, str]:
    """MLflow tags that trace a model to its exact data (MLflow caps tag values at 8k)."""
    keys = ("uri", "rows", "sha256", "start", "end", "warehouse", "query", "parameters")
    return {f"snapshot.{key}": str(snapshot.get(key, ""))[:8000] for key in keys}


def _log_validation(validation: dict) -> None:
    counts = ("rows_in", "rows_passed", "rows_quarantined", "rows_cleaned")
    mlflow.log_metrics({f"validation.{k}": validation[k] for k in counts if k in validation})
    for key in ("report_json_uri", "report_html_uri"):
        if validation.get(key):
            mlflow.log_artifact(validation[key], artifact_path="validation")


def run_tune(
    validation: dict,
    snapshot: dict,
    max_evals: int | None = None,
    timeout: int | None = None,
    sample_rows: int | None = None,
    settings: Settings | None = None,
) -> dict:
    """Search LightGBM, Ridge and feature parameters with Hyperopt on a sample of the training
    split, in a parent MLflow run with a nested run per trial; returns the best overrides.
    `max_evals`, `timeout` (seconds) and `sample_rows` default to params.yaml's `search`
    section; 0 trials skips."""
    settings = settings or get_settings()
    params = _params(settings)
    max_evals = params.search.max_evals if max_evals is None else max_evals
    timeout = timeout or params.search.timeout_seconds
    if max_evals == 0:
        return {"search_run_id": None, "best": {}, "skipped": "max_evals is 0"}
    train, _ = _splits(validation["clean_uri"], params)
    sample = sample_listings(train, sample_rows or params.search.sample_rows, params.search.seed)
    tags = snapshot_tags(snapshot) | code_version_tags() | {"kind": "search"}
    with mlflow.start_run(experiment_id=ensure_experiment(settings), run_name="search", tags=tags):
        mlflow.log_params({"max_evals": max_evals, "timeout": timeout, "sample": len(sample)})
        started = time.perf_counter()
        result = search(sample, params, max_evals, timeout)
        seconds = time.perf_counter() - started
        mlflow.log_metrics(_search_metrics(result, seconds))
        _log_trials(result.trials)
    return result.to_dict() | {"search_seconds": seconds}


def _search_metrics(result: SearchResult, seconds: float) -> dict[str, float]:
    return {
        "best_rmsle": result.best_rmsle,
        "start_rmsle": result.start_rmsle,
        "search_seconds": seconds,
        "trials": len(result.trials),
    }


def _log_trials(trials: pd.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as folder:
        trials.to_csv(Path(folder) / "trials.csv", index=False)
        plot_search_loss(Path(folder) / "hyperopt_loss.png", trials)
        mlflow.log_artifacts(folder, artifact_path="search")


def run_train(
    validation: dict,
    snapshot: dict,
    tuned: dict | None = None,
    reason: str = "",
    settings: Settings | None = None,
) -> str:
    """Fit the model on the training split of the validated snapshot in a new MLflow run,
    with the search's best overrides (`tuned`, from `run_tune`) if any, traced to its data
    (snapshot tags, validation report), its code and why it ran (`reason`, the tag
    trigger.reason); returns the run id."""
    settings = settings or get_settings()
    tuned = tuned or {}
    params = apply_overrides(_params(settings), tuned.get("best", {}))
    train, test = _splits(validation["clean_uri"], params)
    tags = snapshot_tags(snapshot) | code_version_tags() | _lineage_tags(validation, tuned)
    tags["trigger.reason"] = reason[:8000]
    with mlflow.start_run(experiment_id=ensure_experiment(settings), tags=tags) as run:
        mlflow.log_params(flatten_params(params.model_dump()))
        mlflow.log_dict(params.model_dump(), PARAMS_ARTIFACT)
        mlflow.log_metrics({"train_rows": len(train), "test_rows": len(test)})
        if "search_seconds" in tuned:
            mlflow.log_metric("search_seconds", tuned["search_seconds"])
        _log_validation(validation)
        started = time.perf_counter()
        model = fit_model(train, params)
        mlflow.log_metric("fit_seconds", time.perf_counter() - started)
        _log_blend(model)
        mlflow.set_tag("model_uri", log_price_model(model, train))
    return run.info.run_id


def _lineage_tags(validation: dict, tuned: dict) -> dict[str, str]:
    tags = {"kind": "training", "validation.clean_uri": validation["clean_uri"]}
    if tuned.get("search_run_id"):
        tags["search_run_id"] = tuned["search_run_id"]
    return tags


def _log_blend(model) -> None:
    _, blend = blend_of(model)
    mlflow.log_metrics({f"blend_weight_{name}": w for name, w in blend.weights().items()})
    mlflow.log_metric("lgbm_trees", blend.members_["lgbm"].booster_.booster_.num_trees())


def run_evaluate(run_id: str, clean_uri: str, settings: Settings | None = None) -> dict:
    """Score the run's blend, each of its members and the rules baseline on the held-out
    split, and the measured coverage of the price range; log them with the diagnostics
    (plots, per-category errors, feature importance, search loss) and return the metrics."""
    settings = settings or get_settings()
    client = use_tracking(settings)
    run = client.get_run(run_id)
    params = _params(settings)
    train, test = _splits(clean_uri, params)
    model = load_price_model(run.data.tags["model_uri"])
    baseline = GroupMedianRegressor(min_group_size=params.baseline.min_group_size)
    baseline.fit(train, train["price"])
    predictions = predict_members(model, test)
    predicted, baseline_predicted = predictions.pop("blend"), baseline.predict(test)
    metrics = _scores(model, test, predicted, predictions, baseline_predicted)
    for key, value in metrics.items():
        client.log_metric(run_id, key, value)
    trials = _search_trials(client, run.data.tags.get("search_run_id"))
    with tempfile.TemporaryDirectory() as folder:
        write_diagnostics(
            Path(folder), test, predicted, baseline_predicted, feature_importance(model), trials
        )
        client.log_artifacts(run_id, folder, artifact_path="diagnostics")
    return metrics


def _scores(model, test: pd.DataFrame, predicted, members: dict, baseline_predicted) -> dict:
    actual = test["price"]
    metrics = {f"model_{k}": v for k, v in score_prices(actual, predicted).items()}
    for member, member_predicted in members.items():
        metrics |= {f"{member}_{k}": v for k, v in score_prices(actual, member_predicted).items()}
    metrics |= {f"baseline_{k}": v for k, v in score_prices(actual, baseline_predicted).items()}
    return metrics | {
        "range_coverage": range_coverage(model, test, predicted),
        "range_nominal": model.coverage,
    }


def _search_trials(client, search_run_id: str | None) -> pd.DataFrame | None:
    """The search's trials (from its artifact), or None when the run was not tuned."""
    if not search_run_id:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = client.download_artifacts(search_run_id, "search/trials.csv", folder)
        return pd.read_csv(path)


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


def run_reproduce(run_id: str, tolerance: float = 1e-6, settings: Settings | None = None) -> dict:
    """Retrain a training run from its snapshot and parameters; compare the test RMSLE."""
    client = use_tracking(settings or get_settings())
    return reproduce_run(client, run_id, tolerance).to_dict()
