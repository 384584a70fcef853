"""The listings warehouse: where raw listings live and how a time window of them is read.

The embedded default is a DuckDB file under the state directory, standing in for BigQuery. Rows
are stored as they come (loose types, no constraints) so that nothing is lost on the way in; the
validation stage judges them later. Windows are read as a stream of Arrow record batches with the
bounds passed as query parameters, never formatted into the SQL.
"""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

LISTING_SCHEMA = pa.schema(
    [
        ("train_id", pa.int64()),
        ("name", pa.string()),
        ("item_condition_id", pa.int64()),
        ("category_name", pa.string()),
        ("brand_name", pa.string()),
        ("price", pa.float64()),
        ("shipping", pa.int64()),
        ("item_description", pa.string()),
        ("created_at", pa.timestamp("us")),
    ]
)
_DUCKDB_TYPES = {
    pa.int64(): "BIGINT",
    pa.string(): "VARCHAR",
    pa.float64(): "DOUBLE",
    pa.timestamp("us"): "TIMESTAMP",
}
BATCH_ROWS = 65_536


class DuckDBWarehouse:
    """Listings in a table of a local DuckDB database file."""

    def __init__(self, path: Path, table: str) -> None:
        if not table.isidentifier():
            raise ValueError(f"invalid warehouse table name: {table!r}")
        self.path, self.table = Path(path), table
        self._quoted = f'"{table}"'

    def _connect(self) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(self.path))

    def _create_table(self, con: duckdb.DuckDBPyConnection) -> None:
        columns = ", ".join(f"{f.name} {_DUCKDB_TYPES[f.type]}" for f in LISTING_SCHEMA)
        con.execute(f"CREATE TABLE IF NOT EXISTS {self._quoted} ({columns})")

    def write_listings(self, listings: pa.Table, replace: bool = False) -> int:
        """Append (or, with `replace`, swap in) `listings`; returns the rows written."""
        listings = listings.select(LISTING_SCHEMA.names).cast(LISTING_SCHEMA)
        with self._connect() as con:
            self._create_table(con)
            if replace:
                con.execute(f"DELETE FROM {self._quoted}")
            con.register("incoming", listings)
            con.execute(f"INSERT INTO {self._quoted} SELECT * FROM incoming")
        return listings.num_rows

    def count_rows(self) -> int:
        """Rows in the listings table (0 when the warehouse or table does not exist yet)."""
        if not self.path.exists():
            return 0
        with duckdb.connect(str(self.path), read_only=True) as con:
            found = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE lower(table_name) = lower(?)",
                [self.table],
            ).fetchone()
            if not found or not found[0]:
                return 0
            row = con.execute(f"SELECT count(*) FROM {self._quoted}").fetchone()
        return int(row[0]) if row else 0

    def read_window(self, start: datetime, end: datetime) -> Iterator[pa.RecordBatch]:
        """Stream the listings with `start <= created_at < end`, ordered by `train_id`."""
        if not self.path.exists():
            raise FileNotFoundError(
                f"no warehouse at {self.path}: load listings first (price-alchemy demo-data)"
            )
        columns = ", ".join(LISTING_SCHEMA.names)
        sql = (
            f"SELECT {columns} FROM {self._quoted} "
            "WHERE created_at >= ? AND created_at < ? ORDER BY train_id"
        )
        with duckdb.connect(str(self.path), read_only=True) as con:
            reader = con.sql(sql, params=[start, end]).to_arrow_reader(BATCH_ROWS)
            yield from reader


def open_warehouse(settings) -> DuckDBWarehouse:
    """The warehouse the settings point at."""
    return DuckDBWarehouse(settings.warehouse_path, settings.warehouse_table)
