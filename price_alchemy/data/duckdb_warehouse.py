"""The embedded warehouse: listings in a table of a local DuckDB file (the BigQuery stand-in)."""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from price_alchemy.data.identifiers import check_identifier
from price_alchemy.data.warehouse import (
    BATCH_ROWS,
    WarehouseError,
    check_load_schema,
    check_window_columns,
    merge_run_sql,
    window_query,
    with_schema_batch,
)
from price_alchemy.schema import LISTING_SCHEMA

_TYPES = {
    pa.int64(): "BIGINT",
    pa.string(): "VARCHAR",
    pa.float64(): "DOUBLE",
    pa.timestamp("us"): "TIMESTAMP",
}


class DuckDBWarehouse:
    """Rows of `schema` (listings by default) in table `table` of the DuckDB database at
    `path`."""

    def __init__(self, path: Path, table: str, schema: pa.Schema = LISTING_SCHEMA) -> None:
        self.path, self.table = Path(path), check_identifier(table, "warehouse table")
        self._quoted = f'"{self.table}"'
        self.schema = schema
        self._expected = {field.name: _TYPES[field.type] for field in schema}

    def describe(self) -> str:
        return f"duckdb:{self.path}#{self.table}"

    def _columns(self, con: duckdb.DuckDBPyConnection) -> dict[str, str]:
        rows = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE lower(table_name) = lower(?) ORDER BY ordinal_position",
            [self.table],
        ).fetchall()
        return dict(rows)

    def _ensure_table(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the table if missing; refuse one whose columns differ from the schema."""
        existing = self._columns(con)
        if not existing:
            columns = ", ".join(f"{name} {kind}" for name, kind in self._expected.items())
            con.execute(f"CREATE TABLE {self._quoted} ({columns})")
        else:
            check_load_schema(existing, self._expected, self.describe())

    def load_parquet(self, path: Path, replace: bool = False) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(self.path)) as con:
            self._ensure_table(con)
            if replace:
                con.execute(f"DELETE FROM {self._quoted}")
            names = ", ".join(self._expected)
            before = self._count(con)
            con.execute(
                f"INSERT INTO {self._quoted} ({names}) SELECT {names} FROM read_parquet(?)",
                [str(path)],
            )
            return self._count(con) - before

    def _count(self, con: duckdb.DuckDBPyConnection) -> int:
        row = con.execute(f"SELECT count(*) FROM {self._quoted}").fetchone()
        return int(row[0]) if row else 0

    def count_rows(self) -> int:
        if not self.path.exists():
            return 0
        with duckdb.connect(str(self.path), read_only=True) as con:
            return self._count(con) if self._columns(con) else 0

    def prices_of(self, ids: list[int]) -> dict[int, float]:
        if not ids or not self.path.exists():
            return {}
        sql = (
            f"SELECT train_id, price FROM {self._quoted}"
            " WHERE price IS NOT NULL AND train_id IN (SELECT unnest(?::BIGINT[]))"
        )
        with duckdb.connect(str(self.path), read_only=True) as con:
            if not self._columns(con):
                return {}
            return {int(i): float(p) for i, p in con.execute(sql, [ids]).fetchall()}

    def window_query(self, start: datetime, end: datetime) -> tuple[str, dict[str, str]]:
        return window_query(self._quoted, "$", start, end)

    def _read_only(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection; WarehouseError while the database or table is missing."""
        if not self.path.exists():
            raise WarehouseError(
                f"no warehouse at {self.path}: load listings first"
                " (price-alchemy warehouse load FILE, or price-alchemy demo-data)"
            )
        con = duckdb.connect(str(self.path), read_only=True)
        if not self._columns(con):
            con.close()
            raise WarehouseError(
                f"no table {self.describe()}: load listings first"
                f" (price-alchemy warehouse load FILE --table {self.table})"
            )
        return con

    def read_window(self, start: datetime, end: datetime) -> Iterator[pa.RecordBatch]:
        sql, _ = self.window_query(start, end)
        with self._read_only() as con:
            check_window_columns(list(self._columns(con)), self.describe())
            reader = con.sql(sql, params={"start": start, "end": end}).to_arrow_reader(BATCH_ROWS)
            yield from with_schema_batch(reader, reader.schema)

    def read_all(self, batch_rows: int) -> Iterator[pa.RecordBatch]:
        with self._read_only() as con:
            reader = con.sql(f"SELECT * FROM {self._quoted}").to_arrow_reader(batch_rows)
            yield from with_schema_batch(reader, reader.schema)

    def merge_run(self, path: Path, run_id: str) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        names = list(self._expected)
        with duckdb.connect(str(self.path)) as con:
            self._ensure_table(con)
            con.execute(
                f"CREATE TEMP TABLE staging AS SELECT {', '.join(names)} FROM read_parquet(?)",
                [str(path)],
            )
            con.execute(merge_run_sql(self._quoted, "staging", self.schema, "$"), {"run": run_id})
            sql = f"SELECT count(*) FROM {self._quoted} WHERE run_id = ?"
            row = con.execute(sql, [run_id]).fetchone()
            return int(row[0]) if row else 0
