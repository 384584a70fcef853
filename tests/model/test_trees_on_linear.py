"""LightGBM on the linear model's out-of-fold prediction: what each part sees and gives."""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import Ridge

from price_alchemy.model.members import TopColumnsLGBM
from price_alchemy.model.served_predict import direct_predict
from price_alchemy.model.trees_on_linear import TreesOnLinear, out_of_fold, with_prediction


def _data(rows: int, seed: int = 0):
    """A linear part over 200 sparse columns plus an interaction of the two most frequent
    columns that no linear model can represent."""
    rng = np.random.default_rng(seed)
    common = (rng.random((rows, 2)) < 0.5).astype(np.float32)
    rare = sp.random(rows, 198, density=0.05, format="csr", dtype=np.float32, random_state=seed)
    X = sp.hstack([sp.csr_matrix(common), rare], format="csr")
    y = X @ rng.normal(size=200) + 1.5 * common[:, 0] * common[:, 1]
    return X, y + rng.normal(scale=0.1, size=rows)


def _member(top_k: int = 20) -> TreesOnLinear:
    trees = TopColumnsLGBM(top_k=top_k + 1, n_estimators=300, learning_rate=0.1, seed=1)
    return TreesOnLinear(Ridge(alpha=1.0), trees, top_k=top_k, folds=3, seed=0)


def _rmse(predicted, y) -> float:
    return float(np.sqrt(np.mean((predicted - y) ** 2)))


def test_out_of_fold_predicts_each_row_by_a_fit_that_did_not_see_it() -> None:
    X, y = _data(300)
    prediction, fits = out_of_fold(Ridge(alpha=1e-6), X, y, folds=3, seed=0)
    assert len(fits) == 3
    # each row is predicted by exactly one fold model, and it is the one whose fit lacked it
    by_fit = np.column_stack([fit.predict(X) for fit in fits])
    own = np.abs(by_fit - prediction[:, None]) < 1e-9
    assert (own.sum(axis=1) == 1).all()
    in_sample_error = np.abs(by_fit[~own] - y[np.nonzero(~own)[0]]).mean()
    assert _rmse(prediction, y) > 3 * in_sample_error  # out of fold is visibly worse


def test_trees_on_linear_learn_the_interaction_the_linear_model_misses() -> None:
    X, y = _data(6000)
    fit, val, test = slice(0, 4000), slice(4000, 5000), slice(5000, None)
    member = _member().fit(X[fit], y[fit], validation=(X[val], y[val]))
    linear = Ridge(alpha=1.0).fit(X[fit], y[fit])
    assert _rmse(member.predict(X[test]), y[test]) < 0.7 * _rmse(linear.predict(X[test]), y[test])
    assert member.num_trees() < 300  # stopped early on the validation split


def test_the_trees_see_the_linear_prediction_first_then_the_frequent_columns() -> None:
    X, y = _data(3000)
    member = _member(top_k=5).fit(X, y)
    assert list(member.columns_[:2]) == [0, 1] and len(member.columns_) == 5
    expected = sp.hstack([np.arange(300.0)[:, None], X[:300, member.columns_]]).toarray()
    stacked = with_prediction(X[:300], member.positions_, np.arange(300.0))
    np.testing.assert_array_equal(stacked.toarray(), expected)
    dense = with_prediction(X[:300], member.positions_, np.arange(300.0), dense=True)
    np.testing.assert_array_equal(dense, expected)
    np.testing.assert_array_equal(member.trees_.predict(dense), member.trees_.predict(stacked))
    columns, gain = member.importance()
    importance = pd.Series(gain, index=columns)
    assert -1 in importance.index and importance.idxmax() in (-1, 0, 1)


def test_the_direct_path_gives_the_members_own_predictions() -> None:
    X, y = _data(2000)
    member = _member().fit(X, y)
    np.testing.assert_allclose(direct_predict(member)(X[:50]), member.predict(X[:50]), rtol=1e-6)
