"""A project as a user has it: a state directory with small model params, and the
`price-alchemy` command line run against it in a clean environment (no inherited Airflow or
Price Alchemy variables), the way the tests that drive whole DAGs and services use it."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx

from price_alchemy.data.backends import open_warehouse
from price_alchemy.demo.generator import generate_listings
from price_alchemy.lifecycle.tracking import use_tracking
from price_alchemy.settings import Settings
from tests.support.listings import SMALL_PARAMS, put_listings
from tests.support.ports import PortTaken, on_free_port, says_port_taken

CLI = str(Path(sys.executable).with_name("price-alchemy"))


class Project:
    """A state directory and the environment of `price-alchemy` commands that use it."""

    def __init__(self, root: Path):
        self.root = root
        (root / "params.yaml").write_text(SMALL_PARAMS)
        self.settings = Settings(home=root / "home", params_file=root / "params.yaml")
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PRICE_ALCHEMY"))
        }
        self.env = base | {
            "PRICE_ALCHEMY_HOME": str(self.settings.home),
            "PRICE_ALCHEMY_PARAMS_FILE": str(self.settings.params_file),
        }

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        run = subprocess.run([CLI, *args], env=self.env, capture_output=True, text=True)
        assert run.returncode == 0 or not check, run.stdout[-3000:] + run.stderr[-3000:]
        return run

    def dag_test(self, dag_id: str, logical_date: datetime, conf: dict) -> None:
        stamp = logical_date.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        self.cli("airflow", "dags", "test", dag_id, stamp, "-c", json.dumps(conf))

    def runs(self, dag_id: str) -> list[dict]:
        out = self.cli("airflow", "dags", "list-runs", dag_id, "-o", "json").stdout
        [listing] = [line for line in out.splitlines() if line.startswith(("[{", "[]"))]
        return json.loads(listing)

    def add_listings(self, rows: int, end: datetime, drift: float, seed: int) -> None:
        listings = generate_listings(rows, seed, end, days=2, id_offset=seed * 10**5, drift=drift)
        put_listings(open_warehouse(self.settings), listings)

    def mlflow_runs(self, experiment: str, kind: str) -> list:
        client = use_tracking(self.settings)
        found = client.get_experiment_by_name(experiment)
        order = ["attributes.start_time ASC"]
        return client.search_runs([found.experiment_id], f"tags.kind = '{kind}'", order_by=order)


@contextmanager
def serve(
    env: dict[str, str],
    timeout: float = 90,
    output: Path | None = None,
    ctrl_c: bool = False,
    command: tuple[str, ...] = (CLI, "serve"),
    cwd: Path | None = None,
) -> Iterator[str]:
    """`command` (default `price-alchemy serve`) with `--port` on a free loopback port, until
    /readyz answers 200 (its output to the file `output`, else a temporary one); yields its
    base URL, then stops it with SIGTERM to its PID, or with `ctrl_c` as Ctrl-C in a terminal
    would: SIGINT to its whole process group. Either is a graceful shutdown: queued prediction
    records are written. A port taken before the server bound it is replaced by another."""
    with tempfile.TemporaryDirectory() as folder:
        log = Path(output or Path(folder) / "server.log")

        def start(port: int) -> tuple[subprocess.Popen, str]:
            return _start_server([*command, "--port", str(port)], env, cwd, log, port, timeout)

        server, base_url = on_free_port(start)
        try:
            yield base_url
        finally:
            if ctrl_c:
                os.killpg(server.pid, signal.SIGINT)
            else:
                server.terminate()
            server.wait(timeout=30)


def _start_server(
    command: list[str], env: dict, cwd: Path | None, log: Path, port: int, timeout: float
) -> tuple[subprocess.Popen, str]:
    """The server started and ready; PortTaken when it could not bind `port`."""
    with open(log, "ab") as out:
        server = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=out,
            start_new_session=True,  # a process group of its own, as in a terminal
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while not _ready(base_url):
        if server.poll() is not None:
            text = log.read_text(errors="replace")
            if says_port_taken(text):
                raise PortTaken(f"port {port}")
            raise RuntimeError(f"the server exited ({server.returncode}):\n{text[-3000:]}")
        if time.monotonic() > deadline:
            server.kill()
            raise TimeoutError(f"the API did not become ready within {timeout:.0f}s")
        time.sleep(0.3)
    return server, base_url


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
