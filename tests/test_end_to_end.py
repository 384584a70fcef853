"""The whole system as a user runs it: demo data, the training DAG through Airflow's CLI, the
champion in MLflow, and the API served by uvicorn on a loopback port."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import SMALL_PARAMS

from price_alchemy.registry import champion_version
from price_alchemy.settings import Settings
from price_alchemy.tracking import use_tracking

CLI = str(Path(sys.executable).with_name("price-alchemy"))
pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: this test's state directory and no inherited Airflow settings."""
    (tmp_path / "params.yaml").write_text(SMALL_PARAMS)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PRICE_ALCHEMY"))}
    return base | {
        "PRICE_ALCHEMY_HOME": str(tmp_path / "home"),
        "PRICE_ALCHEMY_PARAMS_FILE": str(tmp_path / "params.yaml"),
    }


def _cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, check=check)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.5)
    server.kill()
    raise TimeoutError("the API did not come up within 90 s")


def test_demo_data_dag_mlflow_and_api(env):
    _cli(env, "demo-data", "--rows", "3000")
    _cli(env, "airflow", "db", "migrate")
    conf = json.dumps({"max_evals": 2})
    run = _cli(env, "airflow", "dags", "test", "price_alchemy_training", "-c", conf, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    settings = Settings(home=env["PRICE_ALCHEMY_HOME"])
    client = use_tracking(settings)
    champion = champion_version(client, "price-alchemy")
    champion_run = client.get_run(champion.run_id)
    metrics = champion_run.data.metrics
    assert 0 < metrics["model_rmsle"] < metrics["baseline_rmsle"]
    search_run = client.get_run(champion_run.data.tags["search_run_id"])
    trials = client.search_runs(
        [search_run.info.experiment_id], f"tags.mlflow.parentRunId = '{search_run.info.run_id}'"
    )
    assert len(trials) == 2
    assert json.loads(_cli(env, "status", "--json").stdout)["champion"]["version"] == "1"

    port = _free_port()
    server = _serve(env, port)
    try:
        listing = {"name": "Apple iPhone 128GB", "item_condition_id": 2, "shipping": 1}
        response = httpx.post(
            f"http://127.0.0.1:{port}/v1/price-suggestions", json={"listings": [listing]}
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert response.status_code == 200
    assert response.json()["model_version"] == "1"
    assert response.json()["suggestions"][0]["price"] > 0


def test_empty_window_fails_the_run_at_validate_and_registers_nothing(env):
    _cli(env, "demo-data", "--rows", "500", "--end", "2020-01-01")
    _cli(env, "airflow", "db", "migrate")
    run = _cli(env, "airflow", "dags", "test", "price_alchemy_training", check=False)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "the snapshot has no rows" in output
    assert json.loads(_cli(env, "status", "--json").stdout)["champion"] is None
