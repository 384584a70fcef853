"""Tests for price_alchemy.warehouse: the DuckDB listings table and windowed reads."""

from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import put_listings

from price_alchemy.warehouse import LISTING_SCHEMA, WarehouseError, open_warehouse
from price_alchemy.warehouse_duckdb import DuckDBWarehouse

T0 = datetime(2025, 3, 1)


def listings(ids, created=None, **columns) -> pa.Table:
    """A tiny listings table; `created` defaults to one hour apart from T0."""
    ids = list(ids)
    data = {
        "train_id": ids,
        "name": [f"item {i}" for i in ids],
        "item_condition_id": [1 + i % 5 for i in ids],
        "category_name": ["Women/Tops & Blouses/Blouse"] * len(ids),
        "brand_name": [None if i % 2 else "Nike" for i in ids],
        "price": [10.0 + i for i in ids],
        "shipping": [i % 2 for i in ids],
        "item_description": ["fine"] * len(ids),
        "created_at": created or [T0 + timedelta(hours=i) for i in range(len(ids))],
    }
    data.update(columns)
    return pa.table(data, schema=LISTING_SCHEMA)


def read_all(warehouse: DuckDBWarehouse, start: datetime, end: datetime) -> pa.Table:
    return pa.Table.from_batches(list(warehouse.read_window(start, end)), schema=LISTING_SCHEMA)


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(tmp_path / "wh" / "warehouse.duckdb", "listings")


def test_write_then_count(warehouse: DuckDBWarehouse) -> None:
    assert put_listings(warehouse, listings(range(5))) == 5
    assert warehouse.path.exists()
    assert warehouse.count_rows() == 5


def test_append_adds_rows(warehouse: DuckDBWarehouse) -> None:
    put_listings(warehouse, listings(range(3)))
    put_listings(warehouse, listings(range(3, 7)))
    assert warehouse.count_rows() == 7
    ids = read_all(warehouse, T0, T0 + timedelta(days=1)).column("train_id").to_pylist()
    assert ids == [0, 1, 2, 3, 4, 5, 6]


def test_replace_swaps_contents(warehouse: DuckDBWarehouse) -> None:
    put_listings(warehouse, listings(range(5)))
    assert put_listings(warehouse, listings([100, 101]), replace=True) == 2
    assert warehouse.count_rows() == 2
    ids = read_all(warehouse, T0, T0 + timedelta(days=1)).column("train_id").to_pylist()
    assert ids == [100, 101]


def test_replace_on_a_new_warehouse(warehouse: DuckDBWarehouse) -> None:
    put_listings(warehouse, listings(range(4)), replace=True)
    assert warehouse.count_rows() == 4


def test_write_selects_and_casts_columns(warehouse: DuckDBWarehouse) -> None:
    table = listings(range(3))
    shuffled = table.select(list(reversed(table.column_names))).append_column(
        "extra", pa.array(["a", "b", "c"])
    )
    put_listings(warehouse, shuffled)
    assert read_all(warehouse, T0, T0 + timedelta(days=1)).equals(table)


def test_read_window_boundaries(warehouse: DuckDBWarehouse) -> None:
    start, end = datetime(2025, 3, 1), datetime(2025, 3, 2)
    one_us = timedelta(microseconds=1)
    created = [start - one_us, start, start + timedelta(hours=12), end - one_us, end]
    put_listings(warehouse, listings(range(5), created=created))
    window = read_all(warehouse, start, end)
    assert window.column("train_id").to_pylist() == [1, 2, 3]
    assert window.column("created_at").to_pylist() == created[1:4]
    assert window.schema == LISTING_SCHEMA


def test_read_window_orders_by_train_id(warehouse: DuckDBWarehouse) -> None:
    put_listings(warehouse, listings([9, 3, 7, 1]))
    window = read_all(warehouse, T0, T0 + timedelta(days=1))
    assert window.column("train_id").to_pylist() == [1, 3, 7, 9]


def test_empty_window_yields_no_rows(warehouse: DuckDBWarehouse) -> None:
    put_listings(warehouse, listings(range(3)))
    later = T0 + timedelta(days=30)
    assert sum(b.num_rows for b in warehouse.read_window(later, later + timedelta(days=1))) == 0
    assert sum(b.num_rows for b in warehouse.read_window(T0, T0)) == 0


def test_read_window_round_trips_values(warehouse: DuckDBWarehouse) -> None:
    table = listings(range(6))
    put_listings(warehouse, table)
    assert read_all(warehouse, T0, T0 + timedelta(days=1)).equals(table)


def test_missing_warehouse_read_raises_helpful_error(warehouse: DuckDBWarehouse) -> None:
    with pytest.raises(WarehouseError) as raised:
        list(warehouse.read_window(T0, T0 + timedelta(days=1)))
    message = str(raised.value)
    assert str(warehouse.path) in message
    assert "demo-data" in message
    assert not warehouse.path.exists()


def test_count_rows_is_zero_for_missing_file(warehouse: DuckDBWarehouse) -> None:
    assert warehouse.count_rows() == 0
    assert not warehouse.path.exists()
    assert not warehouse.path.parent.exists()


def test_count_rows_is_zero_for_missing_table(warehouse: DuckDBWarehouse) -> None:
    put_listings(warehouse, listings(range(3)))
    assert DuckDBWarehouse(warehouse.path, "other_table").count_rows() == 0


def test_tables_are_independent(warehouse: DuckDBWarehouse) -> None:
    other = DuckDBWarehouse(warehouse.path, "other_table")
    put_listings(warehouse, listings(range(3)))
    put_listings(other, listings(range(2)))
    assert (warehouse.count_rows(), other.count_rows()) == (3, 2)


@pytest.mark.parametrize("table", ["x; drop table y", "1abc", "my-table", "a b", ""])
def test_invalid_table_name_raises(tmp_path: Path, table: str) -> None:
    with pytest.raises(WarehouseError, match="invalid warehouse table"):
        DuckDBWarehouse(tmp_path / "w.duckdb", table)


def test_text_with_quotes_round_trips(warehouse: DuckDBWarehouse) -> None:
    tricky = "O'Reilly \"quoted\" '); DROP TABLE listings; -- \\ back\\slash"
    table = listings(
        range(2),
        name=[tricky, "plain"],
        item_description=['it\'s "great"', "'single'"],
        brand_name=["Levi's", None],
    )
    put_listings(warehouse, table)
    window = read_all(warehouse, T0, T0 + timedelta(days=1))
    assert window.column("name").to_pylist() == [tricky, "plain"]
    assert window.column("item_description").to_pylist() == ['it\'s "great"', "'single'"]
    assert window.column("brand_name").to_pylist() == ["Levi's", None]
    assert warehouse.count_rows() == 2


def test_open_warehouse_uses_settings(settings) -> None:
    warehouse = open_warehouse(settings)
    assert warehouse.path == settings.warehouse_path
    assert warehouse.table == settings.warehouse_table


def test_loaded_settings_hold_small_listings(loaded_settings, small_listings) -> None:
    assert open_warehouse(loaded_settings).count_rows() == small_listings.num_rows


def test_reserved_word_table_name_is_usable_or_rejected(tmp_path: Path) -> None:
    try:
        warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", "order")
    except WarehouseError:
        return  # rejecting the name up front would be fine too
    put_listings(warehouse, listings(range(2)))
    assert warehouse.count_rows() == 2
