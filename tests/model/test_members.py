"""Blend members: LightGBM on the most frequent columns, early stopping, time limits."""

import numpy as np
import pytest
import scipy.sparse as sp

from price_alchemy.model.members import TimeLimitExceeded, TopColumnsLGBM, frequent_columns


def test_frequent_columns_keeps_the_most_common_in_order() -> None:
    X = sp.csr_matrix(np.array([[1, 0, 1, 0], [1, 0, 1, 1], [1, 0, 0, 1], [1, 1, 0, 1]]))
    np.testing.assert_array_equal(frequent_columns(X, 2), [0, 3])
    np.testing.assert_array_equal(frequent_columns(X, 10), [0, 1, 2, 3])


def _noisy(rows: int = 3000):
    rng = np.random.default_rng(0)
    X = sp.random(rows, 30, density=0.3, format="csr", dtype=np.float32, random_state=1)
    return X, X[:, 0].toarray().ravel() + rng.normal(scale=1.0, size=rows)


def test_stops_early_on_the_validation_split_and_uses_only_kept_columns() -> None:
    X, y = _noisy()
    model = TopColumnsLGBM(top_k=10, n_estimators=2000, learning_rate=0.3, early_stopping_rounds=5)
    model.fit(X[:2500], y[:2500], validation=(X[2500:], y[2500:]))
    assert model.booster_.best_iteration_ < 2000
    assert len(model.columns_) == 10
    columns, gain = model.importance()
    assert len(columns) == len(gain) == 10 and gain.sum() > 0
    assert model.predict(X[:5]).shape == (5,)


def test_a_fit_past_its_time_limit_raises() -> None:
    X, y = _noisy()
    model = TopColumnsLGBM(n_estimators=1_000_000, time_limit=0.5, early_stopping_rounds=10**6)
    with pytest.raises(TimeLimitExceeded, match="over 0.5 s"):
        model.fit(X, y, validation=(X, y))
