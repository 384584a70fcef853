"""The listing: its fields, their types and what marks a missing value, defined once.

A listing as the warehouse stores it is `LISTING_SCHEMA` (Arrow types): an id, the six fields a
seller types (`LISTING_FIELDS`, the model's input and the API's request body), the realized
price and when it was listed. Everything else that names these fields (the warehouse backends,
loading, validation, features, the API schema, the prediction log, the demo generator) imports
them from here.
"""

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

Kind = Literal["int", "float", "str", "datetime"]


@dataclass(frozen=True)
class ListingField:
    """One column of a listing: its kind, whether every listing has it, and its meaning."""

    name: str
    kind: Kind
    required: bool
    description: str


FIELDS = (
    ListingField("train_id", "int", True, "The listing's id (as text: its `listing_id`)."),
    ListingField("name", "str", True, "The listing title."),
    ListingField("item_condition_id", "int", True, "1 = new ... 5 = poor."),
    ListingField("category_name", "str", False, "Category path, e.g. 'Men/Shoes/Athletic'."),
    ListingField("brand_name", "str", False, "The brand, when the seller named one."),
    ListingField("price", "float", True, "The realized price."),
    ListingField("shipping", "int", True, "1 when the seller pays shipping."),
    ListingField("item_description", "str", False, "The seller's description, free text."),
    ListingField("created_at", "datetime", True, "When it was listed (naive UTC)."),
)
# what a seller types: the model's input, the API's request, the prediction log's listing part
LISTING_FIELDS = (
    "name",
    "item_condition_id",
    "category_name",
    "brand_name",
    "shipping",
    "item_description",
)
CONDITIONS = (1, 2, 3, 4, 5)
CONDITION_LABELS = {1: "New", 2: "Like new", 3: "Good", 4: "Fair", 5: "Poor"}
SHIPPING_VALUES = (0, 1)  # 1: the seller pays
SHIPPING_LABELS = {0: "buyer pays", 1: "seller pays"}


def in_cents(price: float) -> float:
    """A suggested price as the API and batch re-pricing answer it: rounded to the cent."""
    return round(price, 2)
NO_DESCRIPTION = "No description yet"  # Mercari's marker of an empty description

_ARROW_TYPES = {
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
    "datetime": pa.timestamp("us"),
}
LISTING_SCHEMA = pa.schema([(f.name, _ARROW_TYPES[f.kind]) for f in FIELDS])
INTEGER_COLUMNS = tuple(f.name for f in FIELDS if f.kind == "int")
TEXT_COLUMNS = tuple(f.name for f in FIELDS if f.kind == "str")


def listing_field(name: str) -> ListingField:
    """The field called `name`."""
    return next(f for f in FIELDS if f.name == name)


# Live listings, priced again by the re-pricing DAG: what a seller typed, the marketplace's id
# of the listing (as the API takes it), the price it is listed at and since when.
ACTIVE_FIELDS = (
    ListingField("listing_id", "str", True, "The listing's id in the marketplace."),
    *(listing_field(name) for name in LISTING_FIELDS),
    ListingField("listed_price", "float", False, "The price it is listed at."),
    ListingField("listed_at", "datetime", True, "When it was listed (naive UTC)."),
)
ACTIVE_LISTING_SCHEMA = pa.schema([(f.name, _ARROW_TYPES[f.kind]) for f in ACTIVE_FIELDS])
# The tables a re-pricing run writes: each row is one of a run's, keyed by the columns in the
# schema's metadata "keys" (a run's rows are replaced by key when it runs again)
RUN_KEYS = b"keys"
# One suggestion of a re-pricing run; `gap` is listed_price / price - 1 (+0.25: listed 25% above)
SUGGESTION_SCHEMA = pa.schema(
    [
        ("listing_id", pa.string()),
        ("price", pa.float64()),
        ("low", pa.float64()),
        ("high", pa.float64()),
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("run_id", pa.string()),
        ("scored_at", pa.timestamp("us")),
        ("gap", pa.float64()),
    ],
    metadata={RUN_KEYS: b"run_id,listing_id"},
)
# A live listing a re-pricing run could not price, with every failed check; `read_order` is its
# place in the order the run read the live listings (its id may be missing or repeated)
SKIPPED_SCHEMA = pa.schema(
    [
        ("listing_id", pa.string()),
        ("run_id", pa.string()),
        ("read_order", pa.int64()),
        ("reasons", pa.string()),
        ("checked_at", pa.timestamp("us")),
    ],
    metadata={RUN_KEYS: b"run_id,read_order"},
)
