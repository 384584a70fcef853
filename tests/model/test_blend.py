"""The blend: non-negative weights fit on held-out rows, members kept and scored on their own."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge

from price_alchemy.model.blend import BlendRegressor, fit_weights
from price_alchemy.model.members import TopColumnsLGBM


def test_fit_weights_recovers_a_known_mix() -> None:
    rng = np.random.default_rng(0)
    members = rng.normal(size=(500, 2))
    target = 0.7 * members[:, 0] + 0.3 * members[:, 1]
    np.testing.assert_allclose(fit_weights(members, target), [0.7, 0.3], atol=1e-9)


def test_fit_weights_never_goes_negative() -> None:
    rng = np.random.default_rng(1)
    good = rng.normal(size=300)
    anti = -good + rng.normal(scale=0.1, size=300)  # would earn a negative weight
    weights = fit_weights(np.column_stack([good, anti]), good)
    assert (weights >= 0).all() and weights[0] == pytest.approx(1.0, abs=1e-6)


def _data(rows: int = 2000):
    rng = np.random.default_rng(2)
    X = sp.random(rows, 40, density=0.2, format="csr", dtype=np.float32, random_state=3)
    y = X @ rng.normal(size=40) + 0.5 * (X[:, 0].toarray().ravel() > 0) * (
        X[:, 1].toarray().ravel() > 0
    )
    return X, y + rng.normal(scale=0.05, size=rows)


def test_blend_weights_members_and_beats_a_useless_one() -> None:
    X, y = _data()
    members = [("linear", Ridge(alpha=0.1)), ("mean", DummyRegressor())]
    blend = BlendRegressor(members, validation_size=0.2, seed=0).fit(X[:1500], y[:1500])
    assert blend.weights()["linear"] > 0.9 > blend.weights()["mean"]
    assert blend.validation_rows_ == 300
    predictions = blend.predict_members(X[1500:])
    assert set(predictions) == {"linear", "mean"}
    error = np.sqrt(np.mean((blend.predict(X[1500:]) - y[1500:]) ** 2))
    assert error < np.sqrt(np.mean((predictions["mean"] - y[1500:]) ** 2)) / 3


def test_blend_is_deterministic_for_a_seed() -> None:
    X, y = _data()
    members = [("linear", Ridge()), ("lgbm", TopColumnsLGBM(top_k=20, n_estimators=30))]
    first = BlendRegressor(members, 0.2, seed=5).fit(X, y).predict(X)
    again = BlendRegressor(members, 0.2, seed=5).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, again)


def test_blend_without_members_is_an_error() -> None:
    X, y = _data(50)
    with pytest.raises(ValueError, match="at least one member"):
        BlendRegressor([]).fit(X, y)
