"""Load: bring a file of listings (TSV, CSV or Parquet) into the warehouse without losing a row.

The file is streamed in batches into a normalized Parquet file of the warehouse table's schema
(the listings, or the live listings), which the warehouse then loads in one go. Values that
cannot be read as their type (a price of "abc") become null and are counted, so the row still
travels to validation and is judged there. A file without the table's timestamp column
(`created_at`: the raw Kaggle Mercari `train.tsv`; `listed_at`) gets the load time.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from price_alchemy.data.warehouse import BATCH_ROWS, Warehouse, WarehouseError
from price_alchemy.records import Record
from price_alchemy.schema import LISTING_SCHEMA

_DELIMITERS = {".tsv": "\t", ".csv": ","}


@dataclass
class LoadSummary(Record):
    """What loading one file did: rows loaded, values that could not be read, columns ignored."""

    source: str
    rows: int = 0
    unreadable_values: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    created_at_filled: bool = False  # the table's timestamp column was missing: the load time
    warehouse: str = ""


def _text_batches(path: Path) -> Iterator[pa.RecordBatch]:
    """Every column as text, quoted fields and embedded newlines handled."""
    delimiter = _DELIMITERS[path.suffix.lower()]
    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle, delimiter=delimiter))
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            null_values=[""],
            strings_can_be_null=True,
        ),
    )
    yield from reader


def read_batches(path: Path) -> Iterator[pa.RecordBatch]:
    """The file's rows in batches, by its extension."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS)
    elif suffix in _DELIMITERS:
        yield from _text_batches(path)
    else:
        raise WarehouseError(f"cannot load {path.name}: use a .tsv, .csv or .parquet file")


def _numbers(values: pd.Series, integer: bool) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    if integer:
        numbers = numbers.where(numbers == numbers.round())
        return numbers.astype("Int64")
    return numbers.astype("float64")


def _times(values: pd.Series) -> pd.Series:
    times = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    return times.dt.tz_convert(None).astype("datetime64[us]")


def _typed(values: pd.Series, kind: pa.DataType) -> pd.Series:
    """A column's values in its Arrow type; what cannot be read becomes null."""
    if pa.types.is_string(kind):
        return values.astype("object").where(values.notna(), None)
    if pa.types.is_timestamp(kind):
        return _times(values)
    return _numbers(values, pa.types.is_integer(kind))


def conform(
    frame: pd.DataFrame, loaded_at: datetime, summary: LoadSummary, schema: pa.Schema
) -> pa.Table:
    """One batch in `schema`; unreadable values null and counted in `summary`."""
    columns = {}
    for column in schema:
        name = column.name
        if pa.types.is_timestamp(column.type) and name not in frame:
            columns[name] = pd.Series(pd.Timestamp(loaded_at), index=frame.index)
            summary.created_at_filled = True
            continue
        source = frame[name]
        columns[name] = _typed(source, column.type)
        lost = int((columns[name].isna() & source.notna()).sum())
        if lost:
            summary.unreadable_values[name] = summary.unreadable_values.get(name, 0) + lost
    return pa.Table.from_pandas(pd.DataFrame(columns), schema=schema, preserve_index=False)


def _check_columns(
    columns: list[str], source: Path, summary: LoadSummary, schema: pa.Schema
) -> None:
    required = [f.name for f in schema if not pa.types.is_timestamp(f.type)]
    missing = [name for name in required if name not in columns]
    if missing:
        raise WarehouseError(
            f"{source.name} lacks column(s) {', '.join(missing)} (found: {', '.join(columns)})"
        )
    summary.ignored_columns = [c for c in columns if c not in schema.names]


def normalize_file(
    source: Path, target: Path, loaded_at: datetime, schema: pa.Schema = LISTING_SCHEMA
) -> LoadSummary:
    """Stream `source` into `target`, a Parquet file of `schema`."""
    summary = LoadSummary(str(source))
    with pq.ParquetWriter(target, schema) as writer:
        for batch in read_batches(source):
            if summary.rows == 0:
                _check_columns(batch.schema.names, source, summary, schema)
            writer.write_table(conform(batch.to_pandas(), loaded_at, summary, schema))
            summary.rows += batch.num_rows
    return summary


def load_file(
    warehouse: Warehouse, source: Path, work_dir: Path, loaded_at: datetime, replace: bool = False
) -> LoadSummary:
    """Load a file into the warehouse's table (of its schema); every row read is a row loaded."""
    if not source.exists():
        raise WarehouseError(f"no such file: {source}")
    work_dir.mkdir(parents=True, exist_ok=True)
    staged = work_dir / f"{source.stem}.normalized.parquet"
    try:
        summary = normalize_file(source, staged, loaded_at, warehouse.schema)
        loaded = warehouse.load_parquet(staged, replace=replace)
    finally:
        staged.unlink(missing_ok=True)
    if loaded != summary.rows:
        raise WarehouseError(f"read {summary.rows} rows from {source.name} but loaded {loaded}")
    summary.warehouse = warehouse.describe()
    return summary


def load_table(warehouse: Warehouse, rows: pa.Table, work_dir: Path, replace: bool) -> int:
    """Load an in-memory table of the warehouse table's schema (demo data) the same way."""
    work_dir.mkdir(parents=True, exist_ok=True)
    staged = work_dir / "table.normalized.parquet"
    schema = warehouse.schema
    try:
        pq.write_table(rows.select(schema.names).cast(schema), staged)
        return warehouse.load_parquet(staged, replace=replace)
    finally:
        staged.unlink(missing_ok=True)
