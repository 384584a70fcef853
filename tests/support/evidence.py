"""Live evidence written straight into a prediction store, as the API and the marketplace would
have left it: an experiment's suggestions of sold listings, each arm off the sale price by its
own factor, and the sales."""

from datetime import datetime

import numpy as np

from price_alchemy.data.prediction_store import open_prediction_store


def write_evidence(
    settings, arms: list[tuple[str, str, float]], listings: int, at: datetime, seed: int = 7
) -> None:
    """`listings` sold listings priced at `at` (naive UTC) by turns by each of `arms`
    ((arm, model version, price / sale price)), with their sales."""
    sold = np.random.default_rng(seed).uniform(10, 200, listings)
    rows, outcomes = [], []
    for i, price in enumerate(sold):
        arm, version, off = arms[i % len(arms)]
        listing_id = f"sim-{seed}-{i}"
        rows.append(_logged(listing_id, arm, version, float(price) * off, at))
        sale = {"listing_id": listing_id, "event": "sold", "price": float(price)}
        outcomes.append(sale | {"occurred_at": at, "received_at": at})
    store = open_prediction_store(settings)
    try:
        store.create()
        store.write(rows)
        store.write_outcomes(outcomes)
    finally:
        store.close()


def _logged(listing_id: str, arm: str, version: str, price: float, at: datetime) -> dict:
    return {
        "request_id": listing_id, "position": 0, "name": "item", "item_condition_id": 2,
        "category_name": None, "brand_name": None, "shipping": 1, "item_description": None,
        "price": price, "low": price * 0.8, "high": price * 1.25, "currency": "USD",
        "model_name": "price-alchemy", "model_version": version, "created_at": at,
        "listing_id": listing_id, "seller_id": None, "arm": arm, "served": 1, "traffic": "live",
    }  # fmt: skip
