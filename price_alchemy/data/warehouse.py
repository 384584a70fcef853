"""The listings warehouse: one interface, two backends, chosen by settings.

`duckdb` (the embedded default, a file under the state directory) stands in for `bigquery`
(google-cloud-bigquery). Both store listings with the same schema, load them from a normalized
Parquet file (so nothing is dropped on the way in: validation judges rows later), and stream a
time window `[start, end)` on `created_at` as Arrow record batches, with the bounds passed as
query parameters, never formatted into the SQL.
"""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from price_alchemy.errors import ActionRequired, Transient
from price_alchemy.schema import RUN_KEYS

WINDOW_COLUMNS = ("train_id", "created_at")
BATCH_ROWS = 65_536


class WarehouseError(ActionRequired):
    """A warehouse problem a person must fix (settings, credentials, a missing table); the
    message is one line that says what to set. Retrying does not help."""


class Warehouse(Protocol):
    """What the pipeline needs from a warehouse table (the listings, or another table of
    `backends.table_schemas`)."""

    schema: pa.Schema  # of the table
    def describe(self) -> str:
        """Where the listings live, e.g. `duckdb:/path/warehouse.duckdb#listings`."""
        ...

    def load_parquet(self, path: Path, replace: bool = False) -> int:
        """Append (or replace the table with) a Parquet file of LISTING_SCHEMA; rows loaded."""
        ...

    def count_rows(self) -> int:
        """Rows in the listings table; 0 when it does not exist yet."""
        ...

    def prices_of(self, ids: list[int]) -> dict[int, float]:
        """The price of each listing of `ids` (train_id) that has one in the table."""
        ...

    def window_query(self, start: datetime, end: datetime) -> tuple[str, dict[str, str]]:
        """The SQL that reads the window and its parameters, as recorded with a snapshot."""
        ...

    def read_window(self, start: datetime, end: datetime) -> Iterator[pa.RecordBatch]:
        """Stream every column of the listings with `start <= created_at < end`; at least one
        batch (empty for an empty window), so the columns are always known."""
        ...

    def read_all(self, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Stream every row of the table in batches of at most `batch_rows`; at least one."""
        ...

    def merge_run(self, path: Path, run_id: str) -> int:
        """Make the table's rows of run `run_id` those of a Parquet file of its schema (see
        `merge_run_sql`), creating the table if missing; the run's rows after."""
        ...


def run_keys(schema: pa.Schema) -> list[str]:
    """The columns that key a row of a run's table (the schema's metadata `keys`)."""
    if not schema.metadata or RUN_KEYS not in schema.metadata:
        raise WarehouseError("this table holds no runs: its schema names no keys")
    return schema.metadata[RUN_KEYS].decode().split(",")


def merge_run_sql(target: str, staging: str, schema: pa.Schema, marker: str) -> str:
    """One MERGE that makes `target`'s rows of a run (`run_id` equal to the parameter
    `{marker}run`) those of `staging` (both tables quoted; keys unique in each): matched rows
    updated, new ones inserted, the run's rows that `staging` lacks deleted, so a rerun
    replaces its rows and never doubles them. The same SQL runs on DuckDB and BigQuery."""
    keys = run_keys(schema)
    on = " AND ".join(f"T.{key} = S.{key}" for key in keys)
    updates = ", ".join(f"{c} = S.{c}" for c in schema.names if c not in keys)
    names, values = ", ".join(schema.names), ", ".join(f"S.{c}" for c in schema.names)
    return (
        f"MERGE INTO {target} T USING {staging} S ON {on}"
        f" WHEN MATCHED THEN UPDATE SET {updates}"
        f" WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})"
        f" WHEN NOT MATCHED BY SOURCE AND T.run_id = {marker}run THEN DELETE"
    )


class WarehouseUnavailable(Transient):
    """The warehouse could not be reached or answered with a server error: worth a retry."""


def with_schema_batch(
    batches: Iterator[pa.RecordBatch], schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """`batches`, or one empty batch of `schema` when there are none."""
    empty = True
    for batch in batches:
        empty = False
        yield batch
    if empty:
        yield pa.RecordBatch.from_pylist([], schema=schema)


def window_query(table: str, marker: str, start: datetime, end: datetime):
    """The window SQL over `table` with `marker` before the parameter names, and the
    parameters as recorded with a snapshot."""
    sql = (
        f"SELECT * FROM {table} WHERE created_at >= {marker}start AND created_at < {marker}end"
        " ORDER BY train_id"
    )
    return sql, {"start": start.isoformat(), "end": end.isoformat()}


def check_window_columns(columns: list[str], table: str) -> None:
    """A table without the columns a window needs cannot be extracted."""
    missing = [c for c in WINDOW_COLUMNS if c not in columns]
    if missing:
        raise WarehouseError(
            f"table {table} has no column {', '.join(missing)} (columns: {', '.join(columns)})"
        )


def check_load_schema(existing: dict[str, str], expected: dict[str, str], table: str) -> None:
    """Loading into a table whose columns differ from the listings schema is refused."""
    wrong = {
        name: (existing.get(name), kind)
        for name, kind in expected.items()
        if existing.get(name) != kind
    }
    if wrong:
        detail = ", ".join(
            f"{n}: {have or 'missing'} (expected {want})" for n, (have, want) in wrong.items()
        )
        raise WarehouseError(f"table {table} does not match the listings schema: {detail}")
