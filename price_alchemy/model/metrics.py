"""Evaluate: score price predictions against realized prices (RMSLE, MAE in dollars, and R^2
of log prices)."""

import numpy as np
import pandas as pd

from price_alchemy.schema import LISTING_FIELDS


def rmsle(actual, predicted) -> float:
    """Root mean squared error of log1p prices, the Mercari challenge metric."""
    return rmsle_log(np.log1p(np.asarray(actual, float)), np.log1p(np.asarray(predicted, float)))


def rmsle_log(actual_log, predicted_log) -> float:
    """RMSLE from prices already on the log1p scale."""
    diff = np.asarray(predicted_log, float) - np.asarray(actual_log, float)
    return float(np.sqrt(np.mean(diff**2)))


def mae(actual, predicted) -> float:
    """Mean absolute error in dollars."""
    return float(np.mean(np.abs(np.asarray(predicted, float) - np.asarray(actual, float))))


def r2_log(actual, predicted) -> float:
    """Coefficient of determination of log1p prices (1 is perfect, 0 is the mean's score)."""
    actual_log = np.log1p(np.asarray(actual, float))
    residual = np.sum((np.log1p(np.asarray(predicted, float)) - actual_log) ** 2)
    total = np.sum((actual_log - actual_log.mean()) ** 2)
    return float(1 - residual / total) if total > 0 else 0.0


def score_prices(actual, predicted) -> dict[str, float]:
    """RMSLE, MAE and R^2 of predicted against realized prices."""
    return {
        "rmsle": rmsle(actual, predicted),
        "mae": mae(actual, predicted),
        "r2": r2_log(actual, predicted),
    }


def score_model(model, listings: pd.DataFrame) -> dict[str, float]:
    """RMSLE, MAE and R^2 of `model` on listings with realized prices."""
    return score_prices(listings["price"], model.predict(listings[list(LISTING_FIELDS)]))
