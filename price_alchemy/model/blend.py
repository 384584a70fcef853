"""Blend: several regressors on the same sparse matrix, weighted by how well they do on rows
none of them trained on.

`BlendRegressor` holds out a seeded share of its rows (at most `max_validation_rows`) as the
validation split, fits each member on the rest (members that can stop early watch the
validation split), then fits non-negative weights on the members' validation predictions; when
that split is small (fewer than `min_validation_rows`: a few hundred rows decide weights by
chance), on every row's out-of-fold prediction instead (members fit on the other folds).
Weights are kept only when, cross-validated on those rows, they predict better than the best
member alone; else the best member takes all the weight, so the blend never serves worse than
its best member would. With `refit_min_share`, members that do not stop early are then fit
again on every row, the validation split included, when that split held back at least that
share of the rows (below it, the fit costs more than the rows bring). Each member's own
predictions stay available, so every member can be scored beside the blend.
"""

import logging
import time

import numpy as np
from scipy.optimize import nnls
from sklearn.base import BaseEstimator, RegressorMixin, clone

log = logging.getLogger(__name__)


def validation_mask(rows: int, share: float, seed: int, most: int | None) -> np.ndarray:
    mask = np.zeros(rows, dtype=bool)
    count = min(max(1, int(round(rows * share))), most or rows)
    mask[np.random.default_rng(seed).choice(rows, size=count, replace=False)] = True
    return mask


def fit_weights(predictions: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Non-negative weights minimising the squared error of `predictions @ weights` against
    `target` (columns are members). No intercept: the members already fit the target's level,
    and an intercept estimated on a small validation split only adds its noise."""
    weights, _ = nnls(predictions, target)
    if not weights.any():
        weights = np.full(predictions.shape[1], 1.0 / predictions.shape[1])
    return weights


def choose_weights(
    predictions: np.ndarray, target: np.ndarray, folds: int = 5, seed: int = 0
) -> np.ndarray:
    """The blend's weights on members' `predictions` (one column each) of rows they did not
    fit: `fit_weights` of every row when, over `folds` folds of the rows, weights fit on the
    other folds predict each fold better than the member best on the other folds; else all
    the weight on the member best on every row."""
    errors = (predictions - target[:, None]) ** 2
    best = np.zeros(predictions.shape[1])
    best[int(np.argmin(errors.sum(axis=0)))] = 1.0
    folds = min(folds, len(target))
    if predictions.shape[1] == 1 or folds < 2:
        return best if predictions.shape[1] == 1 else fit_weights(predictions, target)
    fold_of = np.random.default_rng(seed).permutation(len(target)) % folds
    blended = single = 0.0
    for fold in range(folds):
        held, rest = fold_of == fold, fold_of != fold
        weights = fit_weights(predictions[rest], target[rest])
        blended += float(np.sum((predictions[held] @ weights - target[held]) ** 2))
        single += float(errors[held, int(np.argmin(errors[rest].sum(axis=0)))].sum())
    return fit_weights(predictions, target) if blended < single else best


class BlendRegressor(RegressorMixin, BaseEstimator):
    """Members fit on most rows; weights fit on a held-out validation split of the rest."""

    # Defaults of parameters added after models were registered: a model unpickled from before
    # them reads these (sklearn's repr, get_params and clone read every parameter)
    min_validation_rows = 0
    folds = 3
    max_validation_rows = None
    refit_min_share = None

    def __init__(
        self,
        members=(),
        validation_size: float = 0.1,
        seed: int = 0,
        min_validation_rows: int = 0,
        folds: int = 3,
        max_validation_rows: int | None = None,
        refit_min_share: float | None = None,
    ) -> None:
        self.members = members
        self.validation_size = validation_size
        self.seed = seed
        self.min_validation_rows = min_validation_rows
        self.folds = folds
        self.max_validation_rows = max_validation_rows
        self.refit_min_share = refit_min_share

    def fit(self, X, y) -> "BlendRegressor":
        if not self.members:
            raise ValueError("a blend needs at least one member")
        y = np.asarray(y, dtype=float)
        log.info("blend on a %d x %d matrix with %d non-zeros", *X.shape, X.nnz)
        # the mean training row: the reference point of explanations (`explain`)
        self.column_means_ = np.asarray(X.mean(axis=0), dtype=np.float32).ravel()
        held_out = validation_mask(
            X.shape[0], self.validation_size, self.seed, self.max_validation_rows
        )
        fit_X, fit_y, val_X, val_y = X[~held_out], y[~held_out], X[held_out], y[held_out]
        self.members_ = {}
        for name, member in self.members:
            started = time.perf_counter()
            self.members_[name] = _fit_member(clone(member), fit_X, fit_y, val_X, val_y)
            log.info("blend member %s fit in %.1f s", name, time.perf_counter() - started)
        predictions, target = self._predict_members(val_X), val_y
        if len(val_y) < self.min_validation_rows:
            log.info("%d validation rows: weights fit on out-of-fold predictions", len(val_y))
            predictions = np.vstack([self._out_of_fold(fit_X, fit_y, val_X, val_y), predictions])
            target = np.concatenate([fit_y, val_y])
        self.weights_ = choose_weights(predictions, target, seed=self.seed)
        self.validation_rows_ = len(target)
        share = held_out.sum() / X.shape[0]
        if self.refit_min_share is not None and share >= self.refit_min_share:
            self._refit_on_all_rows(X, y)
        log.info("blend weights %s", {k: round(v, 3) for k, v in self.weights().items()})
        return self

    def _refit_on_all_rows(self, X, y) -> None:
        """Fit again, on every row, the members that do not stop early on the validation split
        (their weights stand: the same kind of model on more rows)."""
        for name, member in self.members:
            if not getattr(member, "accepts_validation", False):
                self.members_[name] = clone(member).fit(X, y)
                log.info("blend member %s fit again on all %d rows", name, X.shape[0])

    def _predict_members(self, X) -> np.ndarray:
        return np.column_stack(list(self.predict_members(X).values()))

    def _out_of_fold(self, X, y, val_X, val_y) -> np.ndarray:
        """Each row of `X`'s prediction by every member fit on the other folds (stopping early
        on the validation split), one column per member."""
        fold_of = np.random.default_rng(self.seed).permutation(len(y)) % self.folds
        predictions = np.empty((len(y), len(self.members)))
        for fold in range(self.folds):
            held, rest = fold_of == fold, fold_of != fold
            for column, (_, member) in enumerate(self.members):
                fitted = _fit_member(clone(member), X[rest], y[rest], val_X, val_y)
                predictions[held, column] = fitted.predict(X[held])
        return predictions

    def predict(self, X) -> np.ndarray:
        return self.predict_with([member.predict for member in self.members_.values()], X)

    def predict_with(self, predicts: list, X) -> np.ndarray:
        """`predict` with each member's prediction made by the function at its place."""
        return self.predict_stacked(np.column_stack([predict(X) for predict in predicts]))

    def predict_stacked(self, predictions: np.ndarray) -> np.ndarray:
        """The blend of member predictions already made (one column per member, in order)."""
        return predictions @ self.weights_

    def predict_members(self, X) -> dict[str, np.ndarray]:
        """Each member's own prediction, by member name."""
        return {name: member.predict(X) for name, member in self.members_.items()}

    def weights(self) -> dict[str, float]:
        return dict(zip(self.members_, map(float, self.weights_), strict=True))


def _fit_member(member, X, y, val_X, val_y):
    """Fit one member; members that take a validation set (early stopping) get it."""
    if getattr(member, "accepts_validation", False):
        return member.fit(X, y, validation=(val_X, val_y))
    return member.fit(X, y)
