"""The prediction log: N answers give exactly N rows, writes never block an answer, a full
queue drops and counts, and everything queued is written on close; in sqlite and, through the
real google-cloud-bigquery client, in the BigQuery emulator."""

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from price_alchemy.data.bigquery_prediction_store import SCHEMA as BIGQUERY_SCHEMA
from price_alchemy.data.prediction_records import TABLE
from price_alchemy.data.prediction_store import open_prediction_store, read_served
from price_alchemy.data.sql_prediction_store import SqlPredictionStore, predictions_table
from price_alchemy.serving.app import create_app
from price_alchemy.serving.prediction_log import PredictionLog
from price_alchemy.serving.store_process import StoreProcess
from price_alchemy.settings import Settings
from tests.support.waiting import wait_for

T0 = datetime(2026, 3, 1, 12, 0)


def _row(request_id: str, position: int = 0, created_at: datetime | None = None) -> dict:
    return {
        "request_id": request_id,
        "position": position,
        "name": "Nike shoes",
        "item_condition_id": 2,
        "category_name": "Men/Shoes/Athletic",
        "brand_name": None,
        "shipping": 1,
        "item_description": "名前 🎉",
        "price": 25.0,
        "low": 18.0,
        "high": 33.0,
        "currency": "USD",
        "model_name": "price-alchemy",
        "model_version": "3",
        "created_at": created_at or datetime.now(UTC).replace(tzinfo=None),
    }


def _rows(url: str) -> list:
    with sa.create_engine(url).connect() as connection:
        return connection.execute(sa.text(f"SELECT * FROM {TABLE} ORDER BY request_id")).all()


def _in_own_process(url: str) -> StoreProcess:
    return StoreProcess(partial(SqlPredictionStore, url))


def _store_children() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.name == "prediction-store"]


# the store in the serving process, and in a process of its own (as the API runs it)
STORES = pytest.mark.parametrize("store", [SqlPredictionStore, _in_own_process])


@STORES
def test_every_record_is_written_once_in_batches(store, tmp_path):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    log = PredictionLog(store(url), queue_size=10_000, batch_size=64)
    for i in range(1000):
        assert log.record([_row(f"r{i:04d}")]) == 0
    log.close()
    rows = _rows(url)
    assert len(rows) == 1000 == log.written
    with sqlite3.connect(tmp_path / "log.db") as db:  # a write-ahead log: reads never block it
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert rows[0].request_id == "r0000" and rows[0].item_description == "名前 🎉"
    assert rows[0].model_version == "3"


@STORES
def test_a_full_queue_drops_and_counts_instead_of_blocking(store, tmp_path):
    path = tmp_path / "log.db"
    url = f"sqlite:///{path}"
    dropped = []
    log = PredictionLog(store(url), queue_size=2, batch_size=1, on_drop=dropped.append)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # the writer now waits on its first insert
    log.record([_row("a")])
    wait_for(log._queue.empty, seconds=5)  # the writer has taken "a" and is stuck writing it
    started = time.perf_counter()
    assert log.record([_row("b"), _row("c"), _row("d", 1)]) == 1
    assert time.perf_counter() - started < 0.1
    assert dropped == [1]
    blocker.execute("COMMIT")
    blocker.close()
    log.close()
    assert [row.request_id for row in _rows(url)] == ["a", "b", "c"]


@STORES
def test_a_failed_write_is_reported_and_counted(store, tmp_path):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    dropped = []
    log = PredictionLog(store(url), on_drop=dropped.append)
    with sa.create_engine(url).begin() as connection:
        connection.execute(sa.text(f"DROP TABLE {TABLE}"))
    log.record([_row("x"), _row("y", 1)])
    wait_for(lambda: log.last_error is not None, seconds=5)
    assert not log.writable() and "no such table" in log.last_error
    assert dropped == [2]
    log.close()


@STORES
def test_a_record_after_close_is_dropped_and_counted(store, tmp_path):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    dropped = []
    log = PredictionLog(store(url), on_drop=dropped.append)
    log.record([_row("before")])
    log.close()
    assert log.record([_row("late"), _row("later", 1)]) == 2
    assert dropped == [2] and [row.request_id for row in _rows(url)] == ["before"]


def test_the_store_process_writes_and_ends_on_close(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    log = PredictionLog(_in_own_process(url), batch_size=64)
    [child] = _store_children()
    assert child.pid != os.getpid() and log.store.describe() == url
    for i in range(300):
        log.record([_row(f"r{i:03d}")])
    log.close()
    assert len(_rows(url)) == 300 == log.written
    assert not child.is_alive() and _store_children() == []


def test_a_store_that_cannot_open_fails_as_it_would_in_process(tmp_path):
    with pytest.raises(sa.exc.NoSuchModuleError, match="nosuchdb"):
        SqlPredictionStore("nosuchdb://somewhere")
    with pytest.raises(sa.exc.NoSuchModuleError, match="nosuchdb"):
        _in_own_process("nosuchdb://somewhere")
    assert _store_children() == []


def test_a_killed_store_process_costs_only_the_write_in_flight(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    dropped = []
    log = PredictionLog(_in_own_process(url), on_drop=dropped.append, flush_seconds=0.05)
    log.record([_row("before")])
    wait_for(lambda: log.written == 1)
    [child] = _store_children()
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    log.record([_row("lost-1"), _row("lost-2", 1)])
    wait_for(lambda: log.last_error is not None)
    assert "process exited (exit code -9)" in log.last_error and not log.writable()
    assert dropped == [2]
    [restarted] = _store_children()
    assert restarted.pid != child.pid
    log.record([_row("after")])
    wait_for(lambda: log.written == 2)
    assert log.writable()  # the next write succeeded: writable again
    log.close()
    assert [row.request_id for row in _rows(url)] == ["after", "before"]


STARTS_A_STORE_PROCESS = """
import multiprocessing, sys, time
from functools import partial
from price_alchemy.data.sql_prediction_store import SqlPredictionStore
from price_alchemy.serving.store_process import StoreProcess
store = StoreProcess(partial(SqlPredictionStore, sys.argv[1]))
print(multiprocessing.active_children()[0].pid, flush=True)
time.sleep(600)
"""


def _ended(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] in "ZX"
    except FileNotFoundError:
        return True


def test_the_store_process_ends_when_the_api_is_killed(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    api = subprocess.Popen(
        [sys.executable, "-c", STARTS_A_STORE_PROCESS, url], stdout=subprocess.PIPE, text=True
    )
    child = int(api.stdout.readline())
    assert not _ended(child)
    api.kill()
    api.wait()
    wait_for(lambda: _ended(child))
    assert _ended(child)


def test_every_row_is_kept_and_a_window_read_back(fresh_log, tmp_path):
    settings = fresh_log(Settings(home=tmp_path))
    log = PredictionLog(open_prediction_store(settings), batch_size=64)
    for i in range(150):
        log.record([_row(f"r{i:03d}", created_at=T0 + timedelta(minutes=i))])
    log.close()
    assert log.written == 150 and log.last_error is None
    served = read_served(settings, T0 + timedelta(minutes=100), T0 + timedelta(minutes=200))
    assert sorted(served["request_id"]) == [f"r{i:03d}" for i in range(100, 150)]
    first = served.sort_values("request_id").iloc[0]
    assert first["created_at"] == T0 + timedelta(minutes=100)  # naive UTC in every store
    assert first["item_description"] == "名前 🎉" and pd.isna(first["brand_name"])
    assert (first["price"], first["low"], first["high"]) == (25.0, 18.0, 33.0)


def test_a_log_never_written_reads_none(fresh_log, tmp_path):
    settings = fresh_log(Settings(home=tmp_path))
    assert read_served(settings, T0, T0 + timedelta(days=1)) is None


def test_the_api_logs_every_answer(fresh_log, champion_settings):
    settings = fresh_log(champion_settings).model_copy(update={"model_poll_seconds": 0})
    started = datetime.now(UTC).replace(tzinfo=None)
    listing = {"name": "Apple iPhone 128GB", "item_condition_id": 2, "shipping": 1}
    with TestClient(create_app(settings)) as client:
        for i in range(20):
            answer = client.post(
                "/v1/price-suggestions",
                json={"listings": [listing, listing]},
                headers={"X-Request-ID": f"req-{i}"},
            )
            assert answer.status_code == 200
        assert client.get("/readyz").json()["prediction_log_writable"]
    served = read_served(settings, started, datetime.now(UTC).replace(tzinfo=None))
    assert len(served) == 40
    assert set(served["request_id"]) == {f"req-{i}" for i in range(20)}
    assert set(served["model_version"]) == {"1"} and (served["price"] > 0).all()


def _create_the_log_of_version_0_1(store) -> None:
    """The prediction log's table as version 0.1 created it (its first 15 columns), holding
    one row, "old"."""
    if isinstance(store, SqlPredictionStore):
        columns = list(predictions_table(sa.MetaData()).columns)[:15]
        table = sa.Table(TABLE, sa.MetaData(), *(sa.Column(c.name, c.type) for c in columns))
        table.metadata.create_all(store.engine)
        with store.engine.begin() as connection:
            connection.execute(table.insert(), [_row("old")])
    else:
        store.create_table(BIGQUERY_SCHEMA[:15])
        store.write([_row("old")])


def test_a_log_of_an_earlier_version_gains_the_new_columns(fresh_log, tmp_path):
    """A log created before listing ids and experiments keeps its rows, gains the new columns
    as nulls, and takes rows with them."""
    settings = fresh_log(Settings(home=tmp_path))
    old = open_prediction_store(settings)
    _create_the_log_of_version_0_1(old)
    old.close()
    log = PredictionLog(open_prediction_store(settings))
    log.record([_row("new") | {"listing_id": "m-1", "arm": "challenger", "served": 0}])
    log.close()
    assert log.last_error is None and log.written == 1
    rows = read_served(settings, T0 - timedelta(days=1), datetime.now(UTC).replace(tzinfo=None))
    rows = rows.sort_values("request_id").reset_index(drop=True)
    assert list(rows["request_id"]) == ["new", "old"]
    assert rows.loc[0, "listing_id"] == "m-1" and rows.loc[0, "arm"] == "challenger"
    assert pd.isna(rows.loc[1, "listing_id"]) and pd.isna(rows.loc[1, "arm"])
