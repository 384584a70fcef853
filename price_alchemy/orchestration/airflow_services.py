"""Airflow's long-running services for local use: API server (with the UI), scheduler,
DAG processor and triggerer, started as child processes on loopback and stopped each by its PID.

`airflow standalone` leaves its children running when stopped, so the parts are started one by
one instead, with the environment from `airflow_environment`.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from price_alchemy.orchestration.airflow_env import airflow_environment
from price_alchemy.settings import Settings

SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")  # the triggerer runs
# deferred tasks (a human-in-the-loop approval waits there)


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def services_environment(
    settings: Settings, port: int, base: dict[str, str] | None = None
) -> dict[str, str]:
    """Airflow's environment for a local stack whose API listens on `port` (all users admin),
    over `base` (default: this process's environment)."""
    env = airflow_environment(settings, base)
    env.setdefault("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://127.0.0.1:{port}/execution/")
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    return env


def start_services(
    settings: Settings, port: int, log_dir: Path, base: dict[str, str] | None = None
) -> list[subprocess.Popen]:
    """Start the three services, each logging to `<log_dir>/<service>.log`."""
    env = services_environment(settings, port, base)
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = []
    for service in SERVICES:
        extra = ["--host", "127.0.0.1", "--port", str(port)] if service == "api-server" else []
        with open(log_dir / f"{service}.log", "ab") as log:
            processes.append(
                subprocess.Popen([_airflow(), service, *extra], env=env, stdout=log, stderr=log)
            )
    return processes


def wait_healthy(
    port: int, timeout: float = 120.0, processes: list[subprocess.Popen] | None = None
) -> None:
    """Block until the API server answers its health check; RuntimeError as soon as one of
    `processes` (as `start_services` returns them) exits, TimeoutError after `timeout`
    seconds."""
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
    while time.monotonic() < deadline:
        running = zip(SERVICES, processes or (), strict=False)
        exited = [service for service, process in running if process.poll() is not None]
        if exited:
            raise RuntimeError(f"Airflow {', '.join(exited)} exited before the stack was healthy")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"Airflow API server not healthy on port {port} after {timeout:.0f}s")


def stop_services(processes: list[subprocess.Popen], timeout: float = 30.0) -> None:
    """SIGTERM each process (and its process group's stragglers), then SIGKILL what is left."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
