"""The listing's fields are defined once (`price_alchemy.schema`): the warehouse's columns, the
API's request body and the prediction log's columns all follow them."""

import pyarrow as pa

from price_alchemy.data.prediction_records import FIELDS as LOG_FIELDS
from price_alchemy.schema import (
    FIELDS,
    INTEGER_COLUMNS,
    LISTING_FIELDS,
    LISTING_SCHEMA,
    TEXT_COLUMNS,
    listing_field,
)
from price_alchemy.serving.schemas import Listing


def test_the_warehouse_schema_is_the_fields():
    assert LISTING_SCHEMA.names == [f.name for f in FIELDS]
    assert LISTING_SCHEMA.field("created_at").type == pa.timestamp("us")
    assert INTEGER_COLUMNS == ("train_id", "item_condition_id", "shipping")
    assert TEXT_COLUMNS == ("name", "category_name", "brand_name", "item_description")


def test_the_api_takes_the_listing_fields_with_their_meaning_and_the_ids():
    assert tuple(Listing.model_fields) == (*LISTING_FIELDS, "listing_id", "seller_id")
    for name, field in Listing.model_fields.items():
        if name in ("listing_id", "seller_id"):
            continue
        assert field.description == listing_field(name).description
        assert field.is_required() == (name in ("name", "item_condition_id", "shipping"))


def test_the_prediction_log_holds_each_listing_field_with_its_kind():
    logged = {name: (kind, required) for name, kind, required in LOG_FIELDS}
    for name in LISTING_FIELDS:
        assert logged[name] == (listing_field(name).kind, listing_field(name).required)
