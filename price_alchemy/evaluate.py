"""Evaluate: score price predictions against realized prices (RMSLE and MAE in dollars)."""

import numpy as np
import pandas as pd

from price_alchemy.features import LISTING_FIELDS


def rmsle(actual, predicted) -> float:
    """Root mean squared error of log1p prices, the Mercari challenge metric."""
    diff = np.log1p(np.asarray(predicted, float)) - np.log1p(np.asarray(actual, float))
    return float(np.sqrt(np.mean(diff**2)))


def mae(actual, predicted) -> float:
    """Mean absolute error in dollars."""
    return float(np.mean(np.abs(np.asarray(predicted, float) - np.asarray(actual, float))))


def score_model(model, listings: pd.DataFrame) -> dict[str, float]:
    """RMSLE and MAE of `model` on listings with realized prices."""
    predicted = model.predict(listings[list(LISTING_FIELDS)])
    return {"rmsle": rmsle(listings["price"], predicted), "mae": mae(listings["price"], predicted)}
