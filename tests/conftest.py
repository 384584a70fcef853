"""Shared fixtures: an isolated state directory per test, small listings, a trained champion.

Airflow reads its configuration at import, so its home is pointed at a throw-away folder before
any test module imports it.
"""

import atexit
import os
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from bigquery_emulator import EmulatorNotInstalled, make_client, start_emulator
from postgres_server import PostgresNotInstalled, start_postgres

if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="pa-airflow-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["NO_GCE_CHECK"] = "true"  # google-auth must never probe the GCE metadata address

from price_alchemy.settings import Settings, get_settings  # noqa: E402

SMALL_PARAMS = """
features:
  name_max_features: 3000
  description_max_features: 3000
  min_df: 2
model:
  top_k: 2000
  n_estimators: 60
  learning_rate: 0.2
  num_leaves: 31
blend:
  validation_size: 0.15
search:
  max_evals: 0
  sample_rows: 2000
"""
WINDOW = (datetime(2025, 1, 1), datetime(2026, 1, 1))


T0 = datetime(2025, 3, 1)


def tiny_listings(ids, created=None, **columns):
    """A few listings as an Arrow table: `created` defaults to hourly from T0; any column can
    be overridden with a list."""
    import pyarrow as pa

    from price_alchemy.warehouse import LISTING_SCHEMA

    ids = list(ids)
    data = {
        "train_id": ids,
        "name": [f"item {i}" for i in ids],
        "item_condition_id": [1 + i % 5 for i in ids],
        "category_name": ["Women/Tops & Blouses/Blouse"] * len(ids),
        "brand_name": [None if i % 2 else "Nike" for i in ids],
        "price": [10.25 + i for i in ids],
        "shipping": [i % 2 for i in ids],
        "item_description": ["fine, \"quoted\" and 'quoted'"] * len(ids),
        "created_at": created or [T0 + timedelta(hours=i) for i in range(len(ids))],
    }
    return pa.table(data | columns, schema=LISTING_SCHEMA)


def put_listings(warehouse, listings, replace: bool = False) -> int:
    """Load an Arrow table of listings into `warehouse` the way demo-data does."""
    from price_alchemy.load import load_table

    with tempfile.TemporaryDirectory() as work_dir:
        return load_table(warehouse, listings, Path(work_dir), replace)


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
    from price_alchemy.demo_data import generate_listings

    return generate_listings(4000, seed=3, end=WINDOW[1], days=300)


@pytest.fixture
def loaded_settings(settings: Settings, small_listings) -> Settings:
    """Settings whose warehouse holds `small_listings`."""
    from price_alchemy.warehouse import open_warehouse

    put_listings(open_warehouse(settings), small_listings)
    return settings


def train_champion(settings: Settings) -> dict:
    """Run every stage once on the settings' warehouse; returns what each stage returned."""
    from price_alchemy import data_stages, stages

    snapshot = data_stages.run_extract(*WINDOW, settings=settings)
    validation = data_stages.run_validate(snapshot["uri"], settings=settings)
    run_id = stages.run_train(validation, snapshot, settings=settings)
    metrics = stages.run_evaluate(run_id, validation["clean_uri"], settings=settings)
    registration = stages.run_register(run_id, validation["clean_uri"], settings=settings)
    return dict(
        snapshot=snapshot,
        validation=validation,
        run_id=run_id,
        metrics=metrics,
        registration=registration,
    )


@pytest.fixture
def trained_settings(loaded_settings: Settings) -> tuple[Settings, dict]:
    """This test's own state directory with one registered champion: (settings, outputs)."""
    return loaded_settings, train_champion(loaded_settings)


def champion_home(root: Path, listings) -> Settings:
    """Settings of a new state directory under `root` whose warehouse holds `listings` and
    whose registry holds a champion trained on them."""
    from price_alchemy.warehouse import open_warehouse

    (root / "params.yaml").write_text(SMALL_PARAMS)
    settings = Settings(home=root / "home", params_file=root / "params.yaml")
    put_listings(open_warehouse(settings), listings)
    train_champion(settings)
    return settings


@pytest.fixture(scope="session")
def champion_settings(tmp_path_factory, small_listings) -> Settings:
    """A state directory with a champion, shared by the tests that only read it."""
    return champion_home(tmp_path_factory.mktemp("champion"), small_listings)


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
