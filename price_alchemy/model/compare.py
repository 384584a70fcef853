"""Compare: every model row on the same listings — rules baseline, Ridge, LightGBM, their blend,
and the original Price Alchemy recipe — scored by RMSLE, MAE and R^2, with the price range's
coverage and the full training time. Used by the model-quality benchmark and the
model-comparison notebook, on a train/test pair or by K-fold cross-validation.

The original recipe, kept as a reference row: an MLP on a 20,000-row sample of dense TF-IDF
features (10,000 words of title and description) plus one-hot categories.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from price_alchemy.model.baseline import GroupMedianRegressor
from price_alchemy.model.features import prepare_listings
from price_alchemy.model.metrics import score_prices
from price_alchemy.model.price_range import range_coverage
from price_alchemy.model.train import fit_model, predict_members, sample_listings, to_price
from price_alchemy.params import Params
from price_alchemy.schema import LISTING_FIELDS

ROWS = ("baseline", "linear", "lgbm", "blend", "original_recipe")
ORIGINAL_SAMPLE_ROWS = 20_000
ORIGINAL_MAX_FEATURES = 10_000


def _dense(matrix) -> np.ndarray:
    return matrix.toarray()


def build_original_recipe(seed: int = 0) -> TransformedTargetRegressor:
    """The first Price Alchemy model: dense TF-IDF (10k) + one-hot, into an MLP."""
    columns = ColumnTransformer(
        [
            (
                "text",
                TfidfVectorizer(max_features=ORIGINAL_MAX_FEATURES, dtype=np.float32),
                "description_text",
            ),
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", dtype=np.float32),
                ["category_leaf", "brand", "condition", "shipping_paid"],
            ),
        ]
    )
    mlp = MLPRegressor(
        hidden_layer_sizes=(64,), early_stopping=True, max_iter=50, random_state=seed
    )
    pipeline = Pipeline(
        [
            ("prepare", FunctionTransformer(prepare_listings)),
            ("columns", columns),
            ("dense", FunctionTransformer(_dense, accept_sparse=True)),
            ("mlp", mlp),
        ]
    )
    return TransformedTargetRegressor(
        pipeline, func=np.log1p, inverse_func=to_price, check_inverse=False
    )


@dataclass
class Comparison:
    """Scores per model row (index ROWS; columns rmsle, mae, r2), the run's figures and the
    served model (a PriceRangeModel) that was fit, when there was one."""

    scores: pd.DataFrame
    coverage: float
    fit_seconds: float
    train_rows: int
    test_rows: int
    model: object = field(default=None, repr=False)


def compare_models(train: pd.DataFrame, test: pd.DataFrame, params: Params) -> Comparison:
    """Fit every row on `train` and score it on `test`."""
    actual = test["price"]
    started = time.perf_counter()
    model = fit_model(train, params)
    fit_seconds = time.perf_counter() - started
    predictions = predict_members(model, test)
    baseline = GroupMedianRegressor(min_group_size=params.baseline.min_group_size)
    predictions["baseline"] = baseline.fit(train, train["price"]).predict(test)
    predictions["original_recipe"] = _original_recipe_prices(train, test, params.split.seed)
    scores = pd.DataFrame({row: score_prices(actual, predictions[row]) for row in ROWS}).T
    coverage = range_coverage(model, test, predictions["blend"])
    return Comparison(scores, coverage, fit_seconds, len(train), len(test), model)


def _original_recipe_prices(train: pd.DataFrame, test: pd.DataFrame, seed: int) -> np.ndarray:
    sample = sample_listings(train, ORIGINAL_SAMPLE_ROWS, seed)
    recipe = build_original_recipe(seed)
    recipe.fit(sample[list(LISTING_FIELDS)], sample["price"].to_numpy(float))
    fields, step = test[list(LISTING_FIELDS)], ORIGINAL_SAMPLE_ROWS  # dense features: chunks
    return np.concatenate(
        [recipe.predict(fields.iloc[i : i + step]) for i in range(0, len(fields), step)]
    )


def cross_validate(listings: pd.DataFrame, params: Params, folds: int) -> list[Comparison]:
    """`compare_models` on each of `folds` seeded folds of `listings`."""
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, not {folds}")
    fold = np.random.default_rng(params.split.seed).permutation(len(listings)) % folds
    return [
        compare_models(
            listings[fold != k].reset_index(drop=True),
            listings[fold == k].reset_index(drop=True),
            params,
        )
        for k in range(folds)
    ]


def mean_comparison(comparisons: list[Comparison]) -> Comparison:
    """The average of several comparisons (scores, coverage, seconds; rows summed)."""
    return Comparison(
        sum(c.scores for c in comparisons) / len(comparisons),
        float(np.mean([c.coverage for c in comparisons])),
        float(np.mean([c.fit_seconds for c in comparisons])),
        sum(c.train_rows for c in comparisons) // len(comparisons),
        sum(c.test_rows for c in comparisons),
    )
