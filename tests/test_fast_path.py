"""The served prediction path: the champion's pipeline with scikit-learn's per-call checks
unrolled gives the model's own prices and ranges on varied listings, composites it does not
know are called as they are, and a shortcut that would price differently is never served."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from price_alchemy.demo_data import generate_listings
from price_alchemy.features import LISTING_FIELDS
from price_alchemy.serving import fast_path
from price_alchemy.serving.fast_path import direct_predict, fast_predict_range
from price_alchemy.serving.models import load_registered, smoke_listings
from price_alchemy.tracking import load_price_model, use_tracking

ODD = [
    {"name": "x", "item_condition_id": 5, "category_name": None, "brand_name": None,
     "shipping": 0, "item_description": None},
    {"name": "Ünïcödé 名前 🎉 ​", "item_condition_id": 1, "category_name": "A/B/C/D/E",
     "brand_name": "Brand Nobody Has Seen", "shipping": 1, "item_description": "é" * 5000},
    {"name": "nike air max", "item_condition_id": 2, "category_name": "Men/Shoes/Athletic",
     "brand_name": "", "shipping": 1, "item_description": "No description yet"},
]  # fmt: skip


def _listings(rows: int, seed: int) -> pd.DataFrame:
    frame = generate_listings(rows, seed=seed).to_pandas()[list(LISTING_FIELDS)]
    frame = frame.astype(object).where(frame.notna(), None)
    return pd.DataFrame(frame.to_dict("records") + ODD, columns=list(LISTING_FIELDS), dtype=object)


@pytest.fixture(scope="module")
def champion_model(champion_settings):
    settings = champion_settings
    return load_registered(use_tracking(settings), settings.model_name, "champion")


def test_the_served_path_gives_the_models_own_prices_and_ranges(champion_model):
    assert getattr(champion_model.predict_range, "__self__", None) is not champion_model.model
    for seed in (1, 2):
        listings = _listings(200, seed)
        served = champion_model.predict_range(listings)
        own = champion_model.model.predict_range(listings)
        for got, want in zip(served, own, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-6)
    one = champion_model.predict_range(listings.iloc[[3]])
    assert [len(part) for part in one] == [1, 1, 1]


def _shift(X, by):
    return X + by


def test_unrolled_composites_predict_as_they_do():
    X = np.random.default_rng(0).normal(size=(200, 4))
    y = np.exp(X @ [0.5, -0.2, 0.1, 0.3] + 2)
    model = TransformedTargetRegressor(
        regressor=Pipeline(
            [
                ("identity", FunctionTransformer(None)),
                ("shift", FunctionTransformer(_shift, kw_args={"by": 1.0})),
                ("scale", StandardScaler()),
                ("ridge", Ridge(alpha=1.0)),
            ]
        ),
        func=np.log,
        inverse_func=np.exp,
    ).fit(X, y)
    np.testing.assert_allclose(direct_predict(model)(X), model.predict(X), rtol=1e-9)
    np.testing.assert_allclose(
        direct_predict(model.regressor_[:-1], "transform")(X), model.regressor_[:-1].transform(X)
    )


@pytest.mark.parametrize("shortcut", ["differs", "raises"])
def test_a_shortcut_that_would_not_price_the_same_is_never_served(
    champion_settings, monkeypatch, shortcut
):
    def broken(estimator):
        if shortcut == "raises":
            return lambda X: X.no_such_column
        return lambda X: np.full(len(X), 1.0)

    monkeypatch.setattr(fast_path, "direct_predict", broken)
    use_tracking(champion_settings)
    model = load_price_model(f"models:/{champion_settings.model_name}@champion")
    assert fast_predict_range(model, smoke_listings()) == model.predict_range


def test_a_model_without_the_parts_is_served_as_it_is():
    class OnlyRange:
        def predict_range(self, listings):
            ones = np.ones(len(listings))
            return ones, ones, ones

    model = OnlyRange()
    assert fast_predict_range(model, smoke_listings()) == model.predict_range
