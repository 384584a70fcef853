"""Tests for price_alchemy.model.metrics: the metrics against hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest

from price_alchemy.model.metrics import mae, r2_log, rmsle, score_model
from price_alchemy.schema import LISTING_FIELDS


def test_rmsle_perfect_prediction_is_zero() -> None:
    assert rmsle([1.0, 10.0, 100.0], [1.0, 10.0, 100.0]) == 0.0


def test_rmsle_hand_computed() -> None:
    e1 = math.e - 1  # log1p(e - 1) == 1
    assert rmsle([0.0, e1], [e1, e1]) == pytest.approx(math.sqrt(0.5))
    # log1p differences: log(4/2) = log 2 and log(2/4) = -log 2 -> rmsle = log 2
    assert rmsle([1.0, 3.0], [3.0, 1.0]) == pytest.approx(math.log(2))


def test_rmsle_is_symmetric_in_log_space_not_in_dollars() -> None:
    assert rmsle([9.0], [99.0]) == pytest.approx(math.log(10))
    assert rmsle([99.0], [9.0]) == pytest.approx(math.log(10))
    assert rmsle([1000.0], [1090.0]) < rmsle([9.0], [18.0])


def test_rmsle_accepts_series_and_arrays() -> None:
    actual = pd.Series([1.0, 3.0], index=[10, 20])
    assert rmsle(actual, np.array([3.0, 1.0])) == pytest.approx(math.log(2))


def test_mae_hand_computed() -> None:
    assert mae([1.0, 2.0, 3.0], [2.0, 2.0, 5.0]) == pytest.approx(1.0)
    assert mae([10.0], [4.0]) == pytest.approx(6.0)
    assert mae(pd.Series([5.0, 5.0], index=[3, 4]), np.array([5.0, 7.0])) == pytest.approx(1.0)


def test_metrics_return_python_floats() -> None:
    assert type(rmsle([1.0], [2.0])) is float
    assert type(mae([1.0], [2.0])) is float


class FixedModel:
    """Predicts given prices and records the columns it was shown."""

    def __init__(self, prices) -> None:
        self.prices, self.columns = np.asarray(prices, float), None

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        self.columns = list(frame.columns)
        return self.prices


def test_score_model() -> None:
    listings = pd.DataFrame(
        {field: ["x"] * 2 for field in LISTING_FIELDS} | {"price": [1.0, 3.0], "train_id": [1, 2]}
    )
    model = FixedModel([3.0, 1.0])
    scores = score_model(model, listings)
    # swapped log prices: squared error 4x the variance around the mean, so R^2 = 1 - 4
    assert scores == {
        "rmsle": pytest.approx(math.log(2)),
        "mae": pytest.approx(2.0),
        "r2": pytest.approx(-3.0),
    }
    assert model.columns == list(LISTING_FIELDS)


def test_r2_of_log_prices() -> None:
    prices = np.array([3.0, 10.0, 40.0])
    assert r2_log(prices, prices) == pytest.approx(1.0)
    mean_guess = np.full(3, np.expm1(np.log1p(prices).mean()))
    assert r2_log(prices, mean_guess) == pytest.approx(0.0)
    assert r2_log(np.array([5.0, 5.0]), np.array([5.0, 6.0])) == 0.0  # no variance to explain
