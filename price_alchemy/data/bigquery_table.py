"""One table in BigQuery, as the BigQuery backends (the warehouse, the prediction log) hold it:
the client, the `project.dataset.table` ids (dataset and table checked as plain identifiers),
a retry bounded by `retry_seconds` (the client's default is ten minutes), and the dataset and
table created when missing."""

from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_RETRY

from price_alchemy.data.google_credentials import bigquery_client
from price_alchemy.data.identifiers import check_identifier


class BigQueryTable:
    table_setting = "table"  # what an invalid table name is called in the error

    def __init__(
        self,
        client: bigquery.Client,
        dataset: str,
        table: str,
        location: str = "US",
        retry_seconds: float = 120.0,
    ) -> None:
        self.client, self.location = client, location
        self.retry = DEFAULT_RETRY.with_timeout(retry_seconds)
        check_identifier(table, self.table_setting)
        check_identifier(dataset, "BigQuery dataset")
        self.dataset_id = f"{client.project}.{dataset}"
        self.table_id = f"{self.dataset_id}.{table}"

    @classmethod
    def for_table(cls, settings, table: str):
        """`table` in the project and dataset of the BigQuery settings, with their client."""
        return cls(
            bigquery_client(settings),
            settings.bigquery_dataset,
            table,
            settings.bigquery_location,
            settings.bigquery_retry_seconds,
        )

    def describe(self) -> str:
        return f"bigquery:{self.table_id}"

    def create_table(self, schema: list[bigquery.SchemaField]) -> None:
        """Create the dataset (in `location`) and the table with `schema`, where missing."""
        dataset = bigquery.Dataset(self.dataset_id)
        dataset.location = self.location
        self.client.create_dataset(dataset, exists_ok=True, retry=self.retry)
        table = bigquery.Table(self.table_id, schema=schema)
        self.client.create_table(table, exists_ok=True, retry=self.retry)
