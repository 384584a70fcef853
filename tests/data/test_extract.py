"""Tests for price_alchemy.data.extract: window snapshots, their hashes and trailing windows."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pendulum
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from price_alchemy.data.backends import open_warehouse
from price_alchemy.data.duckdb_warehouse import DuckDBWarehouse
from price_alchemy.data.extract import extract_window, trailing_window, window_key
from price_alchemy.errors import ActionRequired
from price_alchemy.schema import LISTING_SCHEMA
from tests.support.listings import WINDOW, put_listings

START, END = datetime(2025, 3, 1), datetime(2025, 3, 8)


def listings(created: list[datetime]) -> pa.Table:
    n = len(created)
    return pa.table(
        {
            "train_id": list(range(n)),
            "name": [f"item {i}" for i in range(n)],
            "item_condition_id": [1] * n,
            "category_name": ["Women/Tops & Blouses/Blouse"] * n,
            "brand_name": ["Nike"] * n,
            "price": [12.0] * n,
            "shipping": [0] * n,
            "item_description": ["ok"] * n,
            "created_at": created,
        },
        schema=LISTING_SCHEMA,
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    """Five rows: one before START, three inside [START, END), one exactly at END."""
    created = [
        START - timedelta(seconds=1),
        START,
        START + timedelta(days=3),
        END - timedelta(microseconds=1),
        END,
    ]
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb", "listings")
    put_listings(warehouse, listings(created))
    return warehouse


def test_snapshot_path_rows_and_sha(warehouse: DuckDBWarehouse, tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots"
    snapshot = extract_window(warehouse, START, END, snapshots)
    path = Path(snapshot.uri)
    assert path == snapshots / window_key(START, END) / "listings.parquet"
    assert snapshot.rows == 3
    assert snapshot.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (snapshot.start, snapshot.end) == (START.isoformat(), END.isoformat())
    table = pq.read_table(path)
    assert table.num_rows == 3
    assert table.column("train_id").to_pylist() == [1, 2, 3]
    assert snapshot.to_dict()["rows"] == 3


def test_window_key_is_filesystem_safe_and_distinct() -> None:
    key = window_key(START, END)
    assert key == "20250301T000000_20250308T000000"
    assert "/" not in key and ":" not in key
    assert window_key(START, END + timedelta(seconds=1)) != key


def test_rerun_overwrites_same_path_with_same_sha(
    warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    first = extract_window(warehouse, START, END, tmp_path / "snapshots")
    second = extract_window(warehouse, START, END, tmp_path / "snapshots")
    assert second == first
    folder = Path(first.uri).parent
    assert sorted(p.name for p in folder.iterdir()) == ["listings.parquet", "snapshot.json"]
    assert not list((tmp_path / "snapshots").rglob("*.partial"))


def test_rerun_replaces_a_stale_snapshot(warehouse: DuckDBWarehouse, tmp_path: Path) -> None:
    first = extract_window(warehouse, START, END, tmp_path / "snapshots")
    original = Path(first.uri).read_bytes()
    Path(first.uri).write_bytes(b"stale")
    again = extract_window(warehouse, START, END, tmp_path / "snapshots")
    assert again.uri == first.uri and again.sha256 == first.sha256
    assert Path(again.uri).read_bytes() == original


def test_rerun_picks_up_new_rows_in_the_window(warehouse: DuckDBWarehouse, tmp_path: Path) -> None:
    first = extract_window(warehouse, START, END, tmp_path / "snapshots")
    late = listings([START + timedelta(days=1)]).set_column(
        0, "train_id", pa.array([99], pa.int64())
    )
    put_listings(warehouse, late)
    again = extract_window(warehouse, START, END, tmp_path / "snapshots")
    assert again.uri == first.uri
    assert again.rows == 4 and again.sha256 != first.sha256
    assert again.sha256 == hashlib.sha256(Path(again.uri).read_bytes()).hexdigest()
    assert pq.read_table(again.uri).column("train_id").to_pylist() == [1, 2, 3, 99]


def test_different_windows_get_different_snapshots(
    warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    whole = extract_window(warehouse, START, END, tmp_path / "s")
    first_day = extract_window(warehouse, START, START + timedelta(days=1), tmp_path / "s")
    assert whole.uri != first_day.uri
    assert (whole.rows, first_day.rows) == (3, 1)
    assert Path(whole.uri).exists() and Path(first_day.uri).exists()


def test_empty_window_gives_zero_row_snapshot(warehouse: DuckDBWarehouse, tmp_path: Path) -> None:
    later = END + timedelta(days=100)
    snapshot = extract_window(warehouse, later, later + timedelta(days=1), tmp_path / "s")
    assert snapshot.rows == 0
    table = pq.read_table(snapshot.uri)
    assert table.num_rows == 0
    assert table.schema.remove_metadata() == LISTING_SCHEMA
    assert snapshot.sha256 == hashlib.sha256(Path(snapshot.uri).read_bytes()).hexdigest()


@pytest.mark.parametrize("end", [START, START - timedelta(days=1)])
def test_end_not_after_start_raises(
    warehouse: DuckDBWarehouse, tmp_path: Path, end: datetime
) -> None:
    with pytest.raises(ActionRequired, match="empty window"):
        extract_window(warehouse, START, end, tmp_path / "snapshots")
    assert not (tmp_path / "snapshots").exists()


def test_extract_from_loaded_warehouse(loaded_settings, small_listings) -> None:
    snapshot = extract_window(
        open_warehouse(loaded_settings), *WINDOW, loaded_settings.snapshots_dir
    )
    assert Path(snapshot.uri).is_relative_to(loaded_settings.snapshots_dir)
    assert snapshot.rows == small_listings.num_rows
    assert pq.read_metadata(snapshot.uri).num_rows == small_listings.num_rows


def test_trailing_window_naive_end_is_kept() -> None:
    assert trailing_window(END, 7) == (START, END)


def test_trailing_window_converts_pendulum_to_naive_utc() -> None:
    end = pendulum.datetime(2025, 7, 1, 2, 30, tz="Europe/Paris")  # UTC+2 in summer
    start, stop = trailing_window(end, 10)
    assert stop == datetime(2025, 7, 1, 0, 30)
    assert stop.tzinfo is None and start.tzinfo is None
    assert stop - start == timedelta(days=10)


def test_trailing_window_converts_zoneinfo_to_naive_utc() -> None:
    end = datetime(2025, 1, 1, 19, 0, tzinfo=ZoneInfo("America/New_York"))  # UTC-5
    start, stop = trailing_window(end, 365)
    assert stop == datetime(2025, 1, 2, 0, 0)
    assert start == datetime(2024, 1, 3, 0, 0)  # 2024 is a leap year
    assert start.tzinfo is None and stop.tzinfo is None


def test_trailing_window_utc_aware() -> None:
    start, stop = trailing_window(datetime(2025, 3, 8, tzinfo=UTC), 7)
    assert (start, stop) == (START, END)


def test_snapshot_records_query_parameters_and_warehouse(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", "listings")
    put_listings(warehouse, listings([datetime(2025, 3, 1)]))
    snapshot = extract_window(warehouse, *WINDOW, tmp_path / "snaps")
    recorded = json.loads(Path(snapshot.uri).with_name("snapshot.json").read_text())
    assert recorded == snapshot.to_dict()
    assert "$start" in recorded["query"] and "2025-01-01" not in recorded["query"]
    assert recorded["parameters"] == {"start": "2025-01-01T00:00:00", "end": "2026-01-01T00:00:00"}
    assert recorded["warehouse"] == f"duckdb:{tmp_path / 'w.duckdb'}#listings"
