"""Trees on the linear model: LightGBM given the linear model's prediction as one more column.

A linear model on TF-IDF already carries most of a price; what it cannot see is how features
combine (a brand's premium that depends on the condition, a word that matters only in some
price range). `TreesOnLinear` gives LightGBM the linear model's out-of-fold prediction for
every training row (so the trees learn how far to trust it on rows it did not fit, not on
rows it memorised) beside a compact set of the most frequent columns, and at predict time the
mean prediction of the fold models (fit on as many rows as the out-of-fold predictions came
from, so the trees see the same kind of input they learnt on, and no refit on all rows is
needed). That costs a few linear fits and a small booster, where LightGBM on thousands of
raw columns cost most of the training time and added little.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import KFold

from price_alchemy.model.members import (
    BOOSTER_PARAMS,
    SINGLE_THREAD_ROWS,
    TopColumnsLGBM,
    frequent_columns,
)
from price_alchemy.params import ModelParams

LINEAR_PREDICTION = "linear__prediction"  # the linear model's prediction, as a feature's name


def column_positions(columns: np.ndarray, width: int) -> np.ndarray:
    """For each of `width` columns, its place after the linear prediction (1, 2, ...) if it is
    one of `columns` (ascending), else -1."""
    positions = np.full(width, -1, dtype=np.int32)
    positions[columns] = np.arange(1, len(columns) + 1, dtype=np.int32)
    return positions


def with_prediction(X, positions: np.ndarray, prediction: np.ndarray, dense: bool = False):
    """The linear prediction as the first column, then the columns of CSR `X` that
    `positions` keeps, in its order: CSR, or a dense array if `dense`. Built from X's arrays
    directly (a column selection and a stack cost ~0.15 ms on a single listing, this a few
    microseconds)."""
    moved = positions[X.indices]
    keep = moved >= 0
    width = int(positions.max(initial=0)) + 1
    if dense:
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        array = np.zeros((X.shape[0], width), dtype=np.float32)
        array[:, 0] = prediction
        array[rows[keep], moved[keep]] = X.data[keep]
        return array
    cumulative = np.concatenate([[0], np.cumsum(keep)])
    kept = cumulative[X.indptr[1:]] - cumulative[X.indptr[:-1]]
    indptr = np.concatenate([[0], np.cumsum(kept + 1)]).astype(np.int64)
    data = np.empty(indptr[-1], dtype=np.float32)
    indices = np.empty(indptr[-1], dtype=np.int32)
    first, rest = indptr[:-1], np.ones(indptr[-1], dtype=bool)
    rest[first] = False
    data[first], indices[first] = prediction, 0
    data[rest], indices[rest] = X.data[keep], moved[keep]
    return sp.csr_matrix((data, indices, indptr), shape=(X.shape[0], width))


def out_of_fold(linear, X, y: np.ndarray, folds: int, seed: int) -> tuple[np.ndarray, list]:
    """Each row's prediction by `linear` fit on the other `folds - 1` folds, and those fits."""
    prediction, fits = np.empty(X.shape[0]), []
    for fit_rows, held_rows in KFold(folds, shuffle=True, random_state=seed).split(y):
        fits.append(clone(linear).fit(X[fit_rows], y[fit_rows]))
        prediction[held_rows] = fits[-1].predict(X[held_rows])
    return prediction, fits


class TreesOnLinear(RegressorMixin, BaseEstimator):
    """`trees` (a TopColumnsLGBM, early stopping on the validation split) on the out-of-fold
    prediction of `linear` and the `top_k` most frequent columns; at predict time, on the mean
    prediction of the fold models (`linears_`)."""

    accepts_validation = True

    def __init__(self, linear=None, trees=None, top_k: int = 300, folds: int = 3, seed: int = 0):
        self.linear = linear
        self.trees = trees
        self.top_k = top_k
        self.folds = folds
        self.seed = seed

    def fit(self, X, y, validation=None) -> "TreesOnLinear":
        y = np.asarray(y, dtype=float)
        self.columns_ = frequent_columns(X, self.top_k)
        self.positions_ = column_positions(self.columns_, X.shape[1])
        oof, self.linears_ = out_of_fold(self.linear, X, y, self.folds, self.seed)
        trees: TopColumnsLGBM = clone(self.trees)
        if validation is not None:
            val_X, val_y = validation
            validation = (self._stacked(val_X, self.linear_prediction(val_X)), val_y)
        self.trees_ = trees.fit(self._stacked(X, oof), y, validation=validation)
        return self

    def _stacked(self, X, prediction: np.ndarray, dense: bool = False):
        return with_prediction(X, self.positions_, prediction, dense)

    def linear_prediction(self, X, predicts: list | None = None) -> np.ndarray:
        """The fold models' mean prediction (each made by the function at its place in
        `predicts`, if given)."""
        predicts = predicts or [linear.predict for linear in self.linears_]
        return np.mean([predict(X) for predict in predicts], axis=0)

    def predict(self, X) -> np.ndarray:
        return self.predict_given(X, self.linear_prediction(X))

    def predict_given(self, X, linear_prediction: np.ndarray) -> np.ndarray:
        """The trees' prediction of `X`, given the linear model's prediction of it."""
        # LightGBM predicts a few rows faster from a dense array (same values, same prices)
        dense = X.shape[0] < SINGLE_THREAD_ROWS
        return self.trees_.predict(self._stacked(X, linear_prediction, dense))

    def num_trees(self) -> int:
        return self.trees_.num_trees()

    def importance(self) -> tuple[np.ndarray, np.ndarray]:
        """(column index in the full matrix, -1 for the linear prediction; total gain)."""
        positions, gain = self.trees_.importance()
        columns = np.concatenate([[-1], self.columns_])
        return columns[positions], gain


def build_trees_on_linear(
    linear, params: ModelParams, time_limit: float | None = None
) -> TreesOnLinear:
    """LightGBM from the `model` params section on `linear`'s prediction and `top_k` columns
    (raising TimeLimitExceeded past `time_limit` seconds, if given)."""
    trees = TopColumnsLGBM(
        top_k=params.top_k + 1,  # the linear prediction and the top_k columns: all of them
        early_stopping_rounds=params.early_stopping_rounds,
        seed=params.seed,
        time_limit=time_limit,
        **{name: getattr(params, name) for name in BOOSTER_PARAMS},
    )
    return TreesOnLinear(linear, trees, params.top_k, params.linear_folds, params.seed)
