"""Model stages with their I/O: what a DAG task or a CLI command calls, one function each (the
data stages, which need no MLflow, are `data_stages`).

Each stage reads its inputs from URIs and the typed results of the stages before it, calls the
pure stage logic, writes its outputs to MLflow and returns a small typed result (`Record`) that
crosses an Airflow XCom as a dict.
"""

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from price_alchemy.data.extract import Snapshot
from price_alchemy.lifecycle import names
from price_alchemy.lifecycle.registry import PromoteMode, Registration, register_model
from price_alchemy.lifecycle.reproduce import Reproduction, reproduce_run
from price_alchemy.lifecycle.tracking import (
    code_version_tags,
    ensure_experiment,
    flatten_params,
    load_price_model,
    log_price_model,
    use_tracking,
)
from price_alchemy.model.baseline import GroupMedianRegressor
from price_alchemy.model.diagnostics import plot_search_loss, write_diagnostics
from price_alchemy.model.metrics import score_prices
from price_alchemy.model.price_range import range_coverage
from price_alchemy.model.train import (
    blend_summary,
    feature_importance,
    fit_model,
    predict_members,
    sample_listings,
    split_listings,
)
from price_alchemy.model.tune import SearchResult, Trial, search
from price_alchemy.params import Params, apply_overrides, load_params
from price_alchemy.records import Record
from price_alchemy.settings import Settings, get_settings
from price_alchemy.validation.validate import ValidationResult


@dataclass(frozen=True)
class Tuning(Record):
    """What the search found (`best`: params overrides), or why it was skipped."""

    search_run_id: str | None
    best: dict = field(default_factory=dict)
    best_rmsle: float | None = None
    start_rmsle: float | None = None
    trials: int = 0
    failed_trials: int = 0
    search_seconds: float | None = None
    skipped: str | None = None


@dataclass(frozen=True)
class Evaluation(Record):
    """A training run's scores on the held-out split (metric name -> value)."""

    run_id: str
    metrics: dict[str, float]

    @property
    def rmsle(self) -> float:
        return self.metrics[names.MODEL_RMSLE]


def _params(settings: Settings) -> Params:
    return load_params(settings.params_file)


def _splits(clean_uri: str, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    return split_listings(pd.read_parquet(clean_uri), params.split)


def snapshot_tags(snapshot: Snapshot) -> dict[str, str]:
    """MLflow tags that trace a model to its exact data (MLflow caps tag values at 8k)."""
    return {
        names.SNAPSHOT_PREFIX + key: str(value)[:8000] for key, value in snapshot.to_dict().items()
    }


def _log_validation(validation: ValidationResult) -> None:
    counts = ("rows_in", "rows_passed", "rows_quarantined", "rows_cleaned")
    found = {key: getattr(validation, key) for key in counts}
    mlflow.log_metrics({f"validation.{k}": v for k, v in found.items() if v is not None})
    for uri in (validation.report_json_uri, validation.report_html_uri):
        if uri:
            mlflow.log_artifact(uri, artifact_path="validation")


def run_tune(
    validation: ValidationResult,
    snapshot: Snapshot,
    max_evals: int | None = None,
    timeout: int | None = None,
    sample_rows: int | None = None,
    settings: Settings | None = None,
) -> Tuning:
    """Search LightGBM, Ridge and feature parameters with Hyperopt on a sample of the training
    split, in a parent MLflow run with a nested run per trial. `max_evals`, `timeout` (seconds)
    and `sample_rows` default to params.yaml's `search` section; 0 trials skips."""
    settings = settings or get_settings()
    params = _params(settings)
    max_evals = params.search.max_evals if max_evals is None else max_evals
    timeout = timeout or params.search.timeout_seconds
    if max_evals == 0:
        return Tuning(search_run_id=None, skipped="max_evals is 0")
    train, _ = _splits(validation.clean_uri, params)
    sample = sample_listings(train, sample_rows or params.search.sample_rows, params.search.seed)
    tags = snapshot_tags(snapshot) | code_version_tags() | {names.KIND: "search"}
    client = use_tracking(settings)
    experiment = ensure_experiment(settings)
    with mlflow.start_run(experiment_id=experiment, run_name="search", tags=tags) as run:
        parent = run.info.run_id
        mlflow.log_params({"max_evals": max_evals, "timeout": timeout, "sample": len(sample)})
        started = time.perf_counter()
        result = search(sample, params, max_evals, timeout, trial_logger(client, parent))
        seconds = time.perf_counter() - started
        mlflow.log_metrics(_search_metrics(result, seconds))
        _log_trials(result.trials)
    return Tuning(
        parent,
        result.best,
        result.best_rmsle,
        result.start_rmsle,
        len(result.trials),
        result.failed_trials,
        seconds,
    )


def trial_logger(client: MlflowClient, parent_run_id: str):
    """A search's `on_trial`: each finished trial as a run nested under `parent_run_id`, with
    the trial's own start and end time."""
    experiment_id = client.get_run(parent_run_id).info.experiment_id

    def log(trial: Trial) -> None:
        started_ms = int(trial.started * 1000)
        tags = {MLFLOW_PARENT_RUN_ID: parent_run_id, names.TRIAL_STATUS: trial.status}
        run_id = client.create_run(
            experiment_id, start_time=started_ms, tags=tags, run_name=trial.name
        ).info.run_id
        metrics = [Metric("seconds", trial.seconds, started_ms, 0)]
        if trial.status == "ok":
            metrics.append(Metric("rmsle", trial.loss, started_ms, 0))
        error = [RunTag(names.TRIAL_ERROR, trial.error[:5000])] if trial.error else []
        params = [Param(key, str(value)) for key, value in trial.overrides.items()]
        client.log_batch(run_id, metrics=metrics, params=params, tags=error)
        status = "FINISHED" if trial.status == "ok" else "FAILED"
        client.set_terminated(run_id, status, end_time=started_ms + int(trial.seconds * 1000))

    return log


def _search_metrics(result: SearchResult, seconds: float) -> dict[str, float]:
    return {
        "best_rmsle": result.best_rmsle,
        "start_rmsle": result.start_rmsle,
        "search_seconds": seconds,
        "trials": len(result.trials),
    }


def _log_trials(trials: pd.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as folder:
        trials.to_csv(Path(folder) / Path(names.TRIALS_ARTIFACT).name, index=False)
        plot_search_loss(Path(folder) / "hyperopt_loss.png", trials)
        mlflow.log_artifacts(folder, artifact_path=str(Path(names.TRIALS_ARTIFACT).parent))


def run_train(
    validation: ValidationResult,
    snapshot: Snapshot,
    tuned: Tuning | None = None,
    reason: str = "",
    settings: Settings | None = None,
) -> str:
    """Fit the model on the training split of the validated snapshot in a new MLflow run,
    with the search's best overrides (`tuned`) if any, traced to its data (snapshot tags,
    validation report), its code and why it ran (`reason`); returns the run id."""
    settings = settings or get_settings()
    tuned = tuned or Tuning(search_run_id=None)
    params = apply_overrides(_params(settings), tuned.best)
    train, test = _splits(validation.clean_uri, params)
    tags = snapshot_tags(snapshot) | code_version_tags() | _lineage_tags(validation, tuned)
    tags[names.TRIGGER_REASON] = reason[:8000]
    with mlflow.start_run(experiment_id=ensure_experiment(settings), tags=tags) as run:
        mlflow.log_params(flatten_params(params.model_dump()))
        mlflow.log_dict(params.model_dump(), names.PARAMS_ARTIFACT)
        mlflow.log_metrics({"train_rows": len(train), "test_rows": len(test)})
        if tuned.search_seconds is not None:
            mlflow.log_metric("search_seconds", tuned.search_seconds)
        _log_validation(validation)
        started = time.perf_counter()
        model = fit_model(train, params)
        mlflow.log_metric("fit_seconds", time.perf_counter() - started)
        mlflow.log_metrics(blend_summary(model))
        mlflow.set_tag(names.MODEL_URI, log_price_model(model, train))
    return run.info.run_id


def _lineage_tags(validation: ValidationResult, tuned: Tuning) -> dict[str, str]:
    tags = {names.KIND: "training", names.CLEAN_URI: validation.clean_uri}
    if tuned.search_run_id:
        tags[names.SEARCH_RUN_ID] = tuned.search_run_id
    return tags


def run_evaluate(
    run_id: str, validation: ValidationResult, settings: Settings | None = None
) -> Evaluation:
    """Score the run's blend, each of its members and the rules baseline on the held-out
    split, and the measured coverage of the price range; log them with the diagnostics
    (plots, per-category errors, feature importance, search loss)."""
    settings = settings or get_settings()
    client = use_tracking(settings)
    run = client.get_run(run_id)
    params = _params(settings)
    train, test = _splits(validation.clean_uri, params)
    model = load_price_model(run.data.tags[names.MODEL_URI])
    baseline = GroupMedianRegressor(min_group_size=params.baseline.min_group_size)
    baseline.fit(train, train["price"])
    predictions = predict_members(model, test)
    predicted, baseline_predicted = predictions.pop("blend"), baseline.predict(test)
    metrics = _scores(model, test, predicted, predictions, baseline_predicted)
    for key, value in metrics.items():
        client.log_metric(run_id, key, value)
    trials = _search_trials(client, run.data.tags.get(names.SEARCH_RUN_ID))
    with tempfile.TemporaryDirectory() as folder:
        write_diagnostics(
            Path(folder), test, predicted, baseline_predicted, feature_importance(model), trials
        )
        client.log_artifacts(run_id, folder, artifact_path="diagnostics")
    return Evaluation(run_id, metrics)


def _row_scores(row: str, actual, predicted) -> dict[str, float]:
    scores = score_prices(actual, predicted)
    return {names.score_metric(row, score): value for score, value in scores.items()}


def _scores(model, test: pd.DataFrame, predicted, members: dict, baseline_predicted) -> dict:
    actual = test["price"]
    metrics = _row_scores(names.MODEL_ROW, actual, predicted)
    for member, member_predicted in members.items():
        metrics |= _row_scores(member, actual, member_predicted)
    metrics |= _row_scores(names.BASELINE_ROW, actual, baseline_predicted)
    return metrics | {
        names.RANGE_COVERAGE: range_coverage(model, test, predicted),
        names.RANGE_NOMINAL: model.coverage,
    }


def _search_trials(client, search_run_id: str | None) -> pd.DataFrame | None:
    """The search's trials (from its artifact), or None when the run was not tuned."""
    if not search_run_id:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = client.download_artifacts(search_run_id, names.TRIALS_ARTIFACT, folder)
        return pd.read_csv(path)


def run_register(
    evaluation: Evaluation,
    validation: ValidationResult,
    promote: PromoteMode = "auto",
    settings: Settings | None = None,
) -> Registration:
    """Register the evaluated run's model as challenger and apply the promotion gate
    (`promote`: auto, force or never); logs the champion's score on the same split and the
    decision to the run."""
    settings = settings or get_settings()
    params = _params(settings)
    client = use_tracking(settings)
    _, test = _splits(validation.clean_uri, params)
    run_id = evaluation.run_id
    model_uri = client.get_run(run_id).data.tags[names.MODEL_URI]
    registration = register_model(
        client,
        settings.model_name,
        run_id,
        model_uri,
        evaluation.rmsle,
        test,
        params.promotion.margin,
        promote,
    )
    client.set_tag(run_id, names.PROMOTED, str(registration.promoted))
    client.set_tag(run_id, names.PROMOTION_DECISION, registration.decision)
    if registration.champion_rmsle is not None:
        client.log_metric(run_id, names.CHAMPION_SAME_SPLIT, registration.champion_rmsle)
    return registration


def run_reproduce(
    run_id: str, tolerance: float = 1e-6, settings: Settings | None = None
) -> Reproduction:
    """Retrain a training run from its snapshot and parameters; compare the test RMSLE."""
    client = use_tracking(settings or get_settings())
    return reproduce_run(client, run_id, tolerance)
