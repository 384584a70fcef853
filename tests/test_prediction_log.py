"""The prediction log: N answers give exactly N rows, writes never block an answer, a full
queue drops and counts, and everything queued is written on close."""

import sqlite3
import time
from datetime import UTC, datetime

import sqlalchemy as sa

from price_alchemy.serving.prediction_log import TABLE, PredictionLog


def _row(request_id: str, position: int = 0) -> dict:
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
        "created_at": datetime.now(UTC).replace(tzinfo=None),
    }


def _rows(url: str) -> list:
    with sa.create_engine(url).connect() as connection:
        return connection.execute(sa.text(f"SELECT * FROM {TABLE} ORDER BY request_id")).all()


def test_every_record_is_written_once_in_batches(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    log = PredictionLog(url, queue_size=10_000, batch_size=64)
    for i in range(1000):
        assert log.record([_row(f"r{i:04d}")]) == 0
    log.close()
    rows = _rows(url)
    assert len(rows) == 1000 == log.written
    assert rows[0].request_id == "r0000" and rows[0].item_description == "名前 🎉"
    assert rows[0].model_version == "3"


def test_a_full_queue_drops_and_counts_instead_of_blocking(tmp_path):
    path = tmp_path / "log.db"
    url = f"sqlite:///{path}"
    dropped = []
    log = PredictionLog(url, queue_size=2, batch_size=1, on_drop=dropped.append)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # the writer now waits on its first insert
    log.record([_row("a")])
    deadline = time.monotonic() + 5
    while not log._queue.empty() and time.monotonic() < deadline:
        time.sleep(0.01)  # the writer has taken "a" and is stuck writing it
    started = time.perf_counter()
    assert log.record([_row("b"), _row("c"), _row("d", 1)]) == 1
    assert time.perf_counter() - started < 0.1
    assert dropped == [1]
    blocker.execute("COMMIT")
    blocker.close()
    log.close()
    assert [row.request_id for row in _rows(url)] == ["a", "b", "c"]


def test_a_failed_write_is_reported_and_counted(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    dropped = []
    log = PredictionLog(url, on_drop=dropped.append)
    with sa.create_engine(url).begin() as connection:
        connection.execute(sa.text(f"DROP TABLE {TABLE}"))
    log.record([_row("x"), _row("y", 1)])
    deadline = time.monotonic() + 5
    while log.last_error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not log.writable() and "no such table" in log.last_error
    assert dropped == [2]
    log.close()
