"""Airflow for real: API server, scheduler and DAG processor on loopback, driven through the
REST API v2 the way a person drives the UI, then stopped by PID.

One story, on Airflow's default configuration (new DAGs paused unless they say otherwise): a
training run triggered before any listing is loaded fails at extract; the listings are loaded
and the failed task is cleared, and the same run trains and registers the first champion. Then
the market drifts: a monitoring run sees it and triggers training with its reason, and the
scheduler runs that training, whose model becomes champion through the gate. Each new champion
announces itself (an asset event) and the scheduler re-prices the live listings with it. Then a
challenger proves better on live evidence: monitoring proposes its promotion, a person approves
it through the REST API (the human-in-the-loop task), and it becomes champion.
"""

import contextlib
import json
import time
from datetime import UTC, datetime, timedelta

import duckdb
import psutil
import pytest

from price_alchemy.data.backends import open_warehouse
from price_alchemy.data.load import load_table
from price_alchemy.demo.generator import active_listings, generate_listings
from price_alchemy.lifecycle.registry import champion_version
from price_alchemy.lifecycle.tracking import use_tracking
from price_alchemy.orchestration.airflow_services import start_services, stop_services, wait_healthy
from tests.support.airflow_api import AirflowApi
from tests.support.evidence import write_evidence
from tests.support.listings import put_listings
from tests.support.ports import PortTaken, on_free_port, says_port_taken
from tests.support.project import Project
from tests.support.waiting import wait_for

LIMIT = 300  # seconds a test of this module may take, fixtures included
pytestmark = [pytest.mark.slow, pytest.mark.timeout(LIMIT)]
TRAINING, MONITORING = "price_alchemy_training", "price_alchemy_monitoring"
REPRICING = "price_alchemy_repricing"
LIVE = 500


class Budget:
    """What is left of the test's time limit, less a margin: every wait takes at most that,
    so a stuck run fails with its task states rather than being killed by the time limit."""

    def __init__(self, seconds: float = LIMIT - 30) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return max(self.deadline - time.monotonic(), 1.0)


def _process_tree(pids: list[int]) -> list[psutil.Process]:
    found = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            parent = psutil.Process(pid)
            found += [parent, *parent.children(recursive=True)]
    return found


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Settings of a fresh project, and a client of its running Airflow; afterwards every
    service and every process it started is gone."""
    project = Project(tmp_path_factory.mktemp("scheduler"))
    # only the runs this test triggers: no scheduled run may race them
    project.env |= {"PRICE_ALCHEMY_TRAINING_SCHEDULE": "none"}
    project.env |= {"PRICE_ALCHEMY_MONITORING_SCHEDULE": "none"}
    project.env |= {"PRICE_ALCHEMY_REPRICING_SCHEDULE": "none"}  # the champion asset alone
    project.cli("airflow", "db", "migrate")

    def start(port: int) -> tuple[list, int]:
        processes = start_services(project.settings, port, project.root / "logs", project.env)
        try:
            wait_healthy(port, processes=processes)
        except RuntimeError:
            stop_services(processes)
            log = (project.root / "logs" / "api-server.log").read_text(errors="replace")
            if says_port_taken(log):
                raise PortTaken(f"port {port}") from None
            raise
        return processes, port

    processes, port = on_free_port(start)
    try:
        api = AirflowApi(port)
        api.wait_for_dags((TRAINING, MONITORING, REPRICING))
        yield project.settings, api, project.root / "logs" / "scheduler.log"
    finally:
        family = _process_tree([process.pid for process in processes])
        stop_services(processes)
        _, alive = psutil.wait_procs(family, timeout=30)
        assert not alive, f"left running: {alive}"


def test_the_form_params_are_published_with_types_and_descriptions(stack):
    _, api, _ = stack
    params = api.get(f"/dags/{TRAINING}/details")["params"]
    for name in ("max_evals", "timeout_minutes", "search_sample_rows", "window_days", "promote"):
        assert params[name]["schema"]["type"], name
        assert params[name]["description"], name
    assert params["promote"]["schema"]["enum"] == ["auto", "force", "never"]
    assert params["max_evals"]["schema"]["minimum"] == 0


def test_training_recovers_by_clearing_and_monitoring_closes_the_loop(stack):
    settings, api, scheduler_log = stack
    budget = Budget()
    now = datetime.now(UTC).replace(microsecond=0)
    conf = {"max_evals": 2, "window_days": 400, "reason": "first model, scheduler test"}
    run_id = api.trigger(TRAINING, conf, now.isoformat())
    assert api.wait_for_run(TRAINING, run_id, timeout=budget.left()) == "failed"
    assert api.task_states(TRAINING, run_id)["extract"] == "failed"
    assert "load listings first" in api.log_tail(TRAINING, run_id, "extract")

    today = now.replace(hour=0, minute=0, second=0, tzinfo=None)
    warehouse = open_warehouse(settings)
    put_listings(
        warehouse, generate_listings(3000, seed=5, end=today - timedelta(days=2), days=200)
    )
    live = open_warehouse(settings, settings.active_table)
    load_table(live, active_listings(LIVE, seed=8, end=today), settings.home / "loads", True)
    api.clear(TRAINING, run_id)
    assert api.succeeded(TRAINING, run_id, timeout=budget.left())
    client = use_tracking(settings)
    first = champion_version(client, settings.model_name)
    assert str(first.version) == "1"
    assert _repriced_by_the_new_champion(settings, api, 1, budget) == {"1": LIVE}
    [reprice] = [r["dag_run_id"] for r in api.runs(REPRICING)]
    api.clear(REPRICING, reprice, only_failed=False)  # the same run again: rows replaced
    assert api.succeeded(REPRICING, reprice, timeout=budget.left())
    assert _suggestions_by_version(settings) == {"1": LIVE}
    first_run = client.get_run(first.run_id)
    assert first_run.data.tags["trigger.reason"] == conf["reason"]
    assert first_run.data.tags["search_run_id"]

    drifted = generate_listings(1000, seed=6, end=today, days=2, id_offset=10**6, drift=0.6)
    put_listings(warehouse, drifted)
    monitor_id = api.trigger(MONITORING, {"window_days": 2}, now.isoformat())
    assert api.succeeded(MONITORING, monitor_id, timeout=budget.left())
    assert api.task_states(MONITORING, monitor_id)["trigger_training"] == "success"
    [retrain] = [r for r in api.runs(TRAINING) if r["dag_run_id"].startswith("monitoring__")]
    assert "category the champion never saw" in retrain["conf"]["reason"]
    assert api.succeeded(TRAINING, retrain["dag_run_id"], timeout=budget.left())
    second = champion_version(client, settings.model_name)
    assert str(second.version) == "2"
    second_run = client.get_run(second.run_id)
    assert second_run.data.tags["trigger.reason"] == retrain["conf"]["reason"]
    assert second_run.data.tags["promotion.decision"].startswith("promoted: RMSLE")
    assert _repriced_by_the_new_champion(settings, api, 2, budget) == {"1": LIVE, "2": LIVE}

    _live_evidence_of_a_better_challenger(settings, client)
    form = {"window_days": 2, "retrain": "never", "approval": "required"}
    monitor_id = api.trigger(MONITORING, form, datetime.now(UTC).isoformat())
    waiting = api.wait_for_task(
        MONITORING, monitor_id, "approve_promotion", AWAITING, timeout=budget.left()
    )
    assert champion_version(client, settings.model_name).version == second.version
    wait_for(
        lambda: _took_in_the_pause(scheduler_log, monitor_id),
        budget.left(),
        "the scheduler taking in the approval task's pause",
    )
    api.answer(MONITORING, monitor_id, "approve_promotion", "Approve")
    assert api.succeeded(MONITORING, monitor_id, timeout=budget.left()), waiting
    assert api.task_states(MONITORING, monitor_id)["apply_verdict"] == "success"
    third = champion_version(client, settings.model_name)
    assert str(third.version) == "3"
    assert third.tags["status"] == "champion"
    assert "live evidence" in json.loads(third.tags["status.history"])[-1]["reason"]


def _repriced_by_the_new_champion(settings, api, runs: int, budget: Budget) -> dict[str, int]:
    """Once `runs` re-pricing runs were triggered by the champion asset and succeeded: the
    suggestions written, counted by the model version that priced them."""
    def triggered() -> list[dict]:
        return [r for r in api.runs(REPRICING) if r["run_type"] == "asset_triggered"]

    wait_for(lambda: len(triggered()) >= runs, budget.left(), "re-pricing on a new champion")
    for run in triggered():
        assert api.succeeded(REPRICING, run["dag_run_id"], timeout=budget.left())
    return _suggestions_by_version(settings)


def _suggestions_by_version(settings) -> dict[str, int]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        sql = "SELECT model_version, count(*) FROM price_suggestions GROUP BY model_version"
        return dict(con.execute(sql).fetchall())


AWAITING = {"awaiting_input", "deferred"}  # Airflow 3.3 parks an approval; earlier ones defer


def _took_in_the_pause(scheduler_log, run_id: str) -> bool:
    """Whether the scheduler has processed the exit of the worker that paused the approval
    task. Answered before that, Airflow 3.3.2 fails the resumed task on the stale exit event
    (apache/airflow#67287, #72716; the README's Approvals): a person reads before answering."""
    task = f"dag_id={MONITORING}, task_id=approve_promotion, run_id={run_id},"
    return f"TaskInstance Finished: {task}" in scheduler_log.read_text(errors="replace")


def _live_evidence_of_a_better_challenger(settings, client) -> None:
    """Version 3 (the champion's model registered again) as challenger, and a prediction log
    and outcomes in which it priced 300 sold listings within 2% and the champion 300 within
    30%: better with 95% confidence over more than online.min_listings per arm."""
    name = settings.model_name
    champion = client.get_model_version_by_alias(name, "champion")
    source = f"models:/{name}/{champion.version}"
    version = client.create_model_version(name, source, champion.run_id).version
    client.set_registered_model_alias(name, "challenger", str(version))
    arms = [("champion", str(champion.version), 1.3), ("challenger", str(version), 1.02)]
    write_evidence(settings, arms, 600, datetime.now(UTC).replace(tzinfo=None))
