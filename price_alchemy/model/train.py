"""Train: split validated listings and fit the price model, one sklearn pipeline end to end.

The model is the feature preprocessor followed by a blend of Ridge on the sparse matrix and
LightGBM on Ridge's out-of-fold prediction plus the most frequent columns, trained on
log1p(price) and answering in dollars, with a price range calibrated on held-out training rows.
Splits hash listing ids, so the evaluate and register stages recompute exactly the held-out
rows that training never saw, in this run and every other.
"""

import logging
import time

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline

from price_alchemy.errors import ActionRequired
from price_alchemy.model.blend import BlendRegressor
from price_alchemy.model.comparables import ComparableSales
from price_alchemy.model.features import build_preprocessor
from price_alchemy.model.members import build_linear
from price_alchemy.model.price_range import PriceRangeModel
from price_alchemy.model.trees_on_linear import LINEAR_PREDICTION, build_trees_on_linear
from price_alchemy.params import Params, SplitParams
from price_alchemy.schema import LISTING_FIELDS

MIN_PRICE = 1.0
log = logging.getLogger(__name__)


def to_price(log_price: np.ndarray) -> np.ndarray:
    """Inverse of log1p, floored at MIN_PRICE dollars."""
    return np.expm1(np.clip(log_price, np.log1p(MIN_PRICE), None))


def split_listings(frame: pd.DataFrame, params: SplitParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) by a seeded hash of `train_id`.

    A listing lands on the same side in every run, whatever else its window holds, so a new
    model and the champion are always compared on listings neither was trained on.
    """
    return hash_split(frame, params.test_size, params.seed)


def hash_split(frame: pd.DataFrame, share: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    salt = pd.util.hash_array(np.array([seed], dtype=np.uint64))[0]
    hashed = pd.util.hash_array(frame["train_id"].to_numpy().astype(np.uint64) ^ salt)
    in_test = (hashed % 1_000_000) < share * 1_000_000
    train, test = frame[~in_test], frame[in_test]
    if len(train) < 5 or len(test) < 5:
        raise ActionRequired(
            f"too few listings to split into train and test: {len(train)} and {len(test)}"
        )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def sample_listings(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """A seeded sample of at most `rows` listings (all of them when there are fewer)."""
    if len(frame) <= rows:
        return frame
    return frame.sample(n=rows, random_state=seed).reset_index(drop=True)


def build_blend(params: Params, time_limit: float | None = None) -> BlendRegressor:
    """Ridge and LightGBM on Ridge's prediction, weighted on the blend's validation split
    (LightGBM raises TimeLimitExceeded past `time_limit` seconds, if given)."""
    linear = build_linear(params.linear)
    members = [
        ("linear", linear),
        ("lgbm", build_trees_on_linear(linear, params.model, time_limit)),
    ]
    blend = params.blend
    return BlendRegressor(
        members,
        blend.validation_size,
        blend.seed,
        blend.min_validation_rows,
        max_validation_rows=blend.max_validation_rows,
        refit_min_share=blend.refit_min_share,
    )


def build_model(params: Params) -> TransformedTargetRegressor:
    """Preprocessor + blend, fit on log1p(price), predicting prices."""
    pipeline = Pipeline(
        [("features", build_preprocessor(params.features)), ("blend", build_blend(params))]
    )
    return TransformedTargetRegressor(
        regressor=pipeline, func=np.log1p, inverse_func=to_price, check_inverse=False
    )


def fit_model(train: pd.DataFrame, params: Params) -> PriceRangeModel:
    """The price model fit on the training listings, less a seeded share (at most
    `calibration_max_rows`) held out to calibrate its price range at the nominal coverage."""
    split = params.split
    share = min(split.calibration_size, split.calibration_max_rows / len(train))
    fit_rows, calibration = hash_split(train, share, split.seed + 1)
    log.info(
        "fitting on %d listings (%d held out for the price range)", len(fit_rows), len(calibration)
    )
    model = build_model(params)
    model.fit(fit_rows[list(LISTING_FIELDS)], fit_rows["price"].to_numpy())
    priced = PriceRangeModel(model, params.price_range.coverage).calibrate(calibration)
    priced.comparables_ = index_comparables(train)
    return priced


def index_comparables(train: pd.DataFrame) -> ComparableSales:
    """The comparable sales of the training listings (never a test listing), to travel in
    the model artifact."""
    started = time.perf_counter()
    index = ComparableSales().fit(train)
    log.info(
        "comparable sales: %d listings indexed in %.1f s (%.0f MB)",
        len(index),
        time.perf_counter() - started,
        index.nbytes() / 1e6,
    )
    return index


def blend_of(model: PriceRangeModel) -> tuple[Pipeline, BlendRegressor]:
    """The fitted preprocessor and blend inside a model that `fit_model` returned."""
    pipeline = model.estimator.regressor_
    return pipeline.named_steps["features"], pipeline.named_steps["blend"]


def predict_members(model: PriceRangeModel, listings: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each blend member's own price prediction (dollars) by member name, and the blend's
    (the model's price) under "blend", from one pass of the features."""
    features, blend = blend_of(model)
    matrix = features.transform(listings[list(LISTING_FIELDS)])
    members = blend.predict_members(matrix)
    logs = members | {"blend": blend.predict_stacked(np.column_stack(list(members.values())))}
    return {name: to_price(log) for name, log in logs.items()}


def blend_summary(model: PriceRangeModel) -> dict[str, float]:
    """The blend's weight of each member (`blend_weight_<member>`) and LightGBM's tree count."""
    _, blend = blend_of(model)
    weights = {f"blend_weight_{name}": weight for name, weight in blend.weights().items()}
    return weights | {"lgbm_trees": blend.members_["lgbm"].num_trees()}


def feature_importance(model: PriceRangeModel) -> pd.Series:
    """LightGBM's total gain per feature name (the columns it was given, and the linear
    model's prediction), largest first."""
    features, blend = blend_of(model)
    names = features.named_steps["columns"].get_feature_names_out()
    names = np.append(names, LINEAR_PREDICTION)  # column -1 in `importance`
    columns, gain = blend.members_["lgbm"].importance()
    return pd.Series(gain, index=names[columns]).sort_values(ascending=False)
