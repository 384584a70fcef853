"""Fixtures of the serving tests: a prediction log in a new, empty store of each backend."""

import uuid

import psycopg
import pytest

from price_alchemy.settings import Settings


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
