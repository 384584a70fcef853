"""The production stack's files, checked without running it (`make stack-test` runs it for real).

docker/compose.yaml as podman-compose resolves it: the CeleryExecutor on Redis with two workers,
a health check on every long-running service, only local images, no secret in the file; the env
file scripts/stack_ctl.py writes: every secret once, mode 0600, existing values kept, git-ignored.
The tests of the resolved file need podman (podman-compose asks its version) and are marked slow.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker" / "compose.yaml"
ONE_SHOT = {"airflow-init"}


def _stack_ctl():
    return load_script("stack_ctl")


@pytest.fixture(scope="module")
def resolved() -> dict:
    """compose.yaml as podman-compose resolves it, with made-up secrets."""
    binary = Path(sys.executable).with_name("podman-compose")
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed: run `make podman`", pytrace=False)
    env = dict(os.environ, CONTAINERS_CONF=str(ROOT / "scripts" / "containers.conf"))
    env |= {name: f"test-{name.lower()}" for name in _stack_ctl().SECRETS}
    done = subprocess.run(
        [str(binary), "--env-file", os.devnull, "-f", str(COMPOSE), "config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return yaml.safe_load(done.stdout)


@pytest.mark.slow
def test_airflow_runs_celery_on_redis_with_two_workers(resolved):
    services = resolved["services"]
    worker = services["airflow-worker"]
    assert worker["command"] == ["airflow", "celery", "worker"]
    assert worker["deploy"]["mode"] == "replicated" and int(worker["deploy"]["replicas"]) == 2
    env = worker["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:test-redis_password@redis:6379/0"
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor"):
        assert services[name]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


@pytest.mark.slow
def test_every_service_is_checked_and_built_here(resolved):
    for name, service in resolved["services"].items():
        assert service["image"].startswith("localhost/price-alchemy-"), name
        if name not in ONE_SHOT:
            assert service["healthcheck"]["test"], f"{name} has no health check"
            assert service["restart"] == "unless-stopped", name
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_no_secret_is_written_in_the_file():
    text = COMPOSE.read_text()
    for name in _stack_ctl().SECRETS:
        if name != "AIRFLOW_FERNET_KEY":  # optional: Airflow runs without one
            assert f"${{{name}:?" in text, f"{name} must be a required variable"
    assert "password" not in json.dumps(yaml.safe_load(text)["services"]["mlflow"]["command"])


def test_env_file_gets_each_secret_once_and_keeps_existing_ones(tmp_path, monkeypatch):
    stack_ctl = _stack_ctl()
    env_file = tmp_path / ".env"
    env_file.write_text("POSTGRES_PASSWORD=kept\nAPI_PORT=9000\n")
    monkeypatch.setattr(stack_ctl, "ENV_FILE", env_file)
    stack_ctl.write_env()
    first = stack_ctl.read_env(env_file)
    stack_ctl.write_env()
    assert stack_ctl.read_env(env_file) == first
    assert first["POSTGRES_PASSWORD"] == "kept" and first["API_PORT"] == "9000"
    assert set(stack_ctl.SECRETS) <= set(first)
    assert len(first["AIRFLOW_JWT_SECRET"]) >= 64
    assert env_file.stat().st_mode & 0o777 == 0o600


def test_env_file_is_git_ignored():
    done = subprocess.run(
        ["git", "check-ignore", "--quiet", "docker/.env"], cwd=ROOT, capture_output=True
    )
    assert done.returncode == 0, "docker/.env is not git-ignored"
