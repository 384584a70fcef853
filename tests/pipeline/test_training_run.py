"""What a training run leaves in MLflow: every model's scores, coverage, timings, code version,
its full parameters and the diagnostics a person looks at (real MLflow store)."""

import json
import re

import pytest

from price_alchemy.lifecycle.tracking import use_tracking
from price_alchemy.params import load_params


@pytest.fixture(scope="module")
def champion_run(champion_settings):
    client = use_tracking(champion_settings)
    (version,) = client.search_model_versions("name = 'price-alchemy'")
    return client, client.get_run(version.run_id), champion_settings


def test_run_scores_every_model_and_the_range(champion_run):
    _, run, _ = champion_run
    metrics = run.data.metrics
    for model in ("model", "linear", "lgbm", "baseline"):
        assert {f"{model}_rmsle", f"{model}_mae", f"{model}_r2"} <= set(metrics), model
    assert metrics["model_rmsle"] < metrics["baseline_rmsle"]
    assert metrics["blend_weight_linear"] >= 0 and metrics["blend_weight_lgbm"] >= 0
    assert {"fit_seconds", "train_rows", "test_rows", "range_coverage", "lgbm_trees"} <= set(
        metrics
    )


def test_run_is_tagged_with_code_version_and_data(champion_run):
    _, run, _ = champion_run
    tags = run.data.tags
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", tags["code.git_commit"])
    assert tags["code.version"]
    assert tags["validation.clean_uri"].endswith(".parquet")
    assert len(tags["snapshot.sha256"]) == 64


def test_run_keeps_its_effective_parameters(champion_run):
    client, run, settings = champion_run
    path = client.download_artifacts(run.info.run_id, "params.json")
    with open(path) as stored:
        assert json.load(stored) == load_params(settings.params_file).model_dump()
    assert run.data.params["model.top_k"] == "2000"


def test_run_logs_the_diagnostics(champion_run):
    client, run, _ = champion_run
    names = {a.path.split("/")[-1] for a in client.list_artifacts(run.info.run_id, "diagnostics")}
    assert {
        "predicted_vs_actual.png",
        "residuals_by_category.png",
        "category_errors.csv",
        "category_errors.html",
        "feature_importance.png",
        "feature_importance.csv",
    } <= names
    assert "hyperopt_loss.png" not in names  # this run was not tuned
