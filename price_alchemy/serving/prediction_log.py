"""The prediction log: every suggestion served, with the listing it priced and the model version
that priced it, for monitoring and audits.

Requests never wait for it: `record` puts rows on a bounded queue and returns at once; a writer
thread drains the queue in batches (up to `batch_size` rows or `flush_seconds` of answers) into
a SQL table (`predictions`; sqlite under the state
directory by default, any SQLAlchemy URL such as Postgres by settings). When the queue is full
the rows are dropped and counted, never blocking an answer; `close` writes what is queued
before the process ends. `read_served` gives the monitoring DAG a window of it.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

log = logging.getLogger(__name__)
TABLE = "predictions"
_COLUMNS = [
    sa.Column("request_id", sa.String(128), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("item_condition_id", sa.Integer, nullable=False),
    sa.Column("category_name", sa.Text),
    sa.Column("brand_name", sa.Text),
    sa.Column("shipping", sa.Integer, nullable=False),
    sa.Column("item_description", sa.Text),
    sa.Column("price", sa.Float, nullable=False),
    sa.Column("low", sa.Float, nullable=False),
    sa.Column("high", sa.Float, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("model_version", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),  # naive UTC
]
_STOP = object()


def predictions_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(TABLE, metadata, *(column.copy() for column in _COLUMNS))


class PredictionLog:
    """A bounded queue of prediction rows and the thread that writes them in batches."""

    def __init__(
        self,
        url: str,
        queue_size: int = 10_000,
        batch_size: int = 500,
        on_drop: Callable[[int], None] = lambda rows: None,
        flush_seconds: float = 0.5,
    ) -> None:
        _make_sqlite_folder(url)
        self.engine = sa.create_engine(url)
        self.table = predictions_table(sa.MetaData())
        self.batch_size, self.on_drop, self.flush_seconds = batch_size, on_drop, flush_seconds
        self.written = 0
        self.last_error: str | None = None
        self._created = self._create_table()
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._write_loop, name="prediction-log", daemon=True)
        self._thread.start()

    def record(self, rows: list[dict]) -> int:
        """Queue the rows of one answer without waiting; returns how many were dropped."""
        for done, row in enumerate(rows):
            try:
                self._queue.put_nowait(row)
            except queue.Full:
                dropped = len(rows) - done
                self.on_drop(dropped)
                return dropped
        return 0

    def writable(self) -> bool:
        """The writer thread runs and its last write (if any) succeeded."""
        return self._thread.is_alive() and self.last_error is None

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, then stop the writer."""
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self.engine.dispose()

    def _next_batch(self) -> tuple[list[dict], bool]:
        """Block for one row, then gather more for up to `flush_seconds` or a full batch (one
        insert per batch, not per answer, keeps the writer's cost off the serving thread's
        back); (rows, stop?)."""
        rows, item = [], self._queue.get()
        deadline = time.monotonic() + self.flush_seconds
        while item is not _STOP:
            rows.append(item)
            if len(rows) >= self.batch_size:
                return rows, False
            try:
                item = self._queue.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                return rows, False
        return rows, True

    def _write_loop(self) -> None:
        stop = False
        while not stop:
            rows, stop = self._next_batch()
            if rows:
                self._write(rows)

    def _create_table(self) -> bool:
        """Create the table when missing; False (and the error kept) when the store fails."""
        try:
            self.table.metadata.create_all(self.engine)
        except sa.exc.SQLAlchemyError as error:
            self.last_error = f"{type(error).__name__}: {error}"
            log.error("prediction log unusable: %s", self.last_error)
            return False
        return True

    def _write(self, rows: list[dict]) -> None:
        if not self._created:
            self._created = self._create_table()
        try:
            with self.engine.begin() as connection:
                connection.execute(self.table.insert(), rows)
        except sa.exc.SQLAlchemyError as error:
            self.last_error = f"{type(error).__name__}: {error}"
            log.error("prediction log: %d rows not written: %s", len(rows), self.last_error)
            self.on_drop(len(rows))
            return
        self.written += len(rows)
        self.last_error = None


def _sqlite_path(url: str) -> Path | None:
    location = sa.engine.make_url(url)
    if not location.drivername.startswith("sqlite") or not location.database:
        return None
    return Path(location.database)


def _make_sqlite_folder(url: str) -> None:
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def read_served(url: str, start: datetime, end: datetime) -> pd.DataFrame | None:
    """The suggestions served in `[start, end)` (naive UTC), or None when there is no log."""
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        return None
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table(TABLE):
            return None
        table = predictions_table(sa.MetaData())
        query = sa.select(table).where(table.c.created_at >= start, table.c.created_at < end)
        with engine.connect() as connection:
            return pd.read_sql(query, connection)
    finally:
        engine.dispose()
