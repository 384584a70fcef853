"""A local BigQuery emulator for tests: PyPI `bqemulator`, run as a separate process.

The emulator lives in its own venv, `.venv-bqemulator/` (made by `make bqemulator`), because its
dependencies conflict with Airflow's; `scripts/run_bqemulator.py` starts it offline on loopback.

    emulator = start_emulator()          # free loopback ports, waits until it answers
    client = make_client(emulator)       # the real google-cloud-bigquery client
    ...
    emulator.stop()                      # SIGTERM, then SIGKILL; idempotent

Known limits of the emulator (bqemulator 1.4.0, measured): `load_table_from_dataframe` and
`load_table_from_json` fail (400, multipart upload); load Parquet from a file object through
`load_table_from_file` without `size=` instead (see `load_parquet`). No GEOGRAPHY / ST_*.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ports import free_port, says_port_taken

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "scripts" / "run_bqemulator.py"
REQUIREMENTS = ROOT / "requirements-bqemulator.txt"
HOST = "127.0.0.1"
INSTALL_HINT = "run `make bqemulator` (creates .venv-bqemulator from requirements-bqemulator.txt)"


class EmulatorNotInstalled(RuntimeError):
    """The emulator's venv is missing or out of date."""


class EmulatorStartError(RuntimeError):
    """The emulator process exited or did not answer in time."""


def emulator_venv() -> Path:
    return Path(os.environ.get("BQEMULATOR_VENV", ROOT / ".venv-bqemulator"))


def emulator_python() -> Path:
    """The emulator venv's python; raises EmulatorNotInstalled (with the fix) if unusable."""
    venv = emulator_venv()
    python = venv / "bin" / "python"
    if not python.exists():
        raise EmulatorNotInstalled(f"BigQuery emulator venv {venv} is missing: {INSTALL_HINT}")
    stamp = venv / ".installed"
    want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text().strip() != want:
        raise EmulatorNotInstalled(
            f"BigQuery emulator venv {venv} does not match {REQUIREMENTS.name}: {INSTALL_HINT}"
        )
    return python


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])[-6000:]


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the test process dies (Linux), so no orphan."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class Emulator:
    """A running emulator process. `endpoint` is the REST base URL for ClientOptions."""

    endpoint: str
    project: str
    pid: int
    rest_port: int
    grpc_port: int
    log_path: Path
    _process: subprocess.Popen = field(repr=False, compare=False)
    _stopped: bool = field(default=False, repr=False, compare=False)

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the emulator, SIGKILL it after `timeout` s, then kill its group's stragglers."""
        if self._stopped:
            return
        self._stopped = True
        process = self._process
        if process.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout)
        # It was started in its own session, so its process group id is its pid.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _ready(rest_port: int, grpc_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{rest_port}/readyz", timeout=1) as response:
            if response.status != 200:
                return False
    except (urllib.error.URLError, OSError):
        return False
    try:  # gRPC starts after REST; wait for it too
        with socket.create_connection((HOST, grpc_port), timeout=1):
            return True
    except OSError:
        return False


def _spawn(python: Path, project: str, rest_port: int, grpc_port: int, log_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BQEMU_")}
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(key, None)
    env["PYTHONUNBUFFERED"] = "1"
    command = [
        str(python),
        str(LAUNCHER),
        "--rest-port",
        str(rest_port),
        "--grpc-port",
        str(grpc_port),
        "--project",
        project,
    ]
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=log_path.parent,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )


def start_emulator(
    project: str = "test-project",
    timeout: float = 60.0,
    attempts: int = 3,
    log_dir: Path | None = None,
) -> Emulator:
    """Start the emulator on free loopback ports and wait until REST and gRPC answer.

    Raises EmulatorNotInstalled if .venv-bqemulator is missing or stale, EmulatorStartError
    (with the tail of the emulator's log) if it exits or is not ready within `timeout` seconds.
    A start that loses a race for its ports is retried on new ones, up to `attempts` times.
    The emulator's output goes to a log file in `log_dir` (a new temporary folder by default).
    """
    python = emulator_python()
    if not LAUNCHER.exists():
        raise EmulatorStartError(f"launcher {LAUNCHER} is missing")
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="bqemulator-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        rest_port = free_port()
        grpc_port = free_port()
        while grpc_port == rest_port:
            grpc_port = free_port()
        log_path = log_dir / f"bqemulator-{attempt}.log"
        process = _spawn(python, project, rest_port, grpc_port, log_path)
        emulator = Emulator(
            endpoint=f"http://{HOST}:{rest_port}",
            project=project,
            pid=process.pid,
            rest_port=rest_port,
            grpc_port=grpc_port,
            log_path=log_path,
            _process=process,
        )
        atexit.register(emulator.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if _ready(rest_port, grpc_port):
                return emulator
            time.sleep(0.1)
        emulator.stop()
        tail = _tail(log_path)
        if process.returncode not in (None, -signal.SIGTERM) and attempt < attempts:
            if says_port_taken(tail):
                continue
        reason = (
            f"exited with code {process.returncode}"
            if process.returncode not in (None, -signal.SIGTERM, -signal.SIGKILL)
            else f"did not answer on {emulator.endpoint}/readyz within {timeout:g} s"
        )
        raise EmulatorStartError(
            f"BigQuery emulator {reason} (log {log_path}); last lines:\n{tail}"
        )
    raise AssertionError("unreachable")


def make_client(emulator: Emulator):
    """The real google-cloud-bigquery client, talking to the emulator anonymously."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    return bigquery.Client(
        project=emulator.project,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=emulator.endpoint),
    )


def load_parquet(client, table, arrow_table, write_disposition: str = "WRITE_APPEND"):
    """Load a pyarrow Table into `table` the way the emulator accepts: Parquet bytes through
    `load_table_from_file` with no `size` (a resumable upload). Returns the finished job."""
    import pyarrow.parquet as pq
    from google.cloud import bigquery

    buffer = io.BytesIO()
    pq.write_table(arrow_table, buffer)
    buffer.seek(0)
    job_config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.PARQUET, write_disposition=write_disposition
    )
    job = client.load_table_from_file(buffer, table, job_config=job_config)
    return job.result()
