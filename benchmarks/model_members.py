"""Blend member candidates side by side: RMSLE, fit seconds and single-listing predict time of
each, on one train/test split.

    python benchmarks/model_members.py --data train.parquet --test-data test.parquet

Two feature sets, each built once from the listings (its build time is reported on its own):
"before" (the features of the models registered before issue 17: min_df 3, no word
indicators, no brand-away columns) and "now" (params.yaml). On each, members are fit on the
same rows, less a seeded validation split of 5% (at most 20,000) for early stopping and blend
weights, exactly as the blend does:

- before: Ridge (alpha 3, tol 1e-3), LightGBM on the 6,000 most frequent raw columns (the old
  tree member), their blend;
- now: Ridge (params.yaml), LightGBM on Ridge's out-of-fold prediction plus the 300 most
  frequent columns (`TreesOnLinear`, the served tree member), LightGBM on the 6,000 raw
  columns, scikit-learn's MLPRegressor on the binarized matrix (96-32, batch 2,048, one
  epoch), the served blend, and the blend with the MLP as a third member.

Blend weights are chosen by `blend.choose_weights` (never worse than the best member on the
validation split). Predict time: the median over 200 test listings of one member's call on one
listing's feature row (the features' own time per listing is a separate line). Prints a table,
then one JSON object as the last line: {"members": [{feature_set, member, rmsle, fit_seconds,
predict_ms}], "features": {set: {build_seconds, columns, per_listing_ms}}, "rows", "test_rows"}.
"""

import argparse
import json
import logging
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from price_alchemy.model.blend import choose_weights, validation_mask
from price_alchemy.model.features import build_preprocessor, listing_columns
from price_alchemy.model.members import TopColumnsLGBM, build_linear
from price_alchemy.model.metrics import rmsle_log
from price_alchemy.model.served_predict import direct_predict
from price_alchemy.model.trees_on_linear import build_trees_on_linear
from price_alchemy.params import Params, apply_overrides, load_params
from price_alchemy.schema import LISTING_FIELDS
from price_alchemy.validation.validate import read_valid_listings

BEFORE = {
    "features.min_df": 3,
    "features.word_indicator_max_features": 0,
    "features.brand_away_min_share": 0.0,
    "linear.alpha": 3.0,
    "linear.tol": 1e-3,
}
TIMED_LISTINGS = 200


def raw_lgbm(seed: int) -> TopColumnsLGBM:
    """The tree member of the models registered before issue 17."""
    return TopColumnsLGBM(
        top_k=6000, n_estimators=400, learning_rate=0.3, num_leaves=63, max_bin=63, seed=seed
    )


def sklearn_mlp(seed: int) -> MLPRegressor:
    return MLPRegressor(
        hidden_layer_sizes=(96, 32), batch_size=2048, max_iter=1, learning_rate_init=3e-3,
        random_state=seed,
    )  # fmt: skip


class Binarized:
    """A member fit and predicting on the matrix's non-zero pattern (values set to 1)."""

    def __init__(self, member) -> None:
        self.member = member

    @staticmethod
    def _ones(X):
        X = X.copy()
        X.data[:] = 1.0
        return X

    def fit(self, X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.member.fit(self._ones(X), y)
        return self

    def predict(self, X):
        return self.member.predict(self._ones(X))


def candidates(params: Params, feature_set: str) -> dict:
    seed = params.model.seed
    if feature_set == "before":
        return {"ridge": build_linear(params.linear), "lgbm_raw_6000": raw_lgbm(seed)}
    linear = build_linear(params.linear)
    return {
        "ridge": linear,
        "trees_on_linear": build_trees_on_linear(linear, params.model),
        "lgbm_raw_6000": raw_lgbm(seed),
        "sklearn_mlp": Binarized(sklearn_mlp(seed)),
    }


BLENDS = {
    "before": {"blend": ("ridge", "lgbm_raw_6000")},
    "now": {
        "blend (served)": ("ridge", "trees_on_linear"),
        "blend + mlp": ("ridge", "trees_on_linear", "sklearn_mlp"),
    },
}


def features(params: Params, train: pd.DataFrame, test: pd.DataFrame):
    """(train matrix, test matrix, build seconds, median ms to featurise one listing)."""
    started = time.perf_counter()
    preprocessor = build_preprocessor(params.features)
    X = preprocessor.fit_transform(train[list(LISTING_FIELDS)])
    seconds = time.perf_counter() - started
    X_test = preprocessor.transform(test[list(LISTING_FIELDS)])
    featurise = direct_predict(preprocessor, "transform")
    rows = test[list(LISTING_FIELDS)].head(TIMED_LISTINGS).to_dict("records")
    per_listing = _median_ms([lambda row=row: featurise(listing_columns([row])) for row in rows])
    return X, X_test, seconds, per_listing


def _median_ms(calls: list) -> float:
    times = []
    for call in calls:
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def fit_member(member, X, y, held_out):
    started = time.perf_counter()
    if getattr(member, "accepts_validation", False):
        member.fit(X[~held_out], y[~held_out], validation=(X[held_out], y[held_out]))
    else:
        member.fit(X[~held_out], y[~held_out])
    return time.perf_counter() - started


def run_set(params: Params, feature_set: str, train, test) -> tuple[list[dict], dict]:
    X, X_test, build_seconds, per_listing = features(params, train, test)
    print(f"{feature_set}: {X.shape[1]:,} columns in {build_seconds:.0f} s", flush=True)
    y, y_test = np.log1p(train["price"].to_numpy(float)), np.log1p(test["price"].to_numpy(float))
    held_out = validation_mask(len(y), params.blend.validation_size, params.blend.seed, 20_000)
    rows, validation, predictions = [], {}, {}
    for name, member in candidates(params, feature_set).items():
        seconds = fit_member(member, X, y, held_out)
        validation[name], predictions[name] = member.predict(X[held_out]), member.predict(X_test)
        one = [lambda i=i, m=member: m.predict(X_test[i : i + 1]) for i in range(TIMED_LISTINGS)]
        rows.append(_row(feature_set, name, rmsle_log(y_test, predictions[name]), seconds, one))
        print(f"  {name}: {rows[-1]['rmsle']:.4f} in {seconds:.0f} s", flush=True)
    for name, members in BLENDS[feature_set].items():
        weights = choose_weights(np.column_stack([validation[m] for m in members]), y[held_out])
        blended = np.column_stack([predictions[m] for m in members]) @ weights
        fit_s = sum(r["fit_seconds"] for r in rows if r["member"] in members)
        predict = sum(r["predict_ms"] for r in rows if r["member"] in members)
        rows.append(_row(feature_set, name, rmsle_log(y_test, blended), fit_s, [], predict))
        rows[-1]["weights"] = dict(zip(members, np.round(weights, 3).tolist(), strict=True))
    figures = {"build_seconds": round(build_seconds, 1), "columns": X.shape[1]}
    return rows, figures | {"per_listing_ms": round(per_listing, 3)}


def _row(feature_set, name, rmsle, seconds, calls, predict_ms=None) -> dict:
    predict_ms = _median_ms(calls) if calls else predict_ms
    return {"feature_set": feature_set, "member": name, "rmsle": round(rmsle, 5),
            "fit_seconds": round(seconds, 1), "predict_ms": round(predict_ms, 3)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--test-data", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    params = load_params()
    train, _ = read_valid_listings(args.data, params.validation)
    test, _ = read_valid_listings(args.test_data, params.validation)
    rows, feature_figures = [], {}
    for feature_set, overrides in (("before", BEFORE), ("now", {})):
        set_rows, feature_figures[feature_set] = run_set(
            apply_overrides(params, overrides), feature_set, train, test
        )
        rows += set_rows
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    for feature_set, figures in feature_figures.items():
        print(f"features {feature_set}: {figures}")
    print(json.dumps({"members": rows, "features": feature_figures, "rows": len(train),
                      "test_rows": len(test)}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
