"""Comparable sales: built from the training split only, found in the listing's category (or
its parent when the category is small), ranked by title similarity; and the catalogue (the
category tree with counts, brands by prefix and category) the seller page picks from."""

import numpy as np
import pandas as pd
import pytest

from price_alchemy.demo.generator import generate_listings
from price_alchemy.model.comparables import ComparableSales
from price_alchemy.model.features import listing_columns
from price_alchemy.model.train import fit_model, split_listings
from price_alchemy.params import load_params
from price_alchemy.schema import LISTING_FIELDS


@pytest.fixture(scope="module")
def listings() -> pd.DataFrame:
    return generate_listings(6000, seed=21).to_pandas()


@pytest.fixture(scope="module")
def index(listings) -> ComparableSales:
    return ComparableSales(min_category_rows=20).fit(listings)


def _query(**listing) -> dict:
    base = {
        "name": "Nike running shoes",
        "item_condition_id": 3,
        "category_name": None,
        "brand_name": None,
        "shipping": 1,
        "item_description": None,
    }
    return base | listing


def test_comparables_come_from_the_listings_category_most_similar_first(index, listings):
    category = listings["category_name"].value_counts().index[0]
    title = listings.loc[listings["category_name"] == category, "name"].iloc[0]
    [found] = index.find(listing_columns([_query(name=title, category_name=category)]))
    assert len(found) == 5
    assert {c["category"] for c in found} == {category}
    assert found[0]["title"] == title and found[0]["similarity"] == pytest.approx(1.0, abs=1e-3)
    similarities = [c["similarity"] for c in found]
    assert similarities == sorted(similarities, reverse=True)
    row = listings[(listings["name"] == title) & (listings["category_name"] == category)].iloc[0]
    assert found[0]["price"] == pytest.approx(row["price"], rel=1e-6)
    assert set(found[0]) == {"title", "brand", "condition", "category", "price", "similarity"}


def test_a_small_category_borrows_its_parents_listings(listings):
    counts = listings["category_name"].value_counts()
    parent_of = [path.rpartition("/")[0] for path in counts.index]
    parents = counts.groupby(parent_of).transform("sum")
    small = (counts[parents > counts]).index[-1]  # the smallest leaf with siblings
    parent = small.rpartition("/")[0]
    index = ComparableSales(min_category_rows=int(counts[small]) + 1).fit(listings)
    looked, rows = index.rows_for(small)
    assert looked == parent and len(rows) == parents[small]
    [found] = index.find(listing_columns([_query(category_name=small)]))
    assert found and all(c["category"].startswith(parent + "/") for c in found)


def test_an_unknown_category_looks_in_its_known_parent(index, listings):
    top = listings["category_name"].dropna().iloc[0].split("/")[0]
    looked, _ = index.rows_for(f"{top}/Nothing Like It/At All")
    assert looked == top
    looked, rows = index.rows_for("Nowhere/Else")
    assert looked == "" and len(rows) == len(index)


def test_the_category_tree_counts_every_listing_once(index, listings):
    tree = index.categories()
    with_category = listings["category_name"].notna().sum()
    assert sum(node["count"] for node in tree) == with_category
    for node in tree:
        assert node["count"] == sum(child["count"] for child in node["children"])
        assert "/" not in node["name"] and node["path"] == node["name"]
    leaves = [leaf for n in tree for m in n["children"] for leaf in m["children"]]
    assert {leaf["path"] for leaf in leaves} == set(listings["category_name"].dropna())
    counts = [node["count"] for node in tree]
    assert counts == sorted(counts, reverse=True)


def test_brands_by_prefix_and_category(index, listings):
    brands = listings["brand_name"].dropna()
    top = brands.value_counts().index[0]
    found = index.brands(top[:2].lower(), "", 5)
    assert found[0] == {"name": top, "count": int((brands == top).sum())}
    assert all(b["name"].lower().startswith(top[:2].lower()) for b in found if b["count"])
    category = listings.loc[listings["brand_name"] == top, "category_name"].iloc[0]
    top_level = category.split("/")[0]
    within = index.brands("", top_level, 50)
    in_top = listings[listings["category_name"].fillna("").str.startswith(top_level + "/")]
    expected = in_top["brand_name"].value_counts()
    assert {b["name"]: b["count"] for b in within} == expected.head(50).to_dict() or [
        b["count"] for b in within
    ] == expected.head(50).tolist()
    assert index.brands("zzzzqq", "", 5) == []


def test_the_index_holds_training_listings_only(listings):
    params = load_params()
    train, test = split_listings(listings, params.split)
    model = fit_model(train, params)
    ids = set(model.comparables_.ids_.tolist())
    assert ids == set(train["train_id"].tolist())
    assert ids.isdisjoint(test["train_id"].tolist())
    assert model.comparables_.nbytes() > 0
    first = test[list(LISTING_FIELDS)].head(1).to_dict("records")
    [found] = model.comparables_.find(listing_columns(first))
    assert len(found) == 5 and np.isfinite([c["price"] for c in found]).all()
