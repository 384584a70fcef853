"""The rules baseline: the median price of similar listings, backing off when too few are alike.

Groups go from fine to coarse (category, condition and brand; category and condition;
category; the top-level category; everything); a listing gets the median log price of the
finest group of its kind that held at least `min_group_size` training rows. Any model must
beat this to be worth serving.
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin

from price_alchemy.model.features import prepare_listings

DEFAULT_LEVELS = (
    ("category_leaf", "condition", "brand"),
    ("category_leaf", "condition"),
    ("category_leaf",),
    ("category_top",),
)


class GroupMedianRegressor(RegressorMixin, BaseEstimator):
    """Median price by group with back-off through `levels`, coarsest last, then global."""

    def __init__(self, levels=DEFAULT_LEVELS, min_group_size: int = 5) -> None:
        self.levels = levels
        self.min_group_size = min_group_size

    def fit(self, frame: pd.DataFrame, prices) -> "GroupMedianRegressor":
        keys = pd.DataFrame(prepare_listings(frame))
        log_price = pd.Series(np.log1p(np.asarray(prices, dtype=float)), index=frame.index)
        self.global_median_ = float(log_price.median())
        self.tables_ = []
        for level in self.levels:
            stats = log_price.groupby([keys[c] for c in level]).agg(["median", "size"])
            self.tables_.append(stats.loc[stats["size"] >= self.min_group_size, "median"])
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        keys = pd.DataFrame(prepare_listings(frame))
        log_price = pd.Series(np.nan, index=frame.index)
        for level, table in zip(self.levels, self.tables_, strict=True):
            index = pd.MultiIndex.from_frame(keys[list(level)])
            found = pd.Series(table.reindex(index).to_numpy(), index=frame.index)
            log_price = log_price.fillna(found)
        return np.expm1(log_price.fillna(self.global_median_).to_numpy())
