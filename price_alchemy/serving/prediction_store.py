"""Where the prediction log's rows are kept: a SQL table `predictions` by SQLAlchemy URL (sqlite
under the state directory by default, Postgres by settings), or a BigQuery table
(`PRICE_ALCHEMY_PREDICTION_LOG_URL=bigquery:TABLE`, in the warehouse's BigQuery project and
dataset, see `prediction_store_bigquery`).

A store creates its table when missing, appends rows (`write`, raising `PredictionStoreError`
when the store fails) and reads the suggestions served in a time window (`read`, None when
there is no log yet). `read_served` gives the monitoring DAG that window.
"""

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:  # imported where read: the API's store process never reads (85 MB less)
    import pandas as pd

TABLE = "predictions"
BIGQUERY_SCHEME = "bigquery:"
# (column, kind, required); kinds: str, int, float, datetime (naive UTC)
FIELDS = (
    ("request_id", "str", True),
    ("position", "int", True),
    ("name", "str", True),
    ("item_condition_id", "int", True),
    ("category_name", "str", False),
    ("brand_name", "str", False),
    ("shipping", "int", True),
    ("item_description", "str", False),
    ("price", "float", True),
    ("low", "float", True),
    ("high", "float", True),
    ("currency", "str", True),
    ("model_name", "str", True),
    ("model_version", "str", True),
    ("created_at", "datetime", True),
)
INDEXED = ("request_id", "created_at")
_SQL_TYPES = {"str": sa.Text, "int": sa.Integer, "float": sa.Float, "datetime": sa.DateTime}


class PredictionStoreError(RuntimeError):
    """The store refused or failed a write or read."""


def predictions_table(metadata: sa.MetaData) -> sa.Table:
    columns = [
        sa.Column(name, _SQL_TYPES[kind], nullable=not required, index=name in INDEXED)
        for name, kind, required in FIELDS
    ]
    return sa.Table(TABLE, metadata, *columns)


class SqlPredictionStore:
    """The `predictions` table of a SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite_path = _sqlite_path(url)
        self.engine = sa.create_engine(url)
        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            sa.event.listen(self.engine, "connect", _write_ahead_log)
        self.table = predictions_table(sa.MetaData())

    def describe(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def create(self) -> None:
        with _store_errors():
            self.table.metadata.create_all(self.engine)

    def write(self, rows: list[dict]) -> None:
        # With RETURNING, SQLAlchemy sends the rows as a few multi-row INSERTs
        # ("insertmanyvalues") rather than the driver's executemany, which steps one row at a
        # time: 22 ms of CPU for 500 rows instead of 9-12, and next to busy threads it hands
        # the GIL to and fro at each row (half a second of wall time under load).
        statement = self.table.insert()
        if self.engine.dialect.insert_executemany_returning:
            statement = statement.returning(self.table.c.position)
        with _store_errors(), self.engine.begin() as connection:
            connection.execute(statement, rows)

    def read(self, start: datetime, end: datetime) -> "pd.DataFrame | None":
        if self.sqlite_path is not None and not self.sqlite_path.exists():
            return None
        with _store_errors():
            if not sa.inspect(self.engine).has_table(TABLE):
                return None
            table = self.table
            query = sa.select(table).where(table.c.created_at >= start, table.c.created_at < end)
            with self.engine.connect() as connection:
                import pandas as pd

                return pd.read_sql(query, connection)

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def _store_errors():
    """SQLAlchemy errors as PredictionStoreError."""
    try:
        yield
    except sa.exc.SQLAlchemyError as error:
        raise PredictionStoreError(f"{type(error).__name__}: {error}") from error


def _write_ahead_log(connection, _record) -> None:
    """sqlite in write-ahead-log mode: a commit appends to the log instead of rewriting a
    journal (a third of a 100-row write), and the monitoring DAG's reads never block the
    service's writes."""
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")


def _sqlite_path(url: str) -> Path | None:
    location = sa.engine.make_url(url)
    if not location.drivername.startswith("sqlite") or not location.database:
        return None
    return Path(location.database)


def open_prediction_store(settings):
    """The store `settings.prediction_log` names."""
    url = settings.prediction_log
    if url.startswith(BIGQUERY_SCHEME):
        from price_alchemy.serving.prediction_store_bigquery import BigQueryPredictionStore

        return BigQueryPredictionStore.for_table(settings, url.removeprefix(BIGQUERY_SCHEME))
    return SqlPredictionStore(url)


def read_served(settings, start: datetime, end: datetime) -> "pd.DataFrame | None":
    """The suggestions served in `[start, end)` (naive UTC), or None when there is no log."""
    store = open_prediction_store(settings)
    try:
        return store.read(start, end)
    finally:
        store.close()
