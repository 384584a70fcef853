"""A throw-away PostgreSQL server for tests, on loopback, stopped by PID.

    server = start_postgres()     # initdb in a temporary folder, start, wait until it answers
    server.url                    # postgresql+psycopg://price_alchemy@127.0.0.1:PORT/postgres
    server.stop()                 # fast shutdown (SIGINT), then SIGKILL; folder removed

The server binaries come from Debian's `postgresql` package (`make postgres` installs it).
PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user that the
package creates. Trust authentication on loopback: the server lives only as long as the tests.
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support.ports import PortTaken, on_free_port, says_port_taken

USER = "price_alchemy"
INSTALL_HINT = "run `make postgres` (installs Debian's postgresql package)"


class PostgresNotInstalled(RuntimeError):
    """No PostgreSQL server binaries."""


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    if found is None:
        raise PostgresNotInstalled(f"PostgreSQL's {name} not found: {INSTALL_HINT}")
    return found


def _server_user() -> dict:
    """subprocess arguments that run the server's tools as `postgres` when we are root (the
    process is then the server itself, so its PID is the server's)."""
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam("postgres")
    return {"user": account.pw_uid, "group": account.pw_gid}


@dataclass
class PostgresServer:
    folder: Path
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/postgres"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: ends open sessions
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres(timeout: float = 60.0) -> PostgresServer:
    """initdb and start a server on a free loopback port; wait until it accepts connections."""
    initdb, postgres = _binary("initdb"), _binary("postgres")
    folder = Path(tempfile.mkdtemp(prefix="pa-postgres-"))
    as_server = _server_user()
    if as_server:
        os.chown(folder, as_server["user"], as_server["group"])
    data = folder / "data"
    subprocess.run(
        [initdb, "-D", str(data), "-U", USER, "--auth=trust", "--no-sync"],
        check=True,
        capture_output=True,
        cwd=folder,
        **as_server,
    )

    def start(port: int) -> PostgresServer:
        log = open(folder / "server.log", "wb")  # noqa: SIM115 - the server writes it until stop
        command = [postgres, "-D", str(data), "-p", str(port), "-k", str(folder)]
        command += ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        process = subprocess.Popen(command, stdout=log, stderr=log, cwd=folder, **as_server)
        server = PostgresServer(folder, port, process)
        _wait_until_ready(server, timeout)
        return server

    return on_free_port(start)


def _wait_until_ready(server: PostgresServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(
                f"host=127.0.0.1 port={server.port} user={USER} dbname=postgres"
            ).close()
            return
        except psycopg.OperationalError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                log = (server.folder / "server.log").read_text(errors="replace")
                if server.process.poll() is not None and says_port_taken(log):
                    raise PortTaken(f"port {server.port}") from None
                server.stop()
                raise RuntimeError(f"PostgreSQL did not start:\n{log[-2000:]}") from None
            time.sleep(0.2)
