"""Price ranges: a suggested price with a low-high range at a nominal coverage.

`PriceRangeModel` wraps a fitted price model and calibrates it on listings it never trained on
(split conformal prediction on log-price residuals): `low` and `high` are the price times the
residual quantiles that hold `coverage` of the calibration listings. Served as one sklearn
estimator, so `predict` still gives the price and `predict_range` adds the range.
"""

import math

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin

from price_alchemy.schema import LISTING_FIELDS


def conformal_bound(residuals: np.ndarray, level: float, upper: bool) -> float:
    """The split-conformal bound at `level` of `residuals`: for an upper bound the
    ceil((n + 1) * level)-th smallest residual, for a lower bound the floor((n + 1) * level)-th,
    each the conservative side of the finite-sample correction (clipped to the residuals at
    hand)."""
    ordered, n = np.sort(np.asarray(residuals, dtype=float)), len(residuals)
    position = round((n + 1) * level, 9)  # 10 * 0.9000000000000001 is position 9, not 10
    rank = math.ceil(position) if upper else math.floor(position)
    return float(ordered[min(max(rank, 1), n) - 1])


class PriceRangeModel(RegressorMixin, BaseEstimator):
    """A fitted price model plus the residual quantiles that give a `coverage` price range."""

    def __init__(self, estimator=None, coverage: float = 0.8) -> None:
        self.estimator = estimator
        self.coverage = coverage

    def calibrate(self, listings: pd.DataFrame) -> "PriceRangeModel":
        """Fit the range on listings with realized prices that the estimator never saw."""
        if not 0 < self.coverage < 1:
            raise ValueError(f"coverage must be between 0 and 1, not {self.coverage}")
        predicted = self.estimator.predict(listings[list(LISTING_FIELDS)])
        residuals = np.log1p(listings["price"].to_numpy(float)) - np.log1p(predicted)
        tail = (1 - self.coverage) / 2
        self.log_low_ = conformal_bound(residuals, tail, upper=False)
        self.log_high_ = conformal_bound(residuals, 1 - tail, upper=True)
        self.calibration_rows_ = len(residuals)
        return self

    def predict(self, listings: pd.DataFrame) -> np.ndarray:
        return self.estimator.predict(listings)

    def predict_range(self, listings: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(price, low, high) per listing; low <= price <= high."""
        price = self.predict(listings)
        return price, *self.bounds(price)

    def bounds(self, price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) around already predicted prices."""
        log_price = np.log1p(price)
        low = np.expm1(log_price + min(self.log_low_, 0.0))
        high = np.expm1(log_price + max(self.log_high_, 0.0))
        return low, high


def range_coverage(
    model: PriceRangeModel, listings: pd.DataFrame, predicted: np.ndarray | None = None
) -> float:
    """Share of listings whose realized price lies within the model's range (`predicted`: the
    model's prices for these listings, when already at hand)."""
    if predicted is None:
        predicted = model.predict(listings[list(LISTING_FIELDS)])
    low, high = model.bounds(predicted)
    price = listings["price"].to_numpy(float)
    return float(np.mean((price >= low) & (price <= high)))
