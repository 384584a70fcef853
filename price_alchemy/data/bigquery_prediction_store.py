"""The prediction log in BigQuery: `project.dataset.TABLE` of the warehouse's BigQuery settings
(project, dataset, location, endpoint, credentials), chosen by
`PRICE_ALCHEMY_PREDICTION_LOG_URL=bigquery:TABLE`.

Rows are appended with streaming inserts (`insertAll`), each with an insert id of its request id
and position, so a retried batch is not logged twice; windows are read with TIMESTAMP query
parameters. Google's errors become `PredictionStoreError`s.
"""

from contextlib import contextmanager
from datetime import UTC, datetime

import pandas as pd
from google.api_core import exceptions as google_errors
from google.cloud import bigquery

from price_alchemy.data.bigquery_table import BigQueryTable
from price_alchemy.data.prediction_records import (
    FIELDS,
    OUTCOME_FIELDS,
    OUTCOME_PAIR_SQL,
    OUTCOMES_TABLE,
    PredictionStoreError,
)

_TYPES = {"str": "STRING", "int": "INTEGER", "float": "FLOAT", "datetime": "TIMESTAMP"}


def _schema(fields) -> list[bigquery.SchemaField]:
    return [
        bigquery.SchemaField(name, _TYPES[kind], mode="REQUIRED" if required else "NULLABLE")
        for name, kind, required in fields
    ]


SCHEMA, OUTCOMES_SCHEMA = _schema(FIELDS), _schema(OUTCOME_FIELDS)
# the latest post of each listing and event: outcomes are appended, and a repeat replaces
_LATEST_OUTCOMES = (
    "SELECT {columns} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY listing_id, event"
    " ORDER BY received_at DESC) AS post FROM `{table}`) WHERE post = 1"
)


class BigQueryPredictionStore(BigQueryTable):
    """The prediction log as the BigQuery table `project.dataset.table`, its outcomes in
    `project.dataset.outcomes` beside it (appended: reads keep the latest of each listing and
    event)."""

    table_setting = "prediction log table"

    @property
    def outcomes_id(self) -> str:
        return f"{self.dataset_id}.{OUTCOMES_TABLE}"

    def create(self) -> None:
        """Create the tables when missing, and add the fields a log of an earlier version
        lacks (nullable)."""
        with _google_errors(f"creating {self.table_id}"):
            self.create_table(SCHEMA)
            self.client.create_table(
                bigquery.Table(self.outcomes_id, schema=OUTCOMES_SCHEMA),
                exists_ok=True,
                retry=self.retry,
            )
            self._add_missing_fields()

    def _add_missing_fields(self) -> None:
        """The fields of SCHEMA a log of an earlier version lacks, added as nullable columns:
        by DDL, and in the table's schema where the DDL did not change it (the emulator)."""
        table = self.client.get_table(self.table_id, retry=self.retry)
        missing = [field for field in SCHEMA if field.name not in {f.name for f in table.schema}]
        if not missing:
            return
        for field in missing:
            add = f"ALTER TABLE `{self.table_id}` ADD COLUMN IF NOT EXISTS {field.name}"
            self.client.query_and_wait(f"{add} {field.field_type}", retry=self.retry)
        table = self.client.get_table(self.table_id, retry=self.retry)
        present = {field.name for field in table.schema}
        if any(field.name not in present for field in missing):
            table.schema = [*table.schema, *(f for f in missing if f.name not in present)]
            self.client.update_table(table, ["schema"], retry=self.retry)

    def write(self, rows: list[dict]) -> None:
        ids = [f"{row['request_id']}:{row['position']}:{row.get('served', 1)}" for row in rows]
        with _google_errors(f"writing {len(rows)} rows to {self.table_id}"):
            errors = self.client.insert_rows_json(
                self.table_id, [_json_times(row) for row in rows], row_ids=ids, retry=self.retry
            )
        if errors:
            raise PredictionStoreError(
                f"BigQuery refused {len(errors)} of {len(rows)} rows, e.g. {errors[0]}"
            )

    def write_outcomes(self, rows: list[dict]) -> None:
        """Append outcomes (streaming inserts; the latest post of a key is the one read)."""
        ids = [f"{r['listing_id']}:{r['event']}:{r['received_at'].isoformat()}" for r in rows]
        with _google_errors(f"writing {len(rows)} outcomes to {self.outcomes_id}"):
            errors = self.client.insert_rows_json(
                self.outcomes_id,
                [_json_times(row) for row in rows],
                row_ids=ids,
                retry=self.retry,
            )
        if errors:
            raise PredictionStoreError(f"BigQuery refused {len(errors)} outcomes, e.g. {errors[0]}")

    @property
    def _latest_outcomes(self) -> str:
        """The SQL selecting the latest outcome of each listing and event."""
        columns = ", ".join(name for name, _, _ in OUTCOME_FIELDS)
        return _LATEST_OUTCOMES.format(columns=columns, table=self.outcomes_id)

    def read_outcomes(self) -> pd.DataFrame | None:
        """The latest outcome of each listing and event, or None without an outcome table."""
        times = ("occurred_at", "received_at")
        return self._query(self.outcomes_id, self._latest_outcomes, [], times)

    def read_outcome_pairs(self, start: datetime, end: datetime) -> pd.DataFrame | None:
        """The live suggestions with a listing id logged in `[start, end)`, each with its
        listing's latest sold and listed price, joined in BigQuery; None without a log."""
        sql = OUTCOME_PAIR_SQL.format(
            predictions=f"`{self.table_id}`",
            outcomes=f"({self._latest_outcomes})",
            start="@start",
            end="@end",
        )
        self.create()  # an outcome table, even if no outcome came yet
        return self._query(self.table_id, sql, _window(start, end), ("created_at",))

    def read(self, start: datetime, end: datetime) -> pd.DataFrame | None:
        sql = f"SELECT * FROM `{self.table_id}` WHERE created_at >= @start AND created_at < @end"
        return self._query(self.table_id, sql, _window(start, end), ("created_at",))

    def _query(
        self, table_id: str, sql: str, parameters: list, times: tuple
    ) -> pd.DataFrame | None:
        """The rows `sql` selects from `table_id` (None when the table does not exist), with
        the `times` columns as naive UTC."""
        config = bigquery.QueryJobConfig(query_parameters=parameters)
        with _google_errors(f"reading {table_id}"):
            try:
                self.client.get_table(table_id, retry=self.retry)
            except google_errors.NotFound:
                return None
            job = self.client.query(sql, job_config=config, retry=self.retry)
            frame = job.result(retry=self.retry).to_arrow(create_bqstorage_client=False).to_pandas()
        for column in times:
            frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
        return frame

    def close(self) -> None:
        self.client.close()


def _window(start: datetime, end: datetime) -> list[bigquery.ScalarQueryParameter]:
    """The query parameters @start and @end (naive values are UTC)."""
    return [
        bigquery.ScalarQueryParameter("start", "TIMESTAMP", start.replace(tzinfo=UTC)),
        bigquery.ScalarQueryParameter("end", "TIMESTAMP", end.replace(tzinfo=UTC)),
    ]


def _json_times(row: dict) -> dict:
    """`row` with its datetimes as ISO text (naive values are UTC), as `insertAll` takes them."""
    return {
        key: value.replace(tzinfo=value.tzinfo or UTC).isoformat()
        if isinstance(value, datetime)
        else value
        for key, value in row.items()
    }


@contextmanager
def _google_errors(doing: str):
    try:
        yield
    except (google_errors.GoogleAPIError, OSError) as error:
        raise PredictionStoreError(f"{doing}: {type(error).__name__}: {error}") from error
