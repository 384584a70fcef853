"""The blend: non-negative weights fit on held-out rows, members kept and scored on their own."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor

from price_alchemy.model.blend import BlendRegressor, choose_weights, fit_weights
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


class Noise(DummyRegressor):
    """A member that learnt nothing: its predictions are the mean plus noise."""

    def predict(self, X):
        rng = np.random.default_rng(X.shape[0])
        return super().predict(X) + rng.normal(scale=2.0, size=X.shape[0])


def _rmse(predicted, y) -> float:
    return float(np.sqrt(np.mean((predicted - y) ** 2)))


@pytest.mark.parametrize("seed", range(5))
def test_a_blend_with_a_noise_member_never_loses_to_its_best_member(seed) -> None:
    X, y = _data(seed=seed)
    members = [("linear", Ridge(alpha=0.1)), ("noise", Noise())]
    blend = BlendRegressor(members, validation_size=0.1, seed=seed).fit(X[:1500], y[:1500])
    best = blend.predict_members(X[1500:])["linear"]
    assert blend.weights() == {"linear": 1.0, "noise": 0.0}
    assert _rmse(blend.predict(X[1500:]), y[1500:]) <= _rmse(best, y[1500:])


def test_members_that_each_see_part_of_the_target_are_blended() -> None:
    rng = np.random.default_rng(5)
    left, right = rng.normal(size=(2, 400))
    members = np.column_stack([2 * left, 2 * right])  # each the target's half, doubled
    weights = choose_weights(members, left + right + rng.normal(scale=0.1, size=400))
    np.testing.assert_allclose(weights, [0.5, 0.5], atol=0.02)


def _data(rows: int = 2000, seed: int = 2):
    rng = np.random.default_rng(seed)
    X = sp.random(rows, 40, density=0.2, format="csr", dtype=np.float32, random_state=seed + 1)
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


def test_a_small_validation_split_gives_way_to_out_of_fold_predictions_of_every_row() -> None:
    X, y = _data(rows=1500, seed=3)
    # a 1-nearest-neighbour member repeats its training rows' targets exactly: in-sample it
    # would look perfect, so only out-of-fold predictions show it does worse than Ridge
    members = [("linear", Ridge(alpha=0.1)), ("memory", KNeighborsRegressor(n_neighbors=1))]
    blend = BlendRegressor(members, validation_size=0.05, seed=0, min_validation_rows=500)
    blend.fit(X, y)
    assert blend.validation_rows_ == 1500
    assert blend.weights()["linear"] > 0.9
    only_split = BlendRegressor(members, validation_size=0.05, seed=0).fit(X, y)
    assert only_split.validation_rows_ == 75
    np.testing.assert_array_equal(  # the members served are the same either way
        blend.predict_members(X)["memory"], only_split.predict_members(X)["memory"]
    )


def test_refit_fits_members_without_early_stopping_again_on_every_row() -> None:
    X, y = _data()
    members = [("linear", Ridge(alpha=0.1)), ("lgbm", TopColumnsLGBM(top_k=20, n_estimators=30))]
    blend = BlendRegressor(members, validation_size=0.2, seed=0, refit_min_share=0.2).fit(X, y)
    on_every_row = Ridge(alpha=0.1).fit(X, y)
    np.testing.assert_allclose(blend.members_["linear"].coef_, on_every_row.coef_, rtol=1e-6)
    unrefit = BlendRegressor(members, validation_size=0.2, seed=0).fit(X, y)
    assert not np.allclose(unrefit.members_["linear"].coef_, on_every_row.coef_, rtol=1e-6)
    np.testing.assert_array_equal(blend.weights_, unrefit.weights_)
    np.testing.assert_array_equal(  # the tree member keeps the fit that stopped early
        blend.members_["lgbm"].predict(X), unrefit.members_["lgbm"].predict(X)
    )
    small_split = BlendRegressor(members, validation_size=0.2, seed=0, refit_min_share=0.21)
    np.testing.assert_array_equal(  # a split under the share: no refit
        small_split.fit(X, y).members_["linear"].coef_, unrefit.members_["linear"].coef_
    )
