"""Extract: copy one time window of listings from the warehouse into a Parquet snapshot.

The snapshot path is keyed by the window, so re-running a window overwrites the same file. Rows
stream from the warehouse straight into the file in record batches (memory stays bounded); the
file is written beside its final path and renamed into place, so a reader never sees half a
snapshot. The returned `Snapshot` (also written as `snapshot.json`) records the row count, the
sha256, the warehouse and the query with its parameters, so a model can be traced to its data.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from price_alchemy.data.warehouse import Warehouse
from price_alchemy.errors import ActionRequired
from price_alchemy.records import Record
from price_alchemy.schema import LISTING_SCHEMA


@dataclass(frozen=True)
class Snapshot(Record):
    """A window of the warehouse written to a Parquet file, traced to its query."""

    uri: str
    rows: int
    sha256: str
    start: str
    end: str
    warehouse: str = ""
    query: str = ""
    parameters: dict[str, str] = field(default_factory=dict)


def trailing_window(end: datetime, days: int) -> tuple[datetime, datetime]:
    """The window of `days` days before `end`, as naive UTC datetimes like `created_at`."""
    return naive_utc(end) - timedelta(days=days), naive_utc(end)


def naive_utc(moment: datetime) -> datetime:
    """`moment` as a naive UTC datetime (naive input is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def window_key(start: datetime, end: datetime) -> str:
    """A filesystem-safe name for the window `[start, end)` (microseconds kept when present)."""
    return f"{_stamp(start)}_{_stamp(end)}"


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%S}" + (f".{moment:%f}" if moment.microsecond else "")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def conform_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Known columns in their listing types where they cast (e.g. UTC timestamps to naive)."""
    types = {f.name: f.type for f in LISTING_SCHEMA}
    arrays = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        wanted = types.get(name)
        arrays.append(
            column.cast(wanted)
            if wanted is not None and column.type != wanted and column.type.id == wanted.id
            else column
        )
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _write_batches(batches, path: Path) -> int:
    partial = path.with_suffix(".parquet.partial")
    rows, writer = 0, None
    try:
        for batch in map(conform_batch, batches):
            writer = writer or pq.ParquetWriter(partial, batch.schema)
            writer.write_batch(batch)
            rows += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    partial.replace(path)
    return rows


def extract_window(
    warehouse: Warehouse, start: datetime, end: datetime, snapshots_dir: Path
) -> Snapshot:
    """Write the listings with `start <= created_at < end` to `<snapshots_dir>/<window>/`."""
    start, end = naive_utc(start), naive_utc(end)
    if end <= start:
        raise ActionRequired(f"empty window: end {end} is not after start {start}")
    path = Path(snapshots_dir) / window_key(start, end) / "listings.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = _write_batches(warehouse.read_window(start, end), path)
    query, parameters = warehouse.window_query(start, end)
    snapshot = Snapshot(
        str(path),
        rows,
        file_sha256(path),
        start.isoformat(),
        end.isoformat(),
        warehouse.describe(),
        query,
        parameters,
    )
    path.with_name("snapshot.json").write_text(json.dumps(snapshot.to_dict(), indent=2))
    return snapshot
