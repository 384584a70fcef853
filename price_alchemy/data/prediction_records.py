"""What the prediction log holds, on every backend: a row per suggestion (`predictions`) and a row
per listing's outcome (`outcomes`: listed, sold or withdrawn, with the price; one per listing
and event, a repeat replaces it), each column with its kind and whether it is required, and the
error a store raises."""

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
    # added with live experiments; null in rows logged before (then: champion, served, live)
    ("listing_id", "str", False),  # the marketplace's id of the listing, when sent
    ("seller_id", "str", False),
    ("arm", "str", False),  # champion or challenger: the model that priced the row
    ("served", "int", False),  # 1: the answer the client got; 0: a shadow price, logged only
    ("traffic", "str", False),  # live, or synthetic: test, load, smoke (X-Traffic)
)
INDEXED = ("request_id", "created_at", "listing_id")

OUTCOMES_TABLE = "outcomes"
EVENTS = ("listed", "sold", "withdrawn")
PRICED_EVENTS = ("listed", "sold")  # those that come with a price
OUTCOME_KEY = ("listing_id", "event")
OUTCOME_FIELDS = (
    ("listing_id", "str", True),
    ("event", "str", True),  # one of EVENTS
    ("price", "float", False),
    ("occurred_at", "datetime", True),  # when it happened (naive UTC; `at` in the API)
    ("received_at", "datetime", True),  # when it was posted: the latest post of a key wins
)


class PredictionStoreError(Transient):
    """The store refused or failed a write or read: the API counts the rows as dropped and
    tries the next write; a reading task is retried."""
