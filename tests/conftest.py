"""Shared fixtures: an isolated state directory per test, small listings, a trained champion,
the services (BigQuery emulator, Postgres) and a prediction log in a new store of each backend.

Airflow reads its configuration at import, so its home is pointed at a throw-away folder before
any test module imports it.
"""

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

if not os.environ.get("AIRFLOW_HOME"):
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="pa-airflow-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["NO_GCE_CHECK"] = "true"  # google-auth must never probe the GCE metadata address
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:  # nothing written into the checkout
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = tempfile.mkdtemp(prefix="pa-hypothesis-")
    atexit.register(shutil.rmtree, os.environ["HYPOTHESIS_STORAGE_DIRECTORY"], ignore_errors=True)

from price_alchemy.settings import Settings, get_settings  # noqa: E402
from tests.support.bigquery_emulator import (  # noqa: E402
    EmulatorNotInstalled,
    make_client,
    start_emulator,
)
from tests.support.champion import Trained, champion_home, train_champion  # noqa: E402
from tests.support.listings import SMALL_PARAMS, WINDOW, put_listings  # noqa: E402
from tests.support.postgres_server import PostgresNotInstalled, start_postgres  # noqa: E402


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose state directory is this test's own, with small, fast model params."""
    params_file = tmp_path / "params.yaml"
    params_file.write_text(SMALL_PARAMS)
    monkeypatch.setenv("PRICE_ALCHEMY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PRICE_ALCHEMY_PARAMS_FILE", str(params_file))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def small_listings():
    """4,000 realistic listings dated inside WINDOW, as a pyarrow Table."""
    from price_alchemy.demo.generator import generate_listings

    return generate_listings(4000, seed=3, end=WINDOW[1], days=300)


@pytest.fixture
def loaded_settings(settings: Settings, small_listings) -> Settings:
    """Settings whose warehouse holds `small_listings`."""
    from price_alchemy.data.backends import open_warehouse

    put_listings(open_warehouse(settings), small_listings)
    return settings


@pytest.fixture
def trained_settings(loaded_settings: Settings) -> tuple[Settings, Trained]:
    """This test's own state directory with one registered champion, for tests that change
    it: (settings, what training returned)."""
    return loaded_settings, train_champion(loaded_settings)


@pytest.fixture(scope="module")
def trained_home(tmp_path_factory, small_listings) -> tuple[Settings, Trained]:
    """One state directory with a registered champion per test module, and what training
    returned, for the module's tests that only read it."""
    return champion_home(tmp_path_factory.mktemp("trained"), small_listings)


@pytest.fixture
def trained_shared(trained_home, monkeypatch) -> tuple[Settings, Trained]:
    """`trained_home` as this test's settings (the environment points at it too, for the
    command line): for tests that read the champion and its runs but change nothing."""
    settings, trained = trained_home
    monkeypatch.setenv("PRICE_ALCHEMY_HOME", str(settings.home))
    monkeypatch.setenv("PRICE_ALCHEMY_PARAMS_FILE", str(settings.params_file))
    get_settings.cache_clear()
    yield settings, trained
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def champion_settings(tmp_path_factory, small_listings) -> Settings:
    """A state directory with a champion, shared by the tests that only read it."""
    return champion_home(tmp_path_factory.mktemp("champion"), small_listings)[0]


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory):
    """One BigQuery emulator process on loopback for the session, stopped by PID; fails (not
    skips) when `make bqemulator` has not installed it."""
    try:
        emulator = start_emulator(log_dir=tmp_path_factory.mktemp("bqemulator"))
    except EmulatorNotInstalled as exc:
        pytest.fail(str(exc), pytrace=False)
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def bq_client(bigquery_emulator):
    """The real google-cloud-bigquery client, pointed at the emulator."""
    client = make_client(bigquery_emulator)
    yield client
    client.close()


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server on loopback for the session, stopped by PID; fails (not skips)
    when `make postgres` has not installed it."""
    try:
        server = start_postgres()
    except PostgresNotInstalled as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.slow),
        pytest.param("bigquery", marks=pytest.mark.slow),
    ]
)
def fresh_log(request, tmp_path):
    """A function: settings -> the same settings with the prediction log in a new, empty store
    of the backend (sqlite file, Postgres database, BigQuery dataset in the emulator)."""
    backend = request.param

    def fresh(settings: Settings) -> Settings:
        name = f"log_{uuid.uuid4().hex[:8]}"
        if backend == "sqlite":
            return settings.model_copy(
                update={"prediction_log_url": f"sqlite:///{tmp_path / name}.db"}
            )
        if backend == "postgres":
            server = request.getfixturevalue("postgres_server")
            with psycopg.connect(server.url.replace("+psycopg", ""), autocommit=True) as db:
                db.execute(f"CREATE DATABASE {name}")
            url = server.url.rsplit("/", 1)[0] + f"/{name}"
            return settings.model_copy(update={"prediction_log_url": url})
        emulator = request.getfixturevalue("bigquery_emulator")
        return settings.model_copy(
            update={
                "bigquery_project": emulator.project,
                "bigquery_endpoint": emulator.endpoint,
                "bigquery_dataset": name,
                "bigquery_retry_seconds": 5,
                "prediction_log_url": "bigquery:predictions",
            }
        )

    return fresh


SERVICES = {"bigquery_emulator", "bq_client", "postgres_server"}


def pytest_collection_modifyitems(items) -> None:
    """A test that starts a service is slow, whichever module it is in."""
    for item in items:
        if SERVICES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
