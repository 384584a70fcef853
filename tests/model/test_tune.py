"""The Hyperopt search: nested MLflow runs per trial, seeded, failures recorded and skipped,
and its best parameters carried into the training run (real MLflow store under tmp_path)."""

import mlflow
import pandas as pd
import pytest

from price_alchemy.lifecycle.tracking import ensure_experiment, use_tracking
from price_alchemy.model import tune
from price_alchemy.params import load_params
from price_alchemy.pipeline import data_stages, model_stages
from tests.support.listings import WINDOW


@pytest.fixture
def prepared(loaded_settings):
    snapshot = data_stages.run_extract(*WINDOW, settings=loaded_settings)
    validation = data_stages.run_validate(snapshot.uri, settings=loaded_settings)
    return loaded_settings, snapshot, validation


def _children(client, experiment_id: str, parent: str):
    return client.search_runs([experiment_id], f"tags.mlflow.parentRunId = '{parent}'")


def test_search_logs_one_parent_and_a_nested_run_per_trial(prepared):
    settings, snapshot, validation = prepared
    result = model_stages.run_tune(
        validation, snapshot, max_evals=3, timeout=600, settings=settings
    )
    client = use_tracking(settings)
    parent = client.get_run(result.search_run_id)
    assert parent.data.tags["kind"] == "search"
    assert parent.data.tags["snapshot.sha256"] == snapshot.sha256
    children = _children(client, parent.info.experiment_id, parent.info.run_id)
    assert len(children) == result.trials == 3
    for child in children:
        assert child.data.tags["trial.status"] == "ok"
        assert {"rmsle", "seconds"} <= set(child.data.metrics)
        assert set(tune.search_space()) <= set(child.data.params)
    losses = [child.data.metrics["rmsle"] for child in children]
    assert result.best_rmsle == pytest.approx(min(losses))
    assert result.best_rmsle <= result.start_rmsle
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id, "search")}
    assert artifacts == {"search/trials.csv", "search/hyperopt_loss.png"}


def test_first_trial_is_the_current_parameters(prepared):
    settings, snapshot, validation = prepared
    result = model_stages.run_tune(validation, snapshot, max_evals=1, settings=settings)
    params = load_params(settings.params_file)
    assert result.best["model.num_leaves"] == params.model.num_leaves
    assert result.best["linear.alpha"] == params.linear.alpha
    top_k_choices = tune.CHOICES["model.top_k"]
    assert result.best["model.top_k"] == min(top_k_choices, key=lambda k: abs(k - 2000))
    assert result.best["features.min_df"] == params.features.min_df


def test_zero_trials_skip_the_search(prepared):
    settings, snapshot, validation = prepared
    result = model_stages.run_tune(validation, snapshot, max_evals=0, settings=settings)
    assert result.search_run_id is None and result.best == {}


def _search(settings, sample: pd.DataFrame, max_evals: int) -> tune.SearchResult:
    """The search with its trials logged as the pipeline logs them."""
    params = load_params(settings.params_file)
    with mlflow.start_run(experiment_id=ensure_experiment(settings)) as run:
        logger = model_stages.trial_logger(use_tracking(settings), run.info.run_id)
        return tune.search(sample, params, max_evals, timeout=600, on_trial=logger)


def test_search_is_seeded(settings, small_listings):
    sample = small_listings.to_pandas().head(1500)
    first = _search(settings, sample, 4).trials.drop(columns="seconds")
    again = _search(settings, sample, 4).trials.drop(columns="seconds")
    pd.testing.assert_frame_equal(first, again)
    assert first.drop(columns=["trial", "loss", "status"]).duplicated().sum() == 0


def test_a_failing_trial_is_recorded_and_the_search_goes_on(settings, small_listings, monkeypatch):
    """Failure injection: the second trial's blend raises, as a crashing fit would."""
    real_build_blend, calls = tune.build_blend, []

    def flaky(params, time_limit=None):
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("injected failure")
        return real_build_blend(params, time_limit)

    monkeypatch.setattr(tune, "build_blend", flaky)
    result = _search(settings, small_listings.to_pandas().head(1500), 3)
    assert result.trials["status"].tolist() == ["ok", "fail", "ok"]
    assert result.trials["loss"].isna().tolist() == [False, True, False]
    client = use_tracking(settings)
    failed = client.search_runs([ensure_experiment(settings)], "tags.`trial.status` = 'fail'")
    assert len(failed) == 1 and "injected failure" in failed[0].data.tags["trial.error"]


def test_a_trial_over_its_time_limit_fails_and_all_failing_is_an_error(settings, small_listings):
    params = load_params(settings.params_file)
    params.search.trial_timeout_seconds = 1
    params.model.n_estimators, params.model.early_stopping_rounds = 100_000, 100_000
    with mlflow.start_run(experiment_id=ensure_experiment(settings)):
        with pytest.raises(tune.SearchFailed, match="all 1 search trials failed"):
            tune.search(small_listings.to_pandas().head(1500), params, 1, timeout=600)


def test_training_uses_and_records_the_search(prepared):
    settings, snapshot, validation = prepared
    tuned = model_stages.run_tune(validation, snapshot, max_evals=2, settings=settings)
    run_id = model_stages.run_train(validation, snapshot, tuned, settings=settings)
    model_stages.run_evaluate(run_id, validation, settings=settings)
    client = use_tracking(settings)
    run = client.get_run(run_id)
    assert run.data.tags["search_run_id"] == tuned.search_run_id
    assert run.data.metrics["search_seconds"] == pytest.approx(tuned.search_seconds)
    for key, value in tuned.best.items():
        assert float(run.data.params[key]) == pytest.approx(value)
    diagnostics = {a.path for a in client.list_artifacts(run_id, "diagnostics")}
    assert "diagnostics/hyperopt_loss.png" in diagnostics
