"""The warehouse interface, one suite run against both backends: DuckDB, and BigQuery through
the real google-cloud-bigquery client against an emulator on loopback."""

import uuid
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.cloud import bigquery

from price_alchemy.data.backends import open_warehouse
from price_alchemy.data.bigquery_warehouse import BigQueryWarehouse
from price_alchemy.data.duckdb_warehouse import DuckDBWarehouse
from price_alchemy.data.extract import conform_batch, extract_window
from price_alchemy.data.load import load_file
from price_alchemy.data.warehouse import WarehouseError, WarehouseUnavailable
from price_alchemy.errors import ConfigurationError
from price_alchemy.schema import LISTING_SCHEMA
from price_alchemy.settings import Settings
from tests.support.listings import T0, put_listings, tiny_listings
from tests.support.ports import free_port

DAY = timedelta(days=1)


def read_all(warehouse, start: datetime, end: datetime) -> pa.Table:
    batches = [conform_batch(b) for b in warehouse.read_window(start, end)]
    return pa.Table.from_batches(batches).cast(LISTING_SCHEMA)


def _bigquery(bq_client) -> BigQueryWarehouse:
    return BigQueryWarehouse(bq_client, f"ds_{uuid.uuid4().hex[:12]}", "listings", retry_seconds=5)


@pytest.fixture(params=["duckdb", "bigquery"])
def warehouse(request, tmp_path: Path):
    """An empty warehouse of each backend (BigQuery: a fresh dataset on the emulator)."""
    if request.param == "duckdb":
        return DuckDBWarehouse(tmp_path / "wh" / "warehouse.duckdb", "listings")
    return _bigquery(request.getfixturevalue("bq_client"))


def test_load_then_count(warehouse) -> None:
    assert warehouse.count_rows() == 0
    assert put_listings(warehouse, tiny_listings(range(5))) == 5
    assert warehouse.count_rows() == 5


def test_append_adds_rows(warehouse) -> None:
    put_listings(warehouse, tiny_listings(range(3)))
    put_listings(warehouse, tiny_listings(range(3, 7)))
    ids = read_all(warehouse, T0, T0 + DAY).column("train_id").to_pylist()
    assert ids == [0, 1, 2, 3, 4, 5, 6]


def test_replace_swaps_contents(warehouse) -> None:
    put_listings(warehouse, tiny_listings(range(5)))
    assert put_listings(warehouse, tiny_listings([100, 101]), replace=True) == 2
    ids = read_all(warehouse, T0, T0 + DAY).column("train_id").to_pylist()
    assert ids == [100, 101]


def test_load_selects_and_casts_columns(warehouse) -> None:
    table = tiny_listings(range(3))
    shuffled = table.select(list(reversed(table.column_names))).append_column(
        "extra", pa.array(["a", "b", "c"])
    )
    put_listings(warehouse, shuffled)
    assert read_all(warehouse, T0, T0 + DAY).equals(table)


def test_read_window_boundaries(warehouse) -> None:
    start, end = datetime(2025, 3, 1), datetime(2025, 3, 2)
    one_us = timedelta(microseconds=1)
    created = [start - one_us, start, start + timedelta(hours=12), end - one_us, end]
    put_listings(warehouse, tiny_listings(range(5), created=created))
    window = read_all(warehouse, start, end)
    assert window.column("train_id").to_pylist() == [1, 2, 3]
    assert window.column("created_at").to_pylist() == created[1:4]


def test_read_window_orders_by_train_id(warehouse) -> None:
    put_listings(warehouse, tiny_listings([9, 3, 7, 1]))
    assert read_all(warehouse, T0, T0 + DAY).column("train_id").to_pylist() == [1, 3, 7, 9]


def test_empty_window_yields_one_empty_batch_with_the_columns(warehouse) -> None:
    put_listings(warehouse, tiny_listings(range(3)))
    later = T0 + timedelta(days=30)
    batches = list(warehouse.read_window(later, later + DAY))
    assert sum(b.num_rows for b in batches) == 0
    assert batches and set(LISTING_SCHEMA.names) <= set(batches[0].schema.names)


def test_values_with_quotes_round_trip_and_inject_nothing(warehouse) -> None:
    tricky = "O'Reilly \"quoted\" '); DROP TABLE listings; -- \\ back\\slash @end $end"
    table = tiny_listings(range(2), name=[tricky, "plain"], brand_name=["Levi's", None])
    put_listings(warehouse, table)
    window = read_all(warehouse, T0, T0 + DAY)
    assert window.column("name").to_pylist() == [tricky, "plain"]
    assert window.column("brand_name").to_pylist() == ["Levi's", None]
    assert warehouse.count_rows() == 2


def test_window_query_binds_parameters_not_values(warehouse) -> None:
    sql, parameters = warehouse.window_query(T0, T0 + DAY)
    assert "2025" not in sql
    assert parameters == {"start": "2025-03-01T00:00:00", "end": "2025-03-02T00:00:00"}


def test_extract_gives_the_same_snapshot_on_every_backend(warehouse, tmp_path: Path) -> None:
    table = tiny_listings(range(50), created=[T0 + timedelta(minutes=7 * i) for i in range(50)])
    put_listings(warehouse, table)
    snapshot = extract_window(warehouse, T0, T0 + timedelta(hours=3), tmp_path / "snaps")
    written = pq.read_table(snapshot.uri)
    assert snapshot.rows == 26 == written.num_rows
    assert written.schema.equals(LISTING_SCHEMA)
    assert written.equals(table.slice(0, 26))


@pytest.mark.parametrize("suffix", [".tsv", ".csv", ".parquet"])
def test_load_file_keeps_every_row(warehouse, tmp_path: Path, suffix: str) -> None:
    source = tmp_path / f"listings{suffix}"
    frame = tiny_listings(range(4)).to_pandas().drop(columns="created_at").astype({"price": object})
    frame.loc[2, "price"] = "abc"
    if suffix == ".parquet":
        frame.astype({"price": str}).to_parquet(source)
    else:
        frame.to_csv(source, sep="\t" if suffix == ".tsv" else ",", index=False)
    summary = load_file(warehouse, source, tmp_path / "work", loaded_at=T0)
    assert summary.rows == 4 == warehouse.count_rows()
    assert summary.unreadable_values == {"price": 1} and summary.created_at_filled
    prices = read_all(warehouse, T0, T0 + DAY).column("price").to_pylist()
    assert prices == [10.25, 11.25, None, 13.25]


def test_missing_table_is_a_one_line_error(warehouse) -> None:
    with pytest.raises(WarehouseError) as raised:
        list(warehouse.read_window(T0, T0 + DAY))
    assert "load listings first" in str(raised.value) and "\n" not in str(raised.value)


def _create_foreign_table(warehouse) -> None:
    """A table with the right name but another schema (no created_at, price as text)."""
    if isinstance(warehouse, DuckDBWarehouse):
        warehouse.path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(warehouse.path)) as con:
            con.execute("CREATE TABLE listings (train_id BIGINT, price VARCHAR)")
        return
    warehouse.client.create_dataset(warehouse.dataset_id, exists_ok=True)
    schema = [bigquery.SchemaField("train_id", "INTEGER"), bigquery.SchemaField("price", "STRING")]
    warehouse.client.create_table(bigquery.Table(warehouse.table_id, schema=schema))


def test_schema_mismatch_is_refused_on_load_and_extract(warehouse) -> None:
    _create_foreign_table(warehouse)
    with pytest.raises(WarehouseError, match="does not match the listings schema.*price"):
        put_listings(warehouse, tiny_listings(range(2)))
    with pytest.raises(WarehouseError, match="no column created_at"):
        list(warehouse.read_window(T0, T0 + DAY))


def test_duckdb_without_a_file_says_how_to_load(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "none" / "warehouse.duckdb", "listings")
    assert warehouse.count_rows() == 0 and not warehouse.path.parent.exists()
    with pytest.raises(WarehouseError, match="demo-data"):
        list(warehouse.read_window(T0, T0 + DAY))


@pytest.mark.parametrize("table", ["x; drop table y", "1abc", "my-table", "a b", ""])
def test_invalid_identifiers_are_rejected(tmp_path: Path, bq_client, table: str) -> None:
    with pytest.raises(ConfigurationError, match="invalid warehouse table"):
        DuckDBWarehouse(tmp_path / "w.duckdb", table)
    with pytest.raises(ConfigurationError, match="invalid warehouse table"):
        BigQueryWarehouse(bq_client, "dataset", table)


def test_reserved_word_table_name_works(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", "order")
    put_listings(warehouse, tiny_listings(range(2)))
    assert warehouse.count_rows() == 2


def test_settings_choose_the_backend(settings, bigquery_emulator) -> None:
    assert isinstance(open_warehouse(settings), DuckDBWarehouse)
    chosen = open_warehouse(
        Settings(
            home=settings.home,
            warehouse="bigquery",
            bigquery_project=bigquery_emulator.project,
            bigquery_endpoint=bigquery_emulator.endpoint,
            bigquery_dataset="chosen",
        )
    )
    assert chosen.describe() == f"bigquery:{bigquery_emulator.project}.chosen.listings"


def test_unreachable_bigquery_is_a_retryable_one_line_error(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        warehouse="bigquery",
        bigquery_project="test-project",
        bigquery_endpoint=f"http://127.0.0.1:{free_port()}",
        bigquery_retry_seconds=1,
    )
    with pytest.raises(WarehouseUnavailable) as raised:
        list(open_warehouse(settings).read_window(T0, T0 + DAY))
    assert "unreachable" in str(raised.value) and "\n" not in str(raised.value)
