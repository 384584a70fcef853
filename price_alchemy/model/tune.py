"""Tune: a seeded Hyperopt TPE search over Ridge, feature and LightGBM parameters. Trials fit the
whole blend on a sample of the training listings and are scored by RMSLE on a held-out part of that
sample that neither early stopping nor the blend weights saw. The first trial is always the current
parameters, so the search reports how much it improved on them. Each finished trial is handed to
`on_trial` (the pipeline logs it as a nested MLflow run under the search's parent run: parameters,
RMSLE, seconds, status). A trial that raises or runs past `trial_timeout_seconds` is recorded as
failed and the search goes on; the search stops after `max_evals` trials or `timeout_seconds`.
"""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from hyperopt import STATUS_FAIL, STATUS_OK, fmin, hp, space_eval, tpe
from hyperopt.exceptions import AllTrialsFailed

from price_alchemy.errors import ActionRequired
from price_alchemy.model.features import build_preprocessor
from price_alchemy.model.metrics import rmsle_log
from price_alchemy.model.train import build_blend, hash_split
from price_alchemy.params import Params, apply_overrides
from price_alchemy.schema import LISTING_FIELDS

log = logging.getLogger(__name__)


class SearchFailed(ActionRequired):
    """Every trial failed: the parameters, the sample or the time limits need a person's look
    (each trial's error is in its MLflow run)."""


TRIAL_SALT = 7919
CHOICES = {  # searched from these values (Hyperopt samples the index)
    "model.top_k": (100, 300, 1000),
    "features.min_df": (2, 3, 5),
    "features.category_title_min_df": (5, 10, 20),
    "features.description_max_features": (50_000, 100_000, 200_000),
}


def search_space() -> dict:
    """Hyperopt's space, keyed by `section.field` of params.yaml: what carries the blend (the
    linear model's penalty, the word indicators' weight, vocabulary sizes and cut-offs) and
    the tree member's main knobs."""
    return {
        "linear.alpha": hp.loguniform("linear.alpha", math.log(1.5), math.log(25)),
        "features.word_indicator_weight": hp.loguniform(
            "features.word_indicator_weight", math.log(0.1), math.log(1.0)
        ),
        "model.num_leaves": hp.qloguniform("model.num_leaves", math.log(15), math.log(127), 1),
        "model.learning_rate": hp.loguniform("model.learning_rate", math.log(0.05), math.log(0.3)),
        "model.min_child_samples": hp.qloguniform(
            "model.min_child_samples", math.log(5), math.log(200), 1
        ),
    } | {key: hp.choice(key, values) for key, values in CHOICES.items()}


def _as_overrides(point: dict) -> dict:
    """A sampled point as typed params overrides (quantized floats back to int)."""
    ints = ("model.num_leaves", "model.min_child_samples", *CHOICES)
    return {key: int(value) if key in ints else float(value) for key, value in point.items()}


def _current_point(params: Params) -> dict:
    """The current parameters as a starting point (choices by index, as Hyperopt wants)."""
    point = {key: _lookup(params, key) for key in search_space()}
    for key, choices in CHOICES.items():
        point[key] = min(range(len(choices)), key=lambda i: abs(choices[i] - point[key]))
    return point


def _lookup(params: Params, key: str):
    section, name = key.split(".")
    return getattr(getattr(params, section), name)


@dataclass
class SearchResult:
    """The outcome of one search: the best overrides and every trial."""

    best: dict
    best_rmsle: float
    start_rmsle: float
    trials: pd.DataFrame = field(repr=False)

    @property
    def failed_trials(self) -> int:
        return int((self.trials["status"] == "fail").sum())


@dataclass(frozen=True)
class Trial:
    """One finished trial, as `on_trial` receives it."""

    name: str
    overrides: dict
    loss: float
    status: str  # "ok" or "fail"
    error: str
    started: float  # epoch seconds
    seconds: float


TrialCallback = Callable[[Trial], None]


class _Objective:
    """Fits and scores the blend on the sample for one point; caches feature matrices."""

    def __init__(
        self, sample: pd.DataFrame, params: Params, trial_timeout: float, on_trial: TrialCallback
    ) -> None:
        # salted apart from the train/test split, whose hash decided which rows are in `sample`
        self.fit_rows, self.val_rows = hash_split(sample, 0.2, params.search.seed + TRIAL_SALT)
        self.params, self.trial_timeout, self.on_trial = params, trial_timeout, on_trial
        self.matrices: dict[tuple, tuple] = {}
        self.records: list[dict] = []

    def _matrices(self, params: Params):
        key = tuple(params.features.model_dump().items())
        if key not in self.matrices:
            features = build_preprocessor(params.features)
            fit_X = features.fit_transform(self.fit_rows[list(LISTING_FIELDS)])
            val_X = features.transform(self.val_rows[list(LISTING_FIELDS)])
            self.matrices[key] = (fit_X, val_X)
        return self.matrices[key]

    def _score(self, overrides: dict) -> float:
        params = apply_overrides(self.params, overrides)
        fit_X, val_X = self._matrices(params)
        blend = build_blend(params, time_limit=self.trial_timeout)
        blend.fit(fit_X, np.log1p(self.fit_rows["price"].to_numpy(float)))
        return rmsle_log(np.log1p(self.val_rows["price"].to_numpy(float)), blend.predict(val_X))

    def __call__(self, point: dict) -> dict:
        overrides = _as_overrides(point)
        started, clock = time.time(), time.perf_counter()
        name = f"trial-{len(self.records)}"
        try:
            loss, status, error = self._score(overrides), "ok", ""
        except Exception as failure:  # noqa: BLE001 - a failed trial must not end the search
            loss, status, error = float("nan"), "fail", f"{type(failure).__name__}: {failure}"
        seconds = time.perf_counter() - clock
        self.on_trial(Trial(name, overrides, loss, status, error, started, seconds))
        log.info("%s: %s, RMSLE %.4f, %.0f s %s", name, status, loss, seconds, error)
        self.records.append(
            {"trial": len(self.records), "loss": loss, "status": status, "seconds": seconds}
            | overrides
        )
        if status == "fail":
            return {"status": STATUS_FAIL, "error": error}
        return {"status": STATUS_OK, "loss": loss}


def search(
    sample: pd.DataFrame,
    params: Params,
    max_evals: int,
    timeout: int,
    on_trial: TrialCallback = lambda trial: None,
) -> SearchResult:
    """Run `max_evals` trials (the first: the current parameters), each handed to `on_trial`
    when done; return the best overrides."""
    objective = _Objective(sample, params, params.search.trial_timeout_seconds, on_trial)
    start = _current_point(params)
    if max_evals <= 1:
        objective(space_eval(search_space(), start))
        return _result(objective.records)
    try:
        fmin(
            objective,
            search_space(),
            algo=tpe.suggest,
            max_evals=max_evals - 1,  # Hyperopt runs the starting point on top of these
            timeout=timeout,
            rstate=np.random.default_rng(params.search.seed),
            points_to_evaluate=[start],
            show_progressbar=False,
        )
    except AllTrialsFailed:
        pass  # reported by _result with the trial count
    return _result(objective.records)


def _result(records: list[dict]) -> SearchResult:
    trials = pd.DataFrame(records)
    ok = trials[trials["status"] == "ok"]
    if ok.empty:
        raise SearchFailed(f"all {len(trials)} search trials failed")
    best = records[int(ok["loss"].idxmin())]
    overrides = {key: best[key] for key in search_space()}
    start_loss = float(trials["loss"].iloc[0])
    return SearchResult(overrides, float(best["loss"]), start_loss, trials)
