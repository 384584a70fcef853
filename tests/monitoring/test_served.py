"""Served traffic counted honestly: synthetic requests and shadow prices are left out, and each
listing counts once (by id, else by its fields)."""

import pandas as pd

from price_alchemy.monitoring.served import live_served_listings

LISTING = {
    "name": "Apple iPhone 128GB",
    "item_condition_id": 2,
    "category_name": "Electronics/Cell Phones & Accessories/Cell Phones & Smartphones",
    "brand_name": "Apple",
    "shipping": 1,
    "item_description": None,
}


def _log(rows: list[dict]) -> pd.DataFrame:
    base = {"listing_id": None, "traffic": "live", "served": 1}
    return pd.DataFrame([base | LISTING | row for row in rows])


def test_a_load_test_of_one_listing_is_left_out_and_repeats_count_once():
    rows = [{"traffic": "load"}] * 4000  # a load test: one listing, marked
    rows += [{}] * 50  # the same listing, unmarked: one listing
    rows += [{"name": f"item {i}"} for i in range(30)]  # 30 distinct listings without ids
    rows += [{"listing_id": "m-1", "name": "first title"}, {"listing_id": "m-1", "name": "edit"}]
    rows += [{"listing_id": "m-2", "served": 0}]  # a shadow price only
    rows += [{"listing_id": "m-3", "traffic": None, "served": None}]  # a row of version 0.1
    found = live_served_listings(_log(rows))
    assert len(found) == 1 + 30 + 1 + 1
    assert found["listing_id"].value_counts().to_dict() == {"m-1": 1, "m-3": 1}
    assert set(found["traffic"].dropna()) == {"live"}
