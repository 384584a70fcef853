"""The BigQuery warehouse: listings in `project.dataset.table`, read with google-cloud-bigquery.

Windows are read with TIMESTAMP query parameters and streamed page by page (REST pages as Arrow
batches), so memory stays bounded whatever the table size. Loads go through one Parquet load
job. Every call retries transient failures for at most `retry_seconds` (the client's default is
ten minutes). Google errors become one-line `WarehouseError`s that say what to set, or
`WarehouseUnavailable` when a retry may help.
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import requests
from google.api_core import exceptions as google_errors
from google.cloud import bigquery

from price_alchemy.data.bigquery_table import BigQueryTable
from price_alchemy.data.warehouse import (
    BATCH_ROWS,
    WarehouseError,
    WarehouseUnavailable,
    check_load_schema,
    check_window_columns,
    merge_run_sql,
    window_query,
    with_schema_batch,
)
from price_alchemy.schema import LISTING_SCHEMA

_TYPES = {
    pa.int64(): "INTEGER",
    pa.string(): "STRING",
    pa.float64(): "FLOAT",
    pa.timestamp("us"): "TIMESTAMP",
}
_TRANSIENT = (
    google_errors.ServiceUnavailable,
    google_errors.InternalServerError,
    google_errors.TooManyRequests,
    google_errors.BadGateway,
    google_errors.GatewayTimeout,
    google_errors.RetryError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
)


class BigQueryWarehouse(BigQueryTable):
    """Rows of `schema` (listings by default) in the BigQuery table `project.dataset.table`."""

    table_setting = "warehouse table"
    schema = LISTING_SCHEMA

    @classmethod
    def from_settings(cls, settings, table: str | None = None, schema: pa.Schema | None = None):
        warehouse = cls.for_table(settings, table or settings.warehouse_table)
        warehouse.schema = schema or LISTING_SCHEMA
        return warehouse

    @property
    def _expected(self) -> dict[str, str]:
        return {field.name: _TYPES[field.type] for field in self.schema}

    @contextmanager
    def _errors(self, doing: str):
        """Google's exceptions as one-line warehouse errors."""
        try:
            yield
        except google_errors.NotFound as error:
            raise WarehouseError(
                f"{doing}: {self.table_id} not found; load listings first"
                " (price-alchemy warehouse load FILE) or set PRICE_ALCHEMY_BIGQUERY_DATASET /"
                " PRICE_ALCHEMY_WAREHOUSE_TABLE"
            ) from error
        except (google_errors.Forbidden, google_errors.Unauthorized) as error:
            raise WarehouseError(
                f"{doing}: the credentials in use may not access {self.table_id}"
                f" ({error.code}); grant them BigQuery access or use other credentials"
            ) from error
        except _TRANSIENT as error:
            raise WarehouseUnavailable(
                f"{doing}: BigQuery unreachable or failing ({type(error).__name__}); check"
                " the network or PRICE_ALCHEMY_BIGQUERY_ENDPOINT; retry later"
            ) from error

    def _columns(self) -> dict[str, str] | None:
        try:
            table = self.client.get_table(self.table_id, retry=self.retry)
        except google_errors.NotFound:
            return None
        return {field.name: field.field_type for field in table.schema}

    def _fields(self) -> list[bigquery.SchemaField]:
        return [bigquery.SchemaField(name, kind) for name, kind in self._expected.items()]

    def _ensure_table(self) -> None:
        """Create the table if missing; refuse one whose columns differ from the schema."""
        existing = self._columns()
        if existing is None:
            self.create_table(self._fields())
        else:
            check_load_schema(existing, self._expected, self.describe())

    def _load_job(self, path: Path, table_id: str, disposition: str) -> int:
        """One Parquet load job of `path` into `table_id`; rows loaded."""
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET, write_disposition=disposition
        )
        with open(path, "rb") as handle:
            job = self.client.load_table_from_file(handle, table_id, job_config=config)
        job.result(retry=self.retry)
        return int(job.output_rows or 0)

    def load_parquet(self, path: Path, replace: bool = False) -> int:
        with self._errors("loading listings"):
            self._ensure_table()
            disposition = "WRITE_TRUNCATE" if replace else "WRITE_APPEND"
            return self._load_job(path, self.table_id, disposition)

    def count_rows(self) -> int:
        with self._errors("counting listings"):
            if self._columns() is None:
                return 0
            sql = f"SELECT COUNT(*) AS n FROM `{self.table_id}`"
            job = self.client.query(sql, retry=self.retry)
            return int(next(iter(job.result(retry=self.retry)))["n"])

    def prices_of(self, ids: list[int]) -> dict[int, float]:
        if not ids:
            return {}
        sql = (
            f"SELECT train_id, price FROM `{self.table_id}`"
            " WHERE price IS NOT NULL AND train_id IN UNNEST(@ids)"
        )
        config = bigquery.QueryJobConfig(
            query_parameters=[bigquery.ArrayQueryParameter("ids", "INT64", ids)]
        )
        with self._errors("reading listing prices"):
            if self._columns() is None:
                return {}
            rows = self.client.query_and_wait(sql, job_config=config, retry=self.retry)
            return {int(row["train_id"]): float(row["price"]) for row in rows}

    def window_query(self, start: datetime, end: datetime) -> tuple[str, dict[str, str]]:
        return window_query(f"`{self.table_id}`", "@", start, end)

    def read_window(self, start: datetime, end: datetime) -> Iterator[pa.RecordBatch]:
        sql, _ = self.window_query(start, end)
        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter("start", "TIMESTAMP", start),
                bigquery.ScalarQueryParameter("end", "TIMESTAMP", end),
            ]
        )
        with self._errors("reading the listings window"):
            columns = self._columns()
            if columns is None:
                raise google_errors.NotFound(self.table_id)
            check_window_columns(list(columns), self.describe())
            job = self.client.query(sql, job_config=config, retry=self.retry)
            rows = job.result(page_size=BATCH_ROWS, retry=self.retry)
            schema = pa.schema([f for f in LISTING_SCHEMA if f.name in columns])
            yield from with_schema_batch(rows.to_arrow_iterable(), schema)

    def read_all(self, batch_rows: int) -> Iterator[pa.RecordBatch]:
        with self._errors(f"reading {self.table_id}"):
            if self._columns() is None:
                raise google_errors.NotFound(self.table_id)
            job = self.client.query(f"SELECT * FROM `{self.table_id}`", retry=self.retry)
            rows = job.result(page_size=batch_rows, retry=self.retry)
            yield from with_schema_batch(rows.to_arrow_iterable(), self.schema)

    def merge_run(self, path: Path, run_id: str) -> int:
        """A load job into a staging table of the run, one MERGE, the staging table dropped."""
        digest = hashlib.sha256(run_id.encode()).hexdigest()[:16]
        staging = f"{self.table_id}__staging_{digest}"
        sql = merge_run_sql(f"`{self.table_id}`", f"`{staging}`", self.schema, "@")
        run = bigquery.ScalarQueryParameter("run", "STRING", run_id)
        config = bigquery.QueryJobConfig(query_parameters=[run])
        with self._errors(f"writing run {run_id} to {self.table_id}"):
            self._ensure_table()
            table = bigquery.Table(staging, schema=self._fields())
            self.client.create_table(table, exists_ok=True, retry=self.retry)
            try:
                self._load_job(path, staging, "WRITE_TRUNCATE")
                self.client.query_and_wait(sql, job_config=config, retry=self.retry)
            finally:
                self.client.delete_table(staging, not_found_ok=True, retry=self.retry)
            count = f"SELECT COUNT(*) AS n FROM `{self.table_id}` WHERE run_id = @run"
            rows = self.client.query_and_wait(count, job_config=config, retry=self.retry)
            return int(next(iter(rows))["n"])
