"""Train: split validated listings and fit the price model, one sklearn pipeline end to end.

The model is the feature preprocessor followed by LightGBM on the sparse matrix, trained on
log1p(price) and answering in dollars, with a price range calibrated on held-out training rows.
Splits hash listing ids, so the evaluate and register stages recompute exactly the held-out
rows that training never saw, in this run and every other.
"""

import numpy as np
import pandas as pd
from lightgbm import LGBMRegressor
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline

from price_alchemy.features import LISTING_FIELDS, build_preprocessor
from price_alchemy.params import Params, SplitParams
from price_alchemy.price_range import PriceRangeModel

MIN_PRICE = 1.0


def to_price(log_price: np.ndarray) -> np.ndarray:
    """Inverse of log1p, floored at MIN_PRICE dollars."""
    return np.expm1(np.clip(log_price, np.log1p(MIN_PRICE), None))


def split_listings(frame: pd.DataFrame, params: SplitParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) by a seeded hash of `train_id`.

    A listing lands on the same side in every run, whatever else its window holds, so a new
    model and the champion are always compared on listings neither was trained on.
    """
    return _hash_split(frame, params.test_size, params.seed)


def _hash_split(frame: pd.DataFrame, share: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    salt = pd.util.hash_array(np.array([seed], dtype=np.uint64))[0]
    hashed = pd.util.hash_array(frame["train_id"].to_numpy().astype(np.uint64) ^ salt)
    in_test = (hashed % 1_000_000) < share * 1_000_000
    train, test = frame[~in_test], frame[in_test]
    if len(train) < 5 or len(test) < 5:
        raise ValueError(
            f"too few listings to split into train and test: {len(train)} and {len(test)}"
        )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def build_model(params: Params) -> TransformedTargetRegressor:
    """Preprocessor + LightGBM, fit on log1p(price), predicting prices."""
    lgbm = LGBMRegressor(
        n_estimators=params.model.n_estimators,
        learning_rate=params.model.learning_rate,
        num_leaves=params.model.num_leaves,
        min_child_samples=params.model.min_child_samples,
        colsample_bytree=params.model.colsample_bytree,
        max_bin=params.model.max_bin,
        random_state=params.model.seed,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )
    pipeline = Pipeline([("features", build_preprocessor(params.features)), ("lgbm", lgbm)])
    return TransformedTargetRegressor(
        regressor=pipeline, func=np.log1p, inverse_func=to_price, check_inverse=False
    )


def fit_model(train: pd.DataFrame, params: Params) -> PriceRangeModel:
    """The price model fit on the training listings, less a seeded share held out to
    calibrate its price range at the nominal coverage."""
    fit_rows, calibration = _hash_split(train, params.split.calibration_size, params.split.seed + 1)
    model = build_model(params)
    model.fit(fit_rows[list(LISTING_FIELDS)], fit_rows["price"].to_numpy())
    return PriceRangeModel(model, params.price_range.coverage).calibrate(calibration)
