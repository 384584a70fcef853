"""The training DAG: imports cleanly, parses fast, no heavy imports, tasks wired as intended."""

import subprocess
import sys
from pathlib import Path

import pytest

from price_alchemy.validate import ValidationFailed
from price_alchemy.warehouse import WarehouseError, WarehouseUnavailable

DAGS = Path(__file__).resolve().parents[1] / "dags"
HEAVY = ("mlflow", "lightgbm", "sklearn", "pandas", "duckdb", "price_alchemy.stages")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "price_alchemy_training" in dagbag.dag_ids


def test_dag_file_parses_fast_without_heavy_imports():
    """Parse the file in a fresh interpreter (Airflow itself already imported) and time it."""
    dag_file = str(DAGS / "price_alchemy_training.py")
    code = (
        "import sys, time, runpy, airflow.sdk\n"
        f"started = time.perf_counter(); runpy.run_path({dag_file!r})\n"
        "print(time.perf_counter() - started)\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, heavy = out.stdout.splitlines()[-2:]
    assert float(seconds) < 1.0
    assert heavy == ""


def test_structure(dagbag):
    dag = dagbag.dags["price_alchemy_training"]
    upstream = {task.task_id: set(task.upstream_task_ids) for task in dag.tasks}
    assert upstream == {
        "extract": set(),
        "validate": {"extract"},
        "tune": {"validate", "extract"},
        "train": {"validate", "extract", "tune"},
        "evaluate": {"train", "validate"},
        "register": {"train", "validate", "evaluate"},
    }
    assert dag.catchup is False
    params = {"window_days", "promote", "max_evals", "timeout_minutes", "search_sample_rows"}
    assert params <= set(dag.params.keys())
    assert dag.doc_md and "champion" in dag.doc_md


def test_every_task_retries_with_exponential_backoff(dagbag):
    dag = dagbag.dags["price_alchemy_training"]
    for task in dag.tasks:
        assert task.retries >= 2 and task.retry_exponential_backoff, task.task_id


@pytest.fixture(scope="module")
def dag_module():
    import runpy

    return runpy.run_path(str(DAGS / "price_alchemy_training.py"))


def _raise(error):
    raise error


@pytest.mark.parametrize(
    "error",
    [
        WarehouseError("no Google credentials found: set GOOGLE_APPLICATION_CREDENTIALS"),
        ValidationFailed("missing columns: price"),
    ],
)
def test_errors_a_person_must_fix_fail_without_retry(dag_module, error):
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match=str(error).split(":")[0]):
        dag_module["_fail_fast"](_raise, error)


def test_unreachable_warehouse_is_retried(dag_module):
    with pytest.raises(WarehouseUnavailable):
        dag_module["_fail_fast"](_raise, WarehouseUnavailable("BigQuery unreachable"))
    assert dag_module["_fail_fast"](lambda x: x + 1, 1) == 2
