"""The DAGs: import cleanly, parse fast without heavy imports, tasks wired as intended, a form
field per param with its type and description, retries, timeouts and schedules from settings."""

import ast
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from price_alchemy.data.extract import Snapshot
from price_alchemy.data.prediction_records import PredictionStoreError
from price_alchemy.data.warehouse import WarehouseError, WarehouseUnavailable
from price_alchemy.errors import ConfigurationError
from price_alchemy.lifecycle.reproduce import ReproductionError
from price_alchemy.orchestration.dag_support import TaskFailureAlert, run_stage
from price_alchemy.pipeline.monitor_stage import MonitoringError
from price_alchemy.validation.validate import ValidationFailed

DAGS = Path(__file__).resolve().parents[2] / "dags"
HEAVY = (
    "mlflow",
    "lightgbm",
    "sklearn",
    "pandas",
    "duckdb",
    "scipy",
    "price_alchemy.pipeline.model_stages",
    "price_alchemy.pipeline.monitor_stage",
)
DAG_IDS = ("price_alchemy_training", "price_alchemy_monitoring", "price_alchemy_repricing")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(DAG_IDS) <= set(dagbag.dag_ids)


def _parse_in_fresh_interpreter(dag_ids: tuple[str, ...], env: dict) -> list[tuple]:
    """Parse DAG files one after another in a fresh interpreter that has loaded what Airflow's
    DAG processor has (DagBag and the models); per file: (seconds, heavy modules imported so
    far, the DAG's schedule)."""
    code = (
        "import sys, time, runpy\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"for dag_id in {dag_ids!r}:\n"
        f"    path = {str(DAGS)!r} + f'/{{dag_id}}.py'\n"
        "    started = time.perf_counter(); found = runpy.run_path(path)\n"
        "    seconds = time.perf_counter() - started\n"
        f"    heavy = ','.join(m for m in {HEAVY!r} if m in sys.modules)\n"
        "    dag = found[dag_id]()\n"
        "    schedule = dag.schedule\n"
        "    if isinstance(schedule, list): schedule = [asset.name for asset in schedule]\n"
        "    elif not isinstance(schedule, str | None): schedule = dag.timetable.description\n"
        "    print(repr((seconds, heavy, schedule)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return [ast.literal_eval(line) for line in out.stdout.splitlines()[-len(dag_ids) :]]


def _environment(**schedules: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.endswith("_SCHEDULE")}
    return base | {f"PRICE_ALCHEMY_{k.upper()}_SCHEDULE": v for k, v in schedules.items()}


SCHEDULES = ("@weekly", "@daily", "Triggered by assets or At 00:00")


@pytest.mark.parametrize(("dag_id", "schedule"), zip(DAG_IDS, SCHEDULES, strict=True))
def test_dag_file_parses_fast_without_heavy_imports(dag_id, schedule):
    [(seconds, heavy, found_schedule)] = _parse_in_fresh_interpreter((dag_id,), _environment())
    assert seconds < 1.0
    assert heavy == ""
    assert found_schedule == schedule


def test_schedules_come_from_settings():
    env = _environment(training="30 4 * * 1", monitoring="none", repricing="none")
    parsed = _parse_in_fresh_interpreter(DAG_IDS, env)
    assert [schedule for *_, schedule in parsed] == [
        "30 4 * * 1",
        None,
        ["price_alchemy_champion"],  # the champion asset alone
    ]


def test_structure(dagbag):
    dag = dagbag.dags["price_alchemy_training"]
    upstream = {task.task_id: set(task.upstream_task_ids) for task in dag.tasks}
    assert upstream == {
        "extract": set(),
        "validate": {"extract"},
        "tune": {"validate", "extract"},
        "train": {"validate", "extract", "tune"},
        "evaluate": {"train", "validate"},
        "register": {"validate", "evaluate"},  # the evaluation names the run and its score
        "announce_champion": {"register"},
    }
    assert [a.name for a in dag.get_task("announce_champion").outlets] == ["price_alchemy_champion"]
    assert dag.catchup is False
    params = {"window_days", "promote", "max_evals", "timeout_minutes", "search_sample_rows"}
    assert params <= set(dag.params.keys())
    assert dag.doc_md and "champion" in dag.doc_md


def test_repricing_runs_daily_and_on_a_new_champion(dagbag):
    dag = dagbag.dags["price_alchemy_repricing"]
    assert [task.task_id for task in dag.tasks] == ["reprice"]
    assert [asset.name for asset in dag.timetable.asset_condition.objects] == [
        "price_alchemy_champion"
    ]
    assert "At 00:00" in dag.timetable.description
    assert dag.catchup is False and "price_suggestions" in dag.doc_md


def test_monitoring_structure(dagbag):
    dag = dagbag.dags["price_alchemy_monitoring"]
    upstream = {task.task_id: set(task.upstream_task_ids) for task in dag.tasks}
    assert upstream == {
        "extract": set(),
        "measure": {"extract"},
        "should_retrain": {"measure"},
        "trigger_training": {"should_retrain"},
        "online_report": set(),
        "judge_experiment": {"online_report"},
        "choose": {"judge_experiment"},
        "approve_promotion": {"choose"},
        "apply_verdict": {"choose", "judge_experiment", "approve_promotion"},
    }
    assert dag.get_task("apply_verdict").trigger_rule == "none_failed_min_one_success"
    trigger = dag.get_task("trigger_training")
    assert trigger.trigger_dag_id == "price_alchemy_training"
    assert trigger.skip_when_already_exists
    assert "reason" in trigger.conf and "data_interval_end" in trigger.trigger_run_id
    assert dag.catchup is False and "price-alchemy-monitoring" in dag.doc_md


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_every_task_retries_with_backoff_within_a_timeout(dagbag, dag_id):
    for task in dagbag.dags[dag_id].tasks:
        if task.task_id == "approve_promotion":  # a person's answer is asked once, for a week
            assert task.retries == 0 and task.response_timeout == timedelta(days=7)
            continue
        assert task.retries >= 2 and task.retry_exponential_backoff, task.task_id
        assert task.execution_timeout is not None or task.task_id in ("should_retrain", "choose")


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_every_param_has_a_type_and_a_description(dagbag, dag_id):
    params = dagbag.dags[dag_id].params
    for name in params:
        param = params.get_param(name)
        assert param.schema.get("type") and param.description, name


def test_form_rejects_values_out_of_bounds(dagbag):
    from airflow.sdk.exceptions import ParamValidationError

    params = dagbag.dags["price_alchemy_training"].params
    assert params.get_param("max_evals").resolve(5) == 5
    assert params.get_param("max_evals").resolve(None) is None
    for field, bad in (("max_evals", -1), ("promote", "maybe"), ("timeout_minutes", "ten")):
        with pytest.raises(ParamValidationError):
            params.get_param(field).resolve(bad)


def _raise(error):
    raise error


@pytest.mark.parametrize(
    "error",
    [
        ConfigurationError("no Google credentials found: set GOOGLE_APPLICATION_CREDENTIALS"),
        WarehouseError("no table duckdb:/x#listings: load listings first"),
        ValidationFailed("missing columns: price"),
        ReproductionError("snapshot /x is missing or no longer has its sha256"),
        MonitoringError("the champion's training listings /x are gone"),
    ],
)
def test_errors_a_person_must_fix_fail_without_retry(error):
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match=str(error).split(":")[0]):
        run_stage(_raise, error)


@pytest.mark.parametrize(
    "error",
    [
        WarehouseUnavailable("BigQuery unreachable"),
        PredictionStoreError("OperationalError: database is locked"),
        KeyError("a bug"),
    ],
)
def test_transient_failures_and_bugs_are_retried(error):
    """Anything but ActionRequired propagates as it is, so Airflow retries it."""
    with pytest.raises(type(error)):
        run_stage(_raise, error)


def test_a_stage_result_becomes_an_xcom_value():
    assert run_stage(lambda x, y: x + y, 1, y=2) == 3
    snapshot = Snapshot("/s/listings.parquet", 3, "ab", "2025-01-01T00:00", "2025-01-02T00:00")
    value = run_stage(lambda: snapshot)
    assert value == snapshot.to_dict() and Snapshot.from_dict(value) == snapshot


def test_every_task_alerts_when_it_fails_for_good(dagbag):
    for dag_id in DAG_IDS:
        for task in dagbag.dags[dag_id].tasks:
            if task.task_id == "approve_promotion":
                continue  # a person's answer, not a failure to report
            callbacks = task.on_failure_callback or []
            assert any(isinstance(c, TaskFailureAlert) for c in callbacks), task.task_id


def test_the_dags_are_created_unpaused(dagbag):
    """Airflow pauses a new DAG by default; ours must run on schedule and when triggered."""
    for dag_id in DAG_IDS:
        assert dagbag.dags[dag_id].is_paused_upon_creation is False, dag_id
