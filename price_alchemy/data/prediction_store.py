"""Where the prediction log's rows are kept: a SQL table `predictions` by SQLAlchemy URL (sqlite
under the state directory by default, Postgres by settings; `sql_prediction_store`), or a
BigQuery table (`PRICE_ALCHEMY_PREDICTION_LOG_URL=bigquery:TABLE`, in the warehouse's BigQuery
project and dataset; `bigquery_prediction_store`).

A store creates its table when missing, appends rows (`write`, raising `PredictionStoreError`
when the store fails) and reads the suggestions served in a time window (`read`, None when
there is no log yet). `read_served` gives the monitoring stage that window.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from price_alchemy.data.prediction_records import BIGQUERY_SCHEME
from price_alchemy.data.sql_prediction_store import SqlPredictionStore

if TYPE_CHECKING:
    import pandas as pd


class PredictionStore(Protocol):
    """What the API and the stages need of a prediction log's store."""

    def describe(self) -> str: ...

    def create(self) -> None: ...

    def write(self, rows: list[dict]) -> None: ...

    def read(self, start: datetime, end: datetime) -> "pd.DataFrame | None": ...

    def write_outcomes(self, rows: list[dict]) -> None: ...

    def read_outcomes(self) -> "pd.DataFrame | None": ...

    def read_outcome_pairs(self, start: datetime, end: datetime) -> "pd.DataFrame | None": ...

    def close(self) -> None: ...


def open_prediction_store(settings) -> PredictionStore:
    """The store `settings.prediction_log` names."""
    url = settings.prediction_log
    if url.startswith(BIGQUERY_SCHEME):
        from price_alchemy.data.bigquery_prediction_store import BigQueryPredictionStore

        return BigQueryPredictionStore.for_table(settings, url.removeprefix(BIGQUERY_SCHEME))
    return SqlPredictionStore(url)


def read_served(settings, start: datetime, end: datetime) -> "pd.DataFrame | None":
    """The suggestions served in `[start, end)` (naive UTC), or None when there is no log."""
    store = open_prediction_store(settings)
    try:
        return store.read(start, end)
    finally:
        store.close()
