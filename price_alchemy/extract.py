"""Extract: copy one time window of listings from the warehouse into a Parquet snapshot.

The snapshot path is keyed by the window, so re-running a window overwrites the same file. Rows
stream from the warehouse straight into the file in record batches; the file is written beside
its final path and renamed into place, so a reader never sees half a snapshot. Returns a
`Snapshot` with the path, row count and sha256 that a training run records.
"""

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from price_alchemy.warehouse import LISTING_SCHEMA


@dataclass(frozen=True)
class Snapshot:
    uri: str
    rows: int
    sha256: str
    start: str
    end: str

    def to_dict(self) -> dict:
        return asdict(self)


def trailing_window(end: datetime, days: int) -> tuple[datetime, datetime]:
    """The window of `days` days before `end`, as naive UTC datetimes like `created_at`."""
    if end.tzinfo is not None:
        end = end.astimezone(UTC).replace(tzinfo=None)
    return end - timedelta(days=days), end


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


def extract_window(warehouse, start: datetime, end: datetime, snapshots_dir: Path) -> Snapshot:
    """Write the listings with `start <= created_at < end` to `<snapshots_dir>/<window>/`."""
    if end <= start:
        raise ValueError(f"empty window: end {end} is not after start {start}")
    path = Path(snapshots_dir) / window_key(start, end) / "listings.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".parquet.partial")
    rows = 0
    with pq.ParquetWriter(partial, LISTING_SCHEMA) as writer:
        for batch in warehouse.read_window(start, end):
            writer.write_batch(batch.cast(LISTING_SCHEMA))
            rows += batch.num_rows
    partial.replace(path)
    return Snapshot(str(path), rows, file_sha256(path), start.isoformat(), end.isoformat())
