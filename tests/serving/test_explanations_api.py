"""Why this price, over HTTP with a real champion from a real MLflow store: `"explain": true`
answers factors that add up to each price and comparable sales of its category; without it the
answer is as before; the catalogue endpoints give the champion's categories and brands, cached
per model version; a model trained before explanations still serves and says what it lacks."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from price_alchemy.demo.generator import generate_listings
from price_alchemy.schema import LISTING_FIELDS
from price_alchemy.serving.app import create_app
from price_alchemy.settings import Settings
from tests.model.test_artifacts import LEGACY

BASIC_KEYS = {"listing_id", "model_version", "price", "low", "high", "currency"}


@pytest.fixture(scope="module")
def client(champion_settings):
    with TestClient(create_app(champion_settings)) as client:
        yield client


def _unseen(count: int, seed: int = 77) -> list[dict]:
    """Listings of a seed no champion was trained on, as JSON sends them."""
    frame = generate_listings(count, seed=seed).to_pandas()[list(LISTING_FIELDS)]
    rows = frame.to_dict("records")
    return [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in rows]


def _suggest(client, listings: list[dict], **body) -> list[dict]:
    response = client.post("/v1/price-suggestions", json={"listings": listings, **body})
    assert response.status_code == 200, response.text
    return response.json()["suggestions"]


def test_factors_add_up_to_each_suggestion(client):
    listings = _unseen(40)
    for suggestion in _suggest(client, listings, explain=True):
        factors = suggestion["factors"]
        total = np.log1p(suggestion["base_price"]) + sum(f["log_effect"] for f in factors)
        assert total == pytest.approx(suggestion["log_price"], abs=1e-6)
        # the price is rounded to the cent; its log is the factors' sum to that rounding
        assert np.expm1(suggestion["log_price"]) == pytest.approx(suggestion["price"], abs=0.006)
        assert factors[-1]["price_after"] == pytest.approx(suggestion["price"], abs=0.006)
        assert factors and {f["kind"] for f in factors} <= {
            "category", "brand", "condition", "shipping", "title", "description", "crossed",
            "other", "floor",
        }  # fmt: skip
        assert suggestion["explain_note"] is None


def test_the_same_prices_with_and_without_explain(client):
    listings = _unseen(20, seed=78)
    plain, explained = _suggest(client, listings), _suggest(client, listings, explain=True)
    assert [s["price"] for s in plain] == [s["price"] for s in explained]
    assert all(set(s) == BASIC_KEYS for s in plain)  # as before explanations existed


def test_comparables_are_from_the_listings_category_or_its_parent(client):
    listings = [listing for listing in _unseen(30, seed=79) if listing["category_name"]]
    for listing, suggestion in zip(listings, _suggest(client, listings, explain=True), strict=True):
        found = suggestion["comparables"]
        assert 1 <= len(found) <= 5
        category = listing["category_name"]
        parents = {category, category.rsplit("/", 1)[0], category.split("/")[0]}
        assert all(any(c["category"].startswith(p) for p in parents) for c in found)
        similarities = [c["similarity"] for c in found]
        assert similarities == sorted(similarities, reverse=True)
        assert all(0 <= s <= 1 and c["price"] > 0 for s, c in zip(similarities, found, strict=True))


def test_categories_and_brands_of_the_champion_cached_per_version(client):
    response = client.get("/v1/categories")
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == "1"
    tree = body["categories"]
    assert tree and all(node["children"] for node in tree)
    leaf = tree[0]["children"][0]["children"][0]
    assert leaf["path"].count("/") == 2 and leaf["count"] > 0
    etag = response.headers["etag"]
    again = client.get("/v1/categories", headers={"If-None-Match": etag})
    assert again.status_code == 304

    brands = client.get("/v1/brands", params={"prefix": "n", "limit": 5}).json()["brands"]
    names = [b["name"].lower() for b in brands]
    assert names and all(name.startswith("n") or " n" in name for name in names)
    top = tree[0]["path"]
    within = client.get("/v1/brands", params={"category": top, "limit": 100}).json()["brands"]
    everywhere = client.get("/v1/brands", params={"limit": 100}).json()["brands"]
    assert within and sum(b["count"] for b in within) < sum(b["count"] for b in everywhere)
    assert client.get("/v1/brands", params={"limit": 0}).status_code == 422


def test_a_model_trained_before_explanations_serves_and_says_so(tmp_path):
    expected = json.loads((Path(LEGACY) / "expected_prices.json").read_text())
    settings = Settings(home=tmp_path / "home", model_dir=LEGACY / "model")
    rows = [{k: None if v != v else v for k, v in row.items()} for row in expected["listings"]]
    with TestClient(create_app(settings)) as client:
        got = _suggest(client, rows[:2], explain=True)
        catalogue = client.get("/v1/categories")
    assert [s["price"] for s in got] == [round(p, 2) for p in expected["price"][:2]]
    assert all(s["factors"] is None and "train it again" in s["explain_note"] for s in got)
    assert catalogue.status_code == 409 and "train it again" in catalogue.json()["detail"]
