"""What one row of the prediction log holds, on every backend: the table name, each column with
its kind and whether it is required, the indexed columns, and the error a store raises."""

from price_alchemy.errors import Transient
from price_alchemy.schema import LISTING_FIELDS, listing_field

TABLE = "predictions"
BIGQUERY_SCHEME = "bigquery:"
# (column, kind, required); kinds: str, int, float, datetime (naive UTC)
FIELDS = (
    ("request_id", "str", True),
    ("position", "int", True),
    *((name, listing_field(name).kind, listing_field(name).required) for name in LISTING_FIELDS),
    ("price", "float", True),
    ("low", "float", True),
    ("high", "float", True),
    ("currency", "str", True),
    ("model_name", "str", True),
    ("model_version", "str", True),
    ("created_at", "datetime", True),
)
INDEXED = ("request_id", "created_at")


class PredictionStoreError(Transient):
    """The store refused or failed a write or read: the API counts the rows as dropped and
    tries the next write; a reading task is retried."""
