"""The prediction store in a process of its own, so that writing the log never holds the
serving process's GIL.

Turning 500 rows into SQL parameters is about 10 ms of Python (SQLAlchemy's parameter and type
processing), taken in one piece from the threads that answer requests; with a million rows in
the sqlite log the writer thread used 0.10 ms of the API's CPU per request, an eighth of it.
Across a pipe the serving process only pickles the rows (about 0.3 ms per 500, 0.016 ms per
request) and waits, GIL released, while the store process writes them on the other core.

`StoreProcess(open_store)` offers what `PredictionLog` uses of a store (`describe`, `create`,
`write`, `close`); `open_store` (picklable) opens the real store inside the child. A child that
dies fails the call in flight with `PredictionStoreError` (so its rows are counted as dropped)
and is started again for the next one.
"""

import logging
import multiprocessing
import signal
from collections.abc import Callable

from price_alchemy.data.prediction_records import PredictionStoreError

log = logging.getLogger(__name__)
# spawned, not forked: fork is unsafe in a threaded server, and a fork server's children would
# see its working directory and environment, not the API's
_CONTEXT = multiprocessing.get_context("spawn")


def _serve(open_store: Callable, connection) -> None:
    """The child: open the store, say what it is (or why it cannot open), then run calls until
    the API closes it or is gone. Ctrl-C in a terminal (and a service manager's SIGTERM) reaches
    the whole process group, but the API still writes its queued records through this process
    while it shuts down, so it ignores them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        store = open_store()
    except Exception as error:  # the parent raises it, as if it had opened the store itself
        connection.send((False, error))
        return
    connection.send((True, store.describe()))
    method = None
    while method != "close":
        try:
            method, args = connection.recv()
        except EOFError:  # the parent is gone
            store.close()
            return
        try:
            getattr(store, method)(*args)
            connection.send((True, None))
        except PredictionStoreError as error:
            connection.send((False, str(error)))


class StoreProcess:
    """A prediction store run by a child process; see the module's docstring."""

    def __init__(self, open_store: Callable) -> None:
        self.open_store = open_store
        self._start()

    def describe(self) -> str:
        return self._description

    def create(self) -> None:
        self._call("create")

    def write(self, rows: list[dict]) -> None:
        self._call("write", rows)

    def close(self) -> None:
        """Let the child close the store and end."""
        try:
            if self._process.is_alive():
                self._connection.send(("close", ()))
                self._connection.recv()
        except (EOFError, OSError):
            pass  # it ended already: nothing left to close
        finally:
            self._connection.close()
            self._process.join(timeout=30)

    def _start(self) -> None:
        self._connection, child = _CONTEXT.Pipe()
        self._process = _CONTEXT.Process(
            target=_serve, args=(self.open_store, child), name="prediction-store", daemon=True
        )
        self._process.start()
        child.close()
        try:
            opened, answer = self._connection.recv()
        except EOFError:
            raise PredictionStoreError(self._exited()) from None
        if not opened:
            self._process.join()
            raise answer
        self._description = answer

    def _call(self, method: str, *args) -> None:
        try:
            self._connection.send((method, args))
            done, error = self._connection.recv()
        except (EOFError, OSError):
            why = self._exited()
            log.error("prediction store: %s; starting it again", why)
            try:
                self._start()
            except Exception as failure:  # tried again at the next call
                why = f"{why}; starting it again failed: {failure}"
            raise PredictionStoreError(why) from None
        if not done:
            raise PredictionStoreError(error)

    def _exited(self) -> str:
        self._process.join(timeout=5)
        return f"the prediction store's process exited (exit code {self._process.exitcode})"
