"""Explanations of a model trained for real on generated listings: the factors add up to the
model's own log price exactly, name what a seller typed, find the effect words the generator put
in, and a member without exact attributions (an MLP) is explained exactly in sum too."""

import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.neural_network import MLPRegressor

from price_alchemy.demo.generator import generate_listings
from price_alchemy.lifecycle.export import read_exported
from price_alchemy.model.blend import BlendRegressor
from price_alchemy.model.explain import OTHER, TOP_FACTORS, Explainer, NoExplanations
from price_alchemy.model.features import listing_columns
from price_alchemy.model.price_range import PriceRangeModel
from price_alchemy.model.train import build_model, fit_model, split_listings
from price_alchemy.params import load_params
from price_alchemy.schema import LISTING_FIELDS
from tests.model.test_artifacts import LEGACY


@pytest.fixture(scope="module")
def params():
    return load_params()


@pytest.fixture(scope="module")
def data(params):
    frame = generate_listings(20000, seed=11).to_pandas()
    return split_listings(frame, params.split)


@pytest.fixture(scope="module")
def model(data, params):
    return fit_model(data[0], params)


def _rows(frame: pd.DataFrame) -> list[dict]:
    return frame[list(LISTING_FIELDS)].to_dict("records")


def _total(explained) -> float:
    return float(np.log1p(explained.base_price)) + sum(f.log_effect for f in explained.factors)


def test_factors_add_up_to_the_price_exactly(model, data):
    test = data[1].head(300)
    explained = Explainer(model).explain(listing_columns(_rows(test)))
    prices = model.predict(test[list(LISTING_FIELDS)])
    for one, price in zip(explained, prices, strict=True):
        assert _total(one) == pytest.approx(one.log_price, abs=1e-9)
        assert one.log_price == pytest.approx(np.log1p(price), abs=1e-6)
        assert one.factors[-1].price_after == pytest.approx(price, rel=1e-6)
        dollars = sum(f.dollars for f in one.factors)
        assert one.base_price + dollars == pytest.approx(price, rel=1e-6)
        named = [f for f in one.factors if f.kind not in ("other", "floor")]
        assert len(named) <= TOP_FACTORS
        sizes = [abs(f.log_effect) for f in named]
        assert sizes == sorted(sizes, reverse=True)
        assert [f.percent for f in one.factors] == pytest.approx(
            [np.expm1(f.log_effect) * 100 for f in one.factors]
        )
    bases = {round(one.base_price, 9) for one in explained}
    assert len(bases) == 1  # one base price: the mean training listing's


def test_the_tree_members_share_adds_up_exactly(model, data):
    """Whatever weight the blend gives LightGBM on Ridge's prediction, its TreeSHAP parts and
    its share of Ridge's prediction passed on add up to the price."""
    heavy = copy.deepcopy(model)
    heavy.estimator.regressor_.named_steps["blend"].weights_ = np.array([0.2, 0.8])
    test = data[1].head(100)
    explained = Explainer(heavy).explain(listing_columns(_rows(test)))
    prices = heavy.predict(test[list(LISTING_FIELDS)])
    for one, price in zip(explained, prices, strict=True):
        assert _total(one) == pytest.approx(np.log1p(price), abs=1e-6)
    assert np.log1p(prices) != pytest.approx(np.log1p(model.predict(test[list(LISTING_FIELDS)])))


def _factors(model, **listing) -> list:
    base = {
        "name": "Apple iPhone 8 64GB",
        "item_condition_id": 3,
        "category_name": "Electronics/Cell Phones & Accessories/Cell Phones & Smartphones",
        "brand_name": "Apple",
        "shipping": 1,
        "item_description": "Works great.",
    }
    [explained] = Explainer(model).explain(listing_columns([base | listing]))
    return explained.factors


def test_factors_name_what_the_seller_typed(model):
    factors = _factors(model, item_condition_id=2, shipping=0)
    labels = {f.label for f in factors}
    kinds = {f.kind for f in factors}
    assert kinds <= {"category", "brand", "condition", "shipping", "title", "description"} | {
        "crossed",
        "other",
        "floor",
    }
    every = Explainer(model)
    assert every.layout.group.shape[0] == len(every.layout.term)
    assert "Brand: Apple" in labels or any("Apple" in label for label in labels)
    assert len(labels) == len(factors)  # one factor per key


def test_an_effect_word_is_a_large_title_factor_with_its_sign(model):
    """The generator lowers "for parts" items' prices a lot and raises "14k gold" ones."""
    broken = _factors(model, name="Apple iPhone 8 64GB for parts")
    top = broken[:3]
    assert any(f.kind == "title" and "parts" in f.label and f.log_effect < 0 for f in top), top


def test_the_price_floor_is_a_factor(model):
    explainer = Explainer(model)
    low = np.log1p(0.25)  # below the $1 floor
    explained = explainer._waterfall(low - 0.5, {("title", 'Title: "x"'): 0.5})
    assert explained.factors[-1].kind == "floor"
    assert explained.factors[-1].price_after == pytest.approx(1.0)
    assert _total(explained) == pytest.approx(np.log1p(1.0), abs=1e-12)


def test_what_is_not_among_the_top_factors_is_summed_as_other(model):
    explainer = Explainer(model, top=2)
    [explained] = explainer.explain(listing_columns(_rows(pd.DataFrame([_listing()]))))
    assert [f.kind for f in explained.factors][-1] in ("other", "floor")
    assert OTHER[1] in {f.label for f in explained.factors}
    assert _total(explained) == pytest.approx(explained.log_price, abs=1e-9)


def _listing() -> dict:
    return {
        "name": "Lululemon leggings size 6 NWT",
        "item_condition_id": 1,
        "category_name": "Women/Athletic Apparel/Pants, Tights, Leggings",
        "brand_name": "Lululemon",
        "shipping": 0,
        "item_description": "Brand new with tags, never worn.",
    }


def test_a_member_without_exact_attributions_is_explained_exactly_in_sum(data, params):
    """An MLP in the blend: sampled Shapley values of its factors, exact in sum."""
    train, test = data[0].head(4000), data[1].head(20)
    model = build_model(params)
    mlp = MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    model.regressor.set_params(blend=BlendRegressor([("linear", Ridge(alpha=3)), ("mlp", mlp)]))
    model.fit(train[list(LISTING_FIELDS)], train["price"].to_numpy())
    model.regressor_.named_steps["blend"].weights_ = np.array([0.4, 0.6])
    priced = PriceRangeModel(model).calibrate(train.tail(500))
    explained = Explainer(priced).explain(listing_columns(_rows(test)))
    prices = priced.predict(test[list(LISTING_FIELDS)])
    for one, price in zip(explained, prices, strict=True):
        assert _total(one) == pytest.approx(np.log1p(price), abs=1e-6)
        assert any(f.kind in ("title", "brand", "category") for f in one.factors)


def test_a_model_trained_before_explanations_says_so():
    _, old = read_exported(LEGACY / "model")
    with pytest.raises(NoExplanations, match="train it again"):
        Explainer(old)
