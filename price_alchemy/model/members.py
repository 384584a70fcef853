"""Blend members: the sparse linear model and LightGBM, each built from its params section.

LightGBM on every one of the ~250k sparse columns is too slow on two cores, so
`TopColumnsLGBM` keeps the `top_k` columns that are non-zero in the most training rows (the
one-hots and the common words and phrases) and stops early on the blend's validation split.
The served tree member gives it the linear model's prediction too (`trees_on_linear`); models
registered before that hold a `TopColumnsLGBM` on `top_k` raw columns as their tree member.
"""

import time
from typing import cast

import numpy as np
from lightgbm import LGBMRegressor, early_stopping
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge

from price_alchemy.params import LinearParams

SINGLE_THREAD_ROWS = 2048  # predicting fewer rows uses one thread


def build_linear(params: LinearParams) -> Ridge:
    """Ridge regression on the whole sparse matrix."""
    return Ridge(alpha=params.alpha, solver="lsqr", tol=params.tol)


def frequent_columns(X, top_k: int) -> np.ndarray:
    """Indices (ascending) of the `top_k` columns non-zero in the most rows of CSR `X`."""
    counts = np.bincount(X.indices, minlength=X.shape[1])
    if top_k >= X.shape[1]:
        return np.arange(X.shape[1])
    return np.sort(np.argsort(-counts, kind="stable")[:top_k])


BOOSTER_PARAMS = (
    "n_estimators",
    "learning_rate",
    "num_leaves",
    "min_child_samples",
    "colsample_bytree",
    "max_bin",
)


class TimeLimitExceeded(RuntimeError):
    """Training ran past its time limit."""


def _stop_after(seconds: float):
    """A LightGBM callback that raises TimeLimitExceeded `seconds` after its first call."""
    deadline: list[float] = []

    def check(env) -> None:
        now = time.monotonic()
        deadline.append(deadline[0] if deadline else now + seconds)
        if now > deadline[0]:
            raise TimeLimitExceeded(f"stopped at iteration {env.iteration}: over {seconds:g} s")

    return check


class TopColumnsLGBM(RegressorMixin, BaseEstimator):
    """LightGBM on the most frequent `top_k` columns, stopping early on a validation split."""

    accepts_validation = True

    def __init__(
        self,
        top_k: int = 20000,
        n_estimators: int = 500,
        learning_rate: float = 0.1,
        num_leaves: int = 63,
        min_child_samples: int = 20,
        colsample_bytree: float = 0.5,
        max_bin: int = 63,
        early_stopping_rounds: int = 20,
        seed: int = 0,
        time_limit: float | None = None,
    ) -> None:
        self.top_k = top_k
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.max_bin = max_bin
        self.early_stopping_rounds = early_stopping_rounds
        self.seed = seed
        self.time_limit = time_limit

    def _booster(self) -> LGBMRegressor:
        return LGBMRegressor(
            **{name: getattr(self, name) for name in BOOSTER_PARAMS},
            random_state=self.seed,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )

    def fit(self, X, y, validation=None) -> "TopColumnsLGBM":
        self.columns_ = frequent_columns(X, self.top_k)
        self.booster_ = self._booster()
        callbacks = [] if self.time_limit is None else [_stop_after(self.time_limit)]
        if validation is None:
            self.booster_.fit(X[:, self.columns_], y, callbacks=callbacks)
            return self
        val_X, val_y = validation
        callbacks.append(early_stopping(self.early_stopping_rounds, verbose=False))
        self.booster_.fit(
            X[:, self.columns_],
            y,
            eval_X=(val_X[:, self.columns_],),
            eval_y=(val_y,),
            callbacks=callbacks,
        )
        return self

    def predict(self, X) -> np.ndarray:
        # OpenMP start-up costs ~3 ms a call: a few rows are faster on one thread. The Booster
        # is called itself: the sklearn wrapper re-validates X and re-reads every training
        # parameter on each call (~0.6 ms, most of a single-listing prediction)
        threads = 1 if X.shape[0] < SINGLE_THREAD_ROWS else 0
        if len(self.columns_) < X.shape[1]:  # (a member on given columns gets only those)
            X = X[:, self.columns_]
        prices = self.booster_.booster_.predict(X, num_threads=threads)
        return cast(np.ndarray, prices)

    def num_trees(self) -> int:
        """Trees in the fitted booster (after early stopping)."""
        return self.booster_.booster_.num_trees()

    def importance(self) -> tuple[np.ndarray, np.ndarray]:
        """(column index in the full matrix, total gain) for every column kept."""
        gain = self.booster_.booster_.feature_importance(importance_type="gain")
        return self.columns_, gain
