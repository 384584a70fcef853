"""The served prediction path: the champion's pipeline with scikit-learn's per-call checks
unrolled, on listings as a dict of column lists, gives the model's own prices and ranges on
varied listings; composites it does not know are called as they are; and a shortcut that would
price differently, or a model whose steps need a DataFrame, is served by the model's own path."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from price_alchemy.demo.generator import generate_listings
from price_alchemy.lifecycle.tracking import load_price_model, use_tracking
from price_alchemy.model import served_predict as fast_path
from price_alchemy.model.compare import build_original_recipe
from price_alchemy.model.features import listing_columns
from price_alchemy.model.price_range import PriceRangeModel
from price_alchemy.model.served_predict import direct_predict, fast_predict_range
from price_alchemy.model.train import blend_of
from price_alchemy.model.trees_on_linear import TreesOnLinear
from price_alchemy.schema import LISTING_FIELDS
from price_alchemy.serving.models import SMOKE_LISTINGS, load_registered

ODD = [
    {"name": "x", "item_condition_id": 5, "category_name": None, "brand_name": None,
     "shipping": 0, "item_description": None},
    {"name": "Ünïcödé 名前 🎉 ​", "item_condition_id": 1, "category_name": "A/B/C/D/E",
     "brand_name": "Brand Nobody Has Seen", "shipping": 1, "item_description": "é" * 5000},
    {"name": "nike air max", "item_condition_id": 2, "category_name": "Men/Shoes/Athletic",
     "brand_name": "", "shipping": 1, "item_description": "No description yet"},
]  # fmt: skip


def _listings(rows: int, seed: int) -> list[dict]:
    frame = generate_listings(rows, seed=seed).to_pandas()[list(LISTING_FIELDS)]
    return frame.astype(object).where(frame.notna(), None).to_dict("records") + ODD


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(LISTING_FIELDS), dtype=object)


@pytest.fixture(scope="module")
def champion_model(champion_settings):
    settings = champion_settings
    return load_registered(use_tracking(settings), settings.model_name, "champion")


def test_the_served_path_gives_the_models_own_prices_and_ranges(champion_model):
    assert getattr(champion_model.predict_range, "__self__", None) is not champion_model.model
    _, blend = blend_of(champion_model.model)
    assert isinstance(blend.members_["lgbm"], TreesOnLinear)  # every member is on the path
    for seed in (1, 2):
        listings = _listings(200, seed)
        served = champion_model.predict_range(listing_columns(listings))
        own = champion_model.model.predict_range(_frame(listings))
        for got, want in zip(served, own, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-6)
    one = champion_model.predict_range(listing_columns(listings[3:4]))
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


DOCUMENTS = ["red nike shoes", "nike nike nike", "", "unseen words only", "Red SHOES, size 9"]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"sublinear_tf": True, "dtype": np.float32},
        {"use_idf": False},
        {"binary": True, "norm": None},
        {"norm": "l1", "ngram_range": (1, 2)},
        {"analyzer": "char_wb", "ngram_range": (2, 3), "sublinear_tf": True},
    ],
)
def test_tfidf_weighting_done_directly_is_the_vectorizers_own(options):
    vectorizer = TfidfVectorizer(**options).fit(DOCUMENTS[:2] + ["shoes size 9 red"])
    direct = direct_predict(vectorizer, "transform")(DOCUMENTS)
    own = vectorizer.transform(DOCUMENTS)
    assert direct.dtype == own.dtype and direct.shape == own.shape
    np.testing.assert_allclose(direct.toarray(), own.toarray(), rtol=1e-6)


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
    listings = _listings(20, seed=3)
    served = fast_predict_range(model, SMOKE_LISTINGS)(listing_columns(listings))
    for got, want in zip(served, model.predict_range(_frame(listings)), strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_model_without_the_parts_is_served_as_it_is():
    class OnlyRange:
        def predict_range(self, listings: pd.DataFrame):
            price = listings["item_condition_id"].to_numpy(float)
            return price, price - 1, price + 1

    served = fast_predict_range(OnlyRange(), SMOKE_LISTINGS)
    price, low, high = served(listing_columns(_listings(5, seed=4)))
    assert price.tolist() == [row["item_condition_id"] for row in _listings(5, seed=4)]
    assert (low == price - 1).all() and (high == price + 1).all()


def test_a_model_whose_steps_need_a_dataframe_is_served_by_its_own_path(caplog):
    """The first recipe's scikit-learn ColumnTransformer takes no dict of columns."""
    listings = _listings(300, seed=6)
    frame = _frame(listings)
    prices = np.exp(np.random.default_rng(0).normal(3, 0.5, size=len(frame)))
    model = PriceRangeModel(build_original_recipe(seed=0).fit(frame, prices))
    model.log_low_, model.log_high_ = -0.2, 0.3
    served = fast_predict_range(model, SMOKE_LISTINGS)
    assert "fails" in caplog.text
    for got, want in zip(
        served(listing_columns(listings)), model.predict_range(frame), strict=True
    ):
        np.testing.assert_array_equal(got, want)
