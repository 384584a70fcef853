"""The champion rule against a real MLflow sqlite store under the test's own directory."""

import mlflow
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from typer.testing import CliRunner

from price_alchemy.cli import app
from price_alchemy.lifecycle.names import CHALLENGER
from price_alchemy.lifecycle.registry import (
    champion_version,
    decide_promotion,
    register_model,
    status_history,
)
from price_alchemy.lifecycle.tracking import use_tracking
from price_alchemy.model.train import split_listings
from price_alchemy.params import load_params
from price_alchemy.pipeline import model_stages
from price_alchemy.pipeline.status import list_models


def _test_split(settings, validation):
    frame = pd.read_parquet(validation.clean_uri)
    return split_listings(frame, load_params(settings.params_file).split)[1]


def _run_with_rmsle(settings, model_uri: str, rmsle: float) -> str:
    """A new run pointing at an existing logged model, with a given test RMSLE."""
    with mlflow.start_run(experiment_id=model_stages.ensure_experiment(settings)) as run:
        mlflow.log_metric("model_rmsle", rmsle)
        mlflow.set_tag("model_uri", model_uri)
    return run.info.run_id


def test_first_model_becomes_champion_with_metrics(trained_shared):
    settings, out = trained_shared
    client = use_tracking(settings)
    champion = champion_version(client, settings.model_name)
    assert champion is not None and champion.run_id == out.run_id
    assert out.registration.promoted is True
    assert out.registration.champion_rmsle is None
    run = client.get_run(out.run_id)
    assert {"model_rmsle", "model_mae", "baseline_rmsle", "baseline_mae"} <= run.data.metrics.keys()
    assert run.data.metrics["model_rmsle"] < run.data.metrics["baseline_rmsle"]
    assert run.data.metrics["range_nominal"] == 0.8
    assert abs(run.data.metrics["range_coverage"] - 0.8) < 0.1  # ~400 test rows here
    assert run.data.params["model.n_estimators"] == "60"


def test_worse_model_does_not_take_champion(trained_settings):
    settings, out = trained_settings
    client = use_tracking(settings)
    model_uri = client.get_run(out.run_id).data.tags["model_uri"]
    champion_rmsle = out.evaluation.rmsle
    worse = _run_with_rmsle(settings, model_uri, champion_rmsle + 0.05)
    test = _test_split(settings, out.validation)
    decision = register_model(
        client, settings.model_name, worse, model_uri, champion_rmsle + 0.05, test
    )
    assert decision.promoted is False
    assert decision.champion_rmsle == pytest.approx(champion_rmsle)
    assert champion_version(client, settings.model_name).run_id == out.run_id


def test_better_model_takes_champion(trained_settings):
    settings, out = trained_settings
    client = use_tracking(settings)
    model_uri = client.get_run(out.run_id).data.tags["model_uri"]
    rmsle = out.evaluation.rmsle - 0.05
    better = _run_with_rmsle(settings, model_uri, rmsle)
    test = _test_split(settings, out.validation)
    decision = register_model(client, settings.model_name, better, model_uri, rmsle, test)
    assert decision.promoted is True and decision.version == "2"
    assert str(champion_version(client, settings.model_name).version) == "2"


def test_retried_register_makes_no_second_version(trained_shared):
    settings, out = trained_shared
    again = model_stages.run_register(out.evaluation, out.validation)
    assert again.version == out.registration.version
    client = use_tracking(settings)
    assert len(client.search_model_versions(f"name='{settings.model_name}'")) == 1


def test_training_run_is_traced_to_its_exact_data(trained_shared):
    settings, out = trained_shared
    client = use_tracking(settings)
    run = client.get_run(out.run_id)
    snapshot = out.snapshot
    assert run.data.tags["snapshot.sha256"] == snapshot.sha256
    assert run.data.tags["snapshot.uri"] == snapshot.uri
    assert run.data.tags["snapshot.rows"] == str(snapshot.rows)
    assert "created_at >= $start" in run.data.tags["snapshot.query"]
    assert run.data.metrics["validation.rows_in"] == out.validation.rows_in
    logged = {a.path for a in client.list_artifacts(out.run_id, "validation")}
    assert logged == {"validation/report.json", "validation/report.html"}


@pytest.mark.parametrize(
    ("rmsle", "champion", "mode", "promoted"),
    [
        (0.50, None, "auto", True),  # no champion yet
        (0.40, 0.45, "auto", True),  # clearly better
        (0.448, 0.45, "auto", False),  # better, but by less than the 0.5% margin
        (0.4477, 0.45, "auto", True),  # better by just over the margin
        (0.45, 0.45, "auto", False),  # a tie never promotes
        (0.60, 0.45, "auto", False),  # worse
        (0.60, 0.45, "force", True),
        (0.30, 0.45, "never", False),
    ],
)
def test_promotion_rule(rmsle, champion, mode, promoted):
    decided, why = decide_promotion(rmsle, champion, 0.005, mode)
    assert decided is promoted
    assert why.startswith(("promoted", "forced")) if promoted else why.startswith("kept")


def test_unknown_promote_mode_is_refused():
    with pytest.raises(ValueError, match="auto, force or never"):
        decide_promotion(0.4, 0.5, 0.005, "sometimes")


def _challenge(settings, out, rmsle_delta: float, mode: str = "auto"):
    client = use_tracking(settings)
    model_uri = client.get_run(out.run_id).data.tags["model_uri"]
    rmsle = out.evaluation.rmsle + rmsle_delta
    run_id = _run_with_rmsle(settings, model_uri, rmsle)
    test = _test_split(settings, out.validation)
    decision = register_model(
        client, settings.model_name, run_id, model_uri, rmsle, test, 0.005, mode
    )
    return client, decision


def test_a_slightly_better_model_stays_challenger(trained_settings):
    settings, out = trained_settings
    client, decision = _challenge(settings, out, -0.0005)
    assert decision.promoted is False and decision.decision.startswith("kept the champion")
    assert str(client.get_model_version_by_alias(settings.model_name, CHALLENGER).version) == "2"
    assert str(champion_version(client, settings.model_name).version) == "1"


@pytest.mark.parametrize(("delta", "mode", "champion"), [(0.2, "force", "2"), (-0.2, "never", "1")])
def test_manual_override(trained_settings, delta, mode, champion):
    settings, out = trained_settings
    client, decision = _challenge(settings, out, delta, mode)
    assert str(champion_version(client, settings.model_name).version) == champion
    assert mode in decision.decision


def test_each_version_carries_its_status_history(trained_settings):
    """Registered as challenger, promoted to champion, retired when replaced: each with when
    and why, as registry tags; `price-alchemy models` lists them."""
    settings, out = trained_settings
    client, decision = _challenge(settings, out, -0.2)  # clearly better: takes champion
    assert decision.promoted
    name = settings.model_name
    first = [h["status"] for h in status_history(client, name, "1")]
    second = [h["status"] for h in status_history(client, name, "2")]
    assert first == ["challenger", "champion", "retired"]
    assert second == ["challenger", "champion"]
    assert "replaced by version 2" in status_history(client, name, "1")[-1]["reason"]
    assert all(h["since"] for h in status_history(client, name, "2"))
    with pytest.raises(MlflowException):  # the champion is no longer the challenger too
        client.get_model_version_by_alias(name, CHALLENGER)
    listed = {v["version"]: v for v in list_models(settings)}
    assert listed["2"]["status"] == "champion" and listed["2"]["aliases"] == ["champion"]
    assert listed["1"]["status"] == "retired" and listed["1"]["offline_rmsle"] > 0
    shown = CliRunner().invoke(app, ["models"])
    assert shown.exit_code == 0 and "v2" in shown.output and "retired" in shown.output
