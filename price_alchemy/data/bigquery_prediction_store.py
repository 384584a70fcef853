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
from price_alchemy.data.prediction_records import FIELDS, PredictionStoreError

_TYPES = {"str": "STRING", "int": "INTEGER", "float": "FLOAT", "datetime": "TIMESTAMP"}
SCHEMA = [
    bigquery.SchemaField(name, _TYPES[kind], mode="REQUIRED" if required else "NULLABLE")
    for name, kind, required in FIELDS
]


class BigQueryPredictionStore(BigQueryTable):
    """The prediction log as the BigQuery table `project.dataset.table`."""

    table_setting = "prediction log table"

    def create(self) -> None:
        with _google_errors(f"creating {self.table_id}"):
            self.create_table(SCHEMA)

    def write(self, rows: list[dict]) -> None:
        ids = [f"{row['request_id']}:{row['position']}" for row in rows]
        with _google_errors(f"writing {len(rows)} rows to {self.table_id}"):
            errors = self.client.insert_rows_json(
                self.table_id, [_json_row(row) for row in rows], row_ids=ids, retry=self.retry
            )
        if errors:
            raise PredictionStoreError(
                f"BigQuery refused {len(errors)} of {len(rows)} rows, e.g. {errors[0]}"
            )

    def read(self, start: datetime, end: datetime) -> pd.DataFrame | None:
        sql = f"SELECT * FROM `{self.table_id}` WHERE created_at >= @start AND created_at < @end"
        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter("start", "TIMESTAMP", start.replace(tzinfo=UTC)),
                bigquery.ScalarQueryParameter("end", "TIMESTAMP", end.replace(tzinfo=UTC)),
            ]
        )
        with _google_errors(f"reading {self.table_id}"):
            try:
                self.client.get_table(self.table_id, retry=self.retry)
            except google_errors.NotFound:
                return None
            job = self.client.query(sql, job_config=config, retry=self.retry)
            frame = job.result(retry=self.retry).to_arrow(create_bqstorage_client=False).to_pandas()
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True).dt.tz_localize(None)
        return frame

    def close(self) -> None:
        self.client.close()


def _json_row(row: dict) -> dict:
    """A row for `insertAll`: timestamps as ISO text (naive values are UTC)."""
    created = row["created_at"]
    return row | {"created_at": created.replace(tzinfo=created.tzinfo or UTC).isoformat()}


@contextmanager
def _google_errors(doing: str):
    try:
        yield
    except (google_errors.GoogleAPIError, OSError) as error:
        raise PredictionStoreError(f"{doing}: {type(error).__name__}: {error}") from error
