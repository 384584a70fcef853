"""The prediction log: every suggestion served, with the listing it priced and the model version
that priced it, for monitoring and audits.

Requests never wait for it: `record` puts rows on a bounded queue and returns at once; a writer
thread drains the queue in batches (up to `batch_size` rows or `flush_seconds` of answers) into
a prediction store (`prediction_store`: sqlite under the state directory by default, Postgres or
BigQuery by settings; the API runs it in a process of its own, `store_process`). When the
queue is full the rows are dropped and counted, never blocking an answer, as are the rows of a
write the store fails; `close` writes what is queued before the process ends.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable

from price_alchemy.data.prediction_records import PredictionStoreError

log = logging.getLogger(__name__)
_STOP = object()


class PredictionLog:
    """A bounded queue of prediction rows and the thread that writes them in batches."""

    def __init__(
        self,
        store,
        queue_size: int = 10_000,
        batch_size: int = 500,
        on_drop: Callable[[int], None] = lambda rows: None,
        flush_seconds: float = 0.5,
    ) -> None:
        self.store = store
        self.batch_size, self.on_drop, self.flush_seconds = batch_size, on_drop, flush_seconds
        self.written = 0
        self.last_error: str | None = None
        self._created = self._create_table()
        self.queue_size = queue_size
        self._queue: queue.Queue = queue.Queue()  # one item per answer: a list of rows
        self._waiting = 0  # rows queued, bounded by queue_size
        self._waiting_lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._write_loop, name="prediction-log", daemon=True)
        self._thread.start()

    def record(self, rows: list[dict]) -> int:
        """Queue the rows of one answer without waiting; rows beyond `queue_size` waiting, and
        every row once the log is closed, are dropped and counted. Returns how many were
        dropped."""
        with self._waiting_lock:
            room = 0 if self._closed else self.queue_size - self._waiting
            kept = rows[: max(room, 0)]
            self._waiting += len(kept)
        if kept:
            self._queue.put_nowait(kept)
        dropped = len(rows) - len(kept)
        if dropped:
            self.on_drop(dropped)
        return dropped

    def writable(self) -> bool:
        """The writer thread runs and its last write (if any) succeeded."""
        return self._thread.is_alive() and self.last_error is None

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, then stop the writer."""
        with self._waiting_lock:
            self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self.store.close()

    def _next_batch(self) -> tuple[list[dict], bool]:
        """Block for one answer, then gather more for up to `flush_seconds` or a full batch
        (one insert per batch, not per answer, keeps the writer's cost off the serving
        thread's back); (rows, stop?)."""
        rows, item = [], self._queue.get()
        deadline = time.monotonic() + self.flush_seconds
        while item is not _STOP:
            rows.extend(item)
            with self._waiting_lock:
                self._waiting -= len(item)
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
            self.store.create()
        except PredictionStoreError as error:
            self.last_error = str(error)
            log.error("prediction log %s unusable: %s", self.store.describe(), self.last_error)
            return False
        return True

    def _write(self, rows: list[dict]) -> None:
        if not self._created:
            self._created = self._create_table()
        try:
            self.store.write(rows)
        except PredictionStoreError as error:
            self.on_drop(len(rows))  # counted before the error shows, so whoever sees it sees both
            self.last_error = str(error)
            log.error("prediction log: %d rows not written: %s", len(rows), self.last_error)
            return
        self.written += len(rows)
        self.last_error = None
