"""The training DAG: imports cleanly, parses fast, no heavy imports, tasks wired as intended."""

import subprocess
import sys
from pathlib import Path

import pytest

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
        "train": {"validate", "extract"},
        "evaluate": {"train", "validate"},
        "register": {"train", "validate", "evaluate"},
    }
    assert dag.catchup is False
    assert "window_days" in dag.params
    assert dag.doc_md and "champion" in dag.doc_md


def test_validate_is_not_retried_but_others_are(dagbag):
    dag = dagbag.dags["price_alchemy_training"]
    retries = {task.task_id: task.retries for task in dag.tasks}
    assert retries["validate"] == 0
    assert all(retries[t] >= 1 for t in ("extract", "train", "evaluate", "register"))
