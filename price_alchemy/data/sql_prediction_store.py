"""The prediction log as a SQL table `predictions`, by SQLAlchemy URL: sqlite under the state
directory by default (in write-ahead-log mode), Postgres by settings."""

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from price_alchemy.data.prediction_records import (
    FIELDS,
    INDEXED,
    OUTCOME_FIELDS,
    OUTCOME_KEY,
    OUTCOME_PAIR_SQL,
    OUTCOMES_TABLE,
    TABLE,
    PredictionStoreError,
)

if TYPE_CHECKING:  # imported where read: the API's store process never reads (85 MB less)
    import pandas as pd

_SQL_TYPES = {"str": sa.Text, "int": sa.Integer, "float": sa.Float, "datetime": sa.DateTime}


def predictions_table(metadata: sa.MetaData) -> sa.Table:
    columns: list[sa.Column] = [
        sa.Column(name, _SQL_TYPES[kind], nullable=not required, index=name in INDEXED)
        for name, kind, required in FIELDS
    ]
    return sa.Table(TABLE, metadata, *columns)


def outcomes_table(metadata: sa.MetaData) -> sa.Table:
    """One row per listing and event: the key is the primary key, so a repeat replaces."""
    columns: list[sa.Column] = [
        sa.Column(name, _SQL_TYPES[kind], nullable=not required, primary_key=name in OUTCOME_KEY)
        for name, kind, required in OUTCOME_FIELDS
    ]
    return sa.Table(OUTCOMES_TABLE, metadata, *columns)


class SqlPredictionStore:
    """The `predictions` table of a SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite_path = _sqlite_path(url)
        self.engine = sa.create_engine(url)
        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            sa.event.listen(self.engine, "connect", _write_ahead_log)
        metadata = sa.MetaData()
        self.table, self.outcomes = predictions_table(metadata), outcomes_table(metadata)

    def describe(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def create(self) -> None:
        """Create the table when missing, and add the columns a log of an earlier version
        lacks (nullable, with their indexes)."""
        with _store_errors():
            self.table.metadata.create_all(self.engine)
            present = {c["name"] for c in sa.inspect(self.engine).get_columns(TABLE)}
            missing = [c for c in self.table.columns if c.name not in present]
            with self.engine.begin() as connection:
                for column in missing:
                    kind = column.type.compile(dialect=self.engine.dialect)
                    add = f"ALTER TABLE {TABLE} ADD COLUMN {column.name} {kind}"
                    connection.execute(sa.text(add))
            for index in self.table.indexes:
                index.create(self.engine, checkfirst=True)

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

    def write_outcomes(self, rows: list[dict]) -> None:
        """Insert outcomes, replacing those of the same listing and event, in one transaction
        (rows must hold each key once)."""
        insert = _upsert_insert(self.engine.dialect.name)(self.outcomes)
        others = [name for name, _, _ in OUTCOME_FIELDS if name not in OUTCOME_KEY]
        statement = insert.on_conflict_do_update(
            index_elements=list(OUTCOME_KEY), set_={name: insert.excluded[name] for name in others}
        )
        with _store_errors(), self.engine.begin() as connection:
            connection.execute(statement, rows)

    def read_outcomes(self) -> "pd.DataFrame | None":
        """Every outcome, or None when there is no outcome table yet."""
        return self._read_all(self.outcomes)

    def read_outcome_pairs(self, start: datetime, end: datetime) -> "pd.DataFrame | None":
        """The live suggestions with a listing id logged in `[start, end)`, each with its
        listing's latest sold and listed price (null when not known), joined in the database;
        None without a log."""
        if self._missing(TABLE):
            return None
        self.create()  # an outcome table, even if no outcome came yet
        sql = OUTCOME_PAIR_SQL.format(
            predictions=TABLE, outcomes=OUTCOMES_TABLE, start=":start", end=":end"
        )
        with _store_errors(), self.engine.connect() as connection:
            import pandas as pd

            return pd.read_sql(sa.text(sql), connection, params={"start": start, "end": end})

    def _missing(self, table: str) -> bool:
        if self.sqlite_path is not None and not self.sqlite_path.exists():
            return True
        with _store_errors():
            return not sa.inspect(self.engine).has_table(table)

    def read(self, start: datetime, end: datetime) -> "pd.DataFrame | None":
        """The suggestions logged in `[start, end)`, or None when there is no log yet."""
        table = self.table
        return self._read_all(table, table.c.created_at >= start, table.c.created_at < end)

    def _read_all(self, table: sa.Table, *where) -> "pd.DataFrame | None":
        if self._missing(table.name):
            return None
        with _store_errors():
            with self.engine.connect() as connection:
                import pandas as pd

                return pd.read_sql(sa.select(table).where(*where), connection)

    def close(self) -> None:
        self.engine.dispose()


def _upsert_insert(dialect: str):
    """The dialect's INSERT that takes ON CONFLICT DO UPDATE."""
    from sqlalchemy.dialects import postgresql, sqlite

    inserts = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
    if dialect not in inserts:
        raise PredictionStoreError(f"outcomes need sqlite or Postgres, not {dialect}")
    return inserts[dialect]


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
