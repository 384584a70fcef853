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
# a logged suggestion with what became of its listing, as the online report reads it: the join
# of the log and the outcomes runs in the store (one row per logged row with a listing id, of
# live traffic; the latest sold and listed prices, null when not known yet)
OUTCOME_PAIR_SQL = """
SELECT p.listing_id, p.arm, p.model_version, p.served, p.price, p.low, p.high, p.created_at,
       s.price AS sold_price, l.price AS listed_price
FROM {predictions} p
LEFT JOIN {outcomes} s ON s.listing_id = p.listing_id AND s.event = 'sold'
LEFT JOIN {outcomes} l ON l.listing_id = p.listing_id AND l.event = 'listed'
WHERE p.created_at >= {start} AND p.created_at < {end} AND p.listing_id IS NOT NULL
  AND (p.traffic IS NULL OR p.traffic = 'live')
"""
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
