"""The BigQuery emulator (tests/bigquery_emulator.py) and what our code relies on, measured with
the real google-cloud-bigquery client against it.

Emulator findings these tests pin (bqemulator 1.4.0, google-cloud-bigquery 3.47):
* loads: Parquet bytes through `load_table_from_file` (no `size`) work, WRITE_APPEND and
  WRITE_TRUNCATE; `load_table_from_json` / `load_table_from_dataframe` fail with 400.
* paging over REST works: `query().result(page_size=N)` (.pages, .to_arrow_iterable(),
  .to_dataframe_iterable()), `list_rows(page_size=N)`, `query_and_wait(page_size=N)`.
* `to_arrow()` / `to_dataframe()` need `create_bqstorage_client=False`, else the client goes to
  bigquerystorage.googleapis.com.
* a failing query raises from `client.query(...).result()`, but `client.query_and_wait(...)`
  returns an empty result instead of raising (the emulator answers jobs.query with HTTP 200
  and an `errors` list, which the client does not check).
"""

from __future__ import annotations

import os
import signal
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
import requests
from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_RETRY

from price_alchemy.schema import LISTING_SCHEMA
from tests.support.bigquery_emulator import (
    EmulatorNotInstalled,
    emulator_python,
    load_parquet,
    make_client,
    start_emulator,
)
from tests.support.listings import T0, tiny_listings
from tests.support.ports import free_port

SCHEMA = [
    bigquery.SchemaField("train_id", "INT64"),
    bigquery.SchemaField("name", "STRING"),
    bigquery.SchemaField("item_condition_id", "INT64"),
    bigquery.SchemaField("category_name", "STRING"),
    bigquery.SchemaField("brand_name", "STRING"),
    bigquery.SchemaField("price", "FLOAT64"),
    bigquery.SchemaField("shipping", "INT64"),
    bigquery.SchemaField("item_description", "STRING"),
    bigquery.SchemaField("created_at", "TIMESTAMP"),
]
ARROW_SCHEMA = LISTING_SCHEMA
INJECTION = "x' OR '1'='1"


# -- fixtures (move bigquery_emulator and bq_client to conftest.py when others need them) ------


@pytest.fixture
def listings_table(bq_client) -> bigquery.Table:
    """An empty listings table in a dataset of this test's own."""
    dataset = bq_client.create_dataset(f"t_{uuid.uuid4().hex[:12]}")
    table_ref = f"{bq_client.project}.{dataset.dataset_id}.listings"
    table = bq_client.create_table(bigquery.Table(table_ref, schema=SCHEMA))
    yield table
    bq_client.delete_dataset(dataset, delete_contents=True, not_found_ok=True)


# -- helpers -------------------------------------------------------------------------------------


def query(client, sql: str, **params) -> list[dict]:
    """Rows of a parameterized query, through query().result() (which raises on errors)."""
    types = {datetime: "TIMESTAMP", str: "STRING", int: "INT64", float: "FLOAT64"}
    job_config = bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter(name, types[type(value)], value)
            for name, value in params.items()
        ]
    )
    return [dict(row) for row in client.query(sql, job_config=job_config).result()]


def count(client, table: bigquery.Table) -> int:
    return query(client, f"SELECT COUNT(*) AS n FROM `{table_id(table)}`")[0]["n"]


def table_id(table: bigquery.Table) -> str:
    return f"{table.project}.{table.dataset_id}.{table.table_id}"


# -- the emulator helper -------------------------------------------------------------------------


def test_emulator_is_on_loopback(bigquery_emulator) -> None:
    assert bigquery_emulator.endpoint.startswith("http://127.0.0.1:")
    answer = requests.get(f"{bigquery_emulator.endpoint}/readyz", timeout=5)
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


def test_missing_venv_fails_with_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("BQEMULATOR_VENV", str(tmp_path / "absent"))
    with pytest.raises(EmulatorNotInstalled, match="make bqemulator"):
        emulator_python()


def test_stop_ends_the_process_and_frees_the_port(tmp_path) -> None:
    emulator = start_emulator(project="stop-test", log_dir=tmp_path)
    assert list(make_client(emulator).list_datasets()) == []
    emulator.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(emulator.pid, 0)
    with pytest.raises(ProcessLookupError):
        os.killpg(emulator.pid, 0)  # no stragglers in its process group
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", emulator.rest_port), 1):
        pass
    emulator.stop()  # idempotent
    assert emulator._process.returncode in (0, -signal.SIGTERM)


# -- tables and loads ----------------------------------------------------------------------------


def test_create_table_keeps_the_schema(bq_client, listings_table) -> None:
    table = bq_client.get_table(table_id(listings_table))
    assert [field.name for field in table.schema] == [field.name for field in SCHEMA]
    canonical = {"INTEGER": "INT64", "FLOAT": "FLOAT64"}
    assert [canonical.get(f.field_type, f.field_type) for f in table.schema] == [
        f.field_type for f in SCHEMA
    ]
    assert table.num_rows == 0


def test_parquet_load_appends_then_truncates(bq_client, listings_table) -> None:
    assert load_parquet(bq_client, listings_table, tiny_listings(range(4))).output_rows == 4
    load_parquet(bq_client, listings_table, tiny_listings(range(4, 7)))
    assert count(bq_client, listings_table) == 7
    assert bq_client.get_table(table_id(listings_table)).num_rows == 7

    load_parquet(bq_client, listings_table, tiny_listings([100, 101]), "WRITE_TRUNCATE")
    assert count(bq_client, listings_table) == 2
    ids = query(bq_client, f"SELECT train_id FROM `{table_id(listings_table)}` ORDER BY 1")
    assert [row["train_id"] for row in ids] == [100, 101]


def test_loaded_values_round_trip(bq_client, listings_table) -> None:
    source = tiny_listings(range(6), created=[T0 + timedelta(microseconds=i) for i in range(6)])
    load_parquet(bq_client, listings_table, source)
    job = bq_client.query(f"SELECT * FROM `{table_id(listings_table)}` ORDER BY train_id")
    result = job.result().to_arrow(create_bqstorage_client=False)
    assert result.schema.names == ARROW_SCHEMA.names
    assert result.schema.types[:-1] == ARROW_SCHEMA.types[:-1]
    assert result.schema.field("created_at").type == pa.timestamp("us", tz="UTC")  # tz-aware
    got = result.set_column(8, "created_at", result["created_at"].cast(pa.timestamp("us")))
    assert got.to_pylist() == source.to_pylist()


def test_to_dataframe_without_bqstorage(bq_client, listings_table) -> None:
    load_parquet(bq_client, listings_table, tiny_listings(range(3)))
    frame = (
        bq_client.query(f"SELECT * FROM `{table_id(listings_table)}` ORDER BY train_id")
        .result()
        .to_dataframe(create_bqstorage_client=False)
    )
    assert list(frame["train_id"]) == [0, 1, 2]
    assert str(frame["created_at"].dtype) == "datetime64[us, UTC]"


# -- queries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("aware", [False, True], ids=["naive-utc", "aware-utc"])
def test_window_query_boundaries_are_exact(bq_client, listings_table, aware: bool) -> None:
    start, end = datetime(2025, 1, 1), datetime(2025, 2, 1)
    us = timedelta(microseconds=1)
    created = [start - us, start, start + timedelta(days=3), end - us, end, end + us]
    load_parquet(bq_client, listings_table, tiny_listings(range(6), created=created))
    if aware:
        start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    rows = query(
        bq_client,
        f"SELECT train_id, created_at FROM `{table_id(listings_table)}` "
        "WHERE created_at >= @start AND created_at < @end ORDER BY created_at",
        start=start,
        end=end,
    )
    assert [row["train_id"] for row in rows] == [1, 2, 3]
    assert rows[0]["created_at"] == datetime(2025, 1, 1, tzinfo=UTC)
    assert rows[-1]["created_at"] == datetime(2025, 2, 1, tzinfo=UTC) - us


def test_float_parameter(bq_client, listings_table) -> None:
    load_parquet(bq_client, listings_table, tiny_listings(range(5)))  # prices 10.25 .. 14.25
    sql = f"SELECT train_id FROM `{table_id(listings_table)}` WHERE price > @p ORDER BY 1"
    assert [row["train_id"] for row in query(bq_client, sql, p=12.25)] == [3, 4]


def test_string_parameter_with_quotes_is_only_a_value(bq_client, listings_table) -> None:
    load_parquet(bq_client, listings_table, tiny_listings(range(5)))
    sql = f"SELECT train_id FROM `{table_id(listings_table)}` WHERE name = @name"
    assert query(bq_client, sql, name=INJECTION) == []
    assert count(bq_client, listings_table) == 5

    load_parquet(bq_client, listings_table, tiny_listings([9], name=[INJECTION]))
    assert query(bq_client, sql, name=INJECTION) == [{"train_id": 9}]
    stored = query(bq_client, f"SELECT name FROM `{table_id(listings_table)}` WHERE train_id = 9")
    assert stored == [{"name": INJECTION}]


def test_dml_update_with_parameters(bq_client, listings_table) -> None:
    load_parquet(bq_client, listings_table, tiny_listings(range(4)))
    job = bq_client.query(
        f"UPDATE `{table_id(listings_table)}` SET price = @price WHERE train_id < @n",
        job_config=bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter("price", "FLOAT64", 1.5),
                bigquery.ScalarQueryParameter("n", "INT64", 2),
            ]
        ),
    )
    job.result()
    assert job.num_dml_affected_rows == 2
    rows = query(bq_client, f"SELECT price FROM `{table_id(listings_table)}` ORDER BY train_id")
    assert [row["price"] for row in rows] == [1.5, 1.5, 12.25, 13.25]


# -- streaming results page by page --------------------------------------------------------------


def _pages(iterator) -> list[int]:
    return [page.num_items for page in iterator.pages]


STREAMS = {
    "query.result(page_size).pages": lambda c, sql, t: _pages(c.query(sql).result(page_size=10)),
    "query.result(page_size).to_arrow_iterable()": lambda c, sql, t: [
        batch.num_rows for batch in c.query(sql).result(page_size=10).to_arrow_iterable()
    ],
    "query.result(page_size).to_dataframe_iterable()": lambda c, sql, t: [
        len(frame) for frame in c.query(sql).result(page_size=10).to_dataframe_iterable()
    ],
    "query_and_wait(page_size).pages": lambda c, sql, t: _pages(
        c.query_and_wait(sql, page_size=10)
    ),
    "list_rows(page_size).pages": lambda c, sql, t: _pages(c.list_rows(t, page_size=10)),
    "list_rows(page_size).to_arrow_iterable()": lambda c, sql, t: [
        batch.num_rows for batch in c.list_rows(t, page_size=10).to_arrow_iterable()
    ],
}


@pytest.mark.parametrize("api", list(STREAMS))
def test_results_stream_page_by_page(bq_client, listings_table, api: str) -> None:
    load_parquet(bq_client, listings_table, tiny_listings(range(25)))
    sql = f"SELECT * FROM `{table_id(listings_table)}` ORDER BY train_id"
    assert STREAMS[api](bq_client, sql, listings_table) == [10, 10, 5]


def test_arrow_pages_concatenate_to_the_whole_result(bq_client, listings_table) -> None:
    load_parquet(bq_client, listings_table, tiny_listings(range(25)))
    rows = bq_client.query(f"SELECT * FROM `{table_id(listings_table)}` ORDER BY train_id").result(
        page_size=7
    )
    batches = list(rows.to_arrow_iterable())
    assert [batch.num_rows for batch in batches] == [7, 7, 7, 4]
    whole = pa.Table.from_batches(batches)
    assert whole["train_id"].to_pylist() == list(range(25))


# -- errors --------------------------------------------------------------------------------------


def test_missing_table_raises_not_found(bq_client, listings_table) -> None:
    with pytest.raises(gexc.NotFound):
        bq_client.get_table(f"{listings_table.dataset_id}.no_such_table")
    with pytest.raises(gexc.NotFound):
        bq_client.get_dataset("no_such_dataset")
    with pytest.raises(gexc.NotFound):
        bq_client.query(f"SELECT * FROM `{listings_table.dataset_id}.no_such_table`").result()


def test_query_errors_raise_from_result_but_not_from_query_and_wait(bq_client) -> None:
    """Emulator quirk: query_and_wait swallows query errors. Use query().result() in our code,
    or tests against the emulator will not see SQL errors. (If this fails, the quirk is fixed.)"""
    with pytest.raises(gexc.BadRequest, match="Syntax error"):
        bq_client.query("SELEC 1").result()
    assert list(bq_client.query_and_wait("SELEC 1")) == []


def test_unreachable_endpoint_raises_quickly() -> None:
    client = bigquery.Client(
        project="p",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=f"http://127.0.0.1:{free_port()}"),
    )
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError, match="Connection refused"):
        client.get_table("p.d.t", retry=None, timeout=2)
    assert time.monotonic() - started < 1

    started = time.monotonic()
    with pytest.raises(gexc.RetryError) as caught:
        client.get_table("p.d.t", retry=DEFAULT_RETRY.with_timeout(2), timeout=2)
    assert time.monotonic() - started < 5
    assert isinstance(caught.value.cause, requests.exceptions.ConnectionError)
