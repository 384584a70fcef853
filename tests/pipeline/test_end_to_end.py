"""The whole system as a user runs it, on small data: demo data, the training DAG through
Airflow (`airflow dags test`, i.e. dag.test, as `make train` runs it), the champion in MLflow,
the API served by uvicorn on a loopback port; re-running a logical date is idempotent, and the
monitoring DAG triggers training exactly when the market drifted, once per judged window."""

import json
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from price_alchemy.lifecycle.registry import champion_version
from price_alchemy.lifecycle.tracking import use_tracking
from tests.support.project import Project, serve
from tests.support.webhook import receiver

END = datetime(2026, 6, 1)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    """Demo listings ending at END and one training run for the logical date END."""
    project = Project(tmp_path_factory.mktemp("dag_runs"))
    project.cli("demo-data", "--rows", "3000", "--end", END.strftime("%Y-%m-%d"), "--days", "200")
    project.cli("airflow", "db", "migrate")
    project.dag_test("price_alchemy_training", END, {"max_evals": 2})
    return project


def test_the_champion_is_traced_searched_and_served(project):
    client = use_tracking(project.settings)
    champion = champion_version(client, "price-alchemy")
    champion_run = client.get_run(champion.run_id)
    metrics = champion_run.data.metrics
    assert 0 < metrics["model_rmsle"] < metrics["baseline_rmsle"]
    assert champion_run.data.tags["trigger.reason"] == "manual run"
    search_run = client.get_run(champion_run.data.tags["search_run_id"])
    trials = client.search_runs(
        [search_run.info.experiment_id], f"tags.mlflow.parentRunId = '{search_run.info.run_id}'"
    )
    assert len(trials) == 2
    assert json.loads(project.cli("status", "--json").stdout)["champion"]["version"] == "1"

    with serve(project.env) as base_url:
        listing = {"name": "Apple iPhone 128GB", "item_condition_id": 2, "shipping": 1}
        response = httpx.post(f"{base_url}/v1/price-suggestions", json={"listings": [listing]})
    assert response.status_code == 200
    assert response.json()["model_version"] == "1"
    assert response.json()["suggestions"][0]["price"] > 0


def test_rerunning_a_logical_date_overwrites_its_snapshot_and_gives_the_same_metrics(project):
    project.dag_test("price_alchemy_training", END, {"max_evals": 2})
    runs = project.mlflow_runs("price-alchemy", "training")
    first, second = runs[0], runs[-1]  # the fixture's run of END and this one
    for tag in ("snapshot.uri", "snapshot.sha256", "snapshot.start", "snapshot.end"):
        assert first.data.tags[tag] == second.data.tags[tag], tag
    snapshots = project.settings.snapshots_dir
    assert [p.parent.name for p in snapshots.glob("*/listings.parquet")] == [
        Path(first.data.tags["snapshot.uri"]).parent.name
    ]
    for metric in ("model_rmsle", "linear_rmsle", "lgbm_rmsle", "baseline_rmsle"):
        assert second.data.metrics[metric] == pytest.approx(first.data.metrics[metric], abs=1e-9)
    client = use_tracking(project.settings)
    assert str(champion_version(client, "price-alchemy").version) == "1"
    assert second.data.tags["promotion.decision"].startswith("kept the champion")


def _monitoring_reports(project: Project, window_end: datetime) -> list:
    """The monitoring runs of the window ending at `window_end`, oldest first (whatever other
    windows other tests judged)."""
    runs = project.mlflow_runs("price-alchemy-monitoring", "monitoring")
    return [r for r in runs if r.data.tags["window.end"] == window_end.isoformat()]


def test_monitoring_leaves_an_unchanged_market_alone(project):
    project.add_listings(800, END + timedelta(days=2), drift=0.0, seed=31)
    project.dag_test("price_alchemy_monitoring", END + timedelta(days=2), {"window_days": 2})
    [report] = _monitoring_reports(project, END + timedelta(days=2))
    assert report.data.tags["status"] == "no drift"
    assert report.data.metrics["rows"] == 800
    assert not [r for r in project.runs("price_alchemy_training") if "monitoring__" in r["run_id"]]


def test_monitoring_triggers_training_once_when_the_market_drifts(project):
    project.add_listings(800, END + timedelta(days=4), drift=0.6, seed=32)
    for _ in range(2):  # the second run of the same logical date triggers nothing new
        project.dag_test("price_alchemy_monitoring", END + timedelta(days=4), {"window_days": 2})
    reports = _monitoring_reports(project, END + timedelta(days=4))
    assert [r.data.tags["status"] for r in reports] == ["retrain", "retrain"]
    assert "category the champion never saw" in reports[-1].data.tags["reasons"]
    triggered = [r for r in project.runs("price_alchemy_training") if "monitoring__" in r["run_id"]]
    assert len(triggered) == 1 and triggered[0]["state"] == "queued"


def test_empty_window_fails_the_run_at_validate_alerts_and_registers_nothing(tmp_path):
    project = Project(tmp_path)
    project.cli("demo-data", "--rows", "500", "--end", "2020-01-01")
    project.cli("airflow", "db", "migrate")
    with receiver() as webhook:
        project.env["PRICE_ALCHEMY_ALERT_URL"] = webhook.url
        run = project.cli("airflow", "dags", "test", "price_alchemy_training", check=False)
    assert run.returncode != 0
    assert "the snapshot has no rows" in run.stdout + run.stderr
    assert json.loads(project.cli("status", "--json").stdout)["champion"] is None
    [alert] = webhook.messages()  # the failed task's, once: a person must act, no retry
    assert alert.startswith("Price Alchemy: price_alchemy_training.validate failed")
    assert "the snapshot has no rows" in alert
