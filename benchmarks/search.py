"""Search budget and gain: a Hyperopt search on a sample of a listings file, timed, against the
starting (default) parameters; optionally, its gain at full scale and whether the sample ranks
parameters the way the full data does.

    python benchmarks/search.py --data train.parquet [--trials 20] [--sample 200000]
    python benchmarks/search.py --data train.parquet --test-data test.parquet --full-configs 5

Runs the pipeline's search (`price_alchemy.model.tune.search`) in a throw-away MLflow store: the
first trial is the default parameters, the rest are TPE's. With `--test-data`, the training
listings are all of `--data` (else the pipeline's training split of it), and `--full-configs K`
trains the full model on all of them with K of the trials' parameters (the defaults, the best,
and the others spread over the sample's ranking) and scores each on the test listings: the gain
of the best over the defaults at full scale, and the Spearman rank correlation of the K
configurations' sample and full-scale RMSLE. Prints a table per trial (and per full fit), then
one JSON object as the last line: {"trials", "failed", "seconds", "start_rmsle", "best_rmsle",
"improvement", "best", "peak_rss_mb", "sample_rows", and with full fits "full": [{trial,
sample_rmsle, full_rmsle, fit_seconds}], "full_gain", "rank_correlation"}.
"""

import argparse
import json
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from price_alchemy.lifecycle.tracking import ensure_experiment
from price_alchemy.model.metrics import rmsle
from price_alchemy.model.train import fit_model, sample_listings, split_listings
from price_alchemy.model.tune import SearchResult, search, search_space
from price_alchemy.params import Params, apply_overrides, load_params
from price_alchemy.schema import LISTING_FIELDS
from price_alchemy.settings import Settings
from price_alchemy.validation.validate import read_valid_listings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--sample", type=int, default=200_000)
    parser.add_argument("--timeout", type=int, help="seconds; default: params search timeout")
    parser.add_argument("--params", type=Path, help="a params.yaml to merge over the defaults")
    parser.add_argument("--test-data", type=Path, help="listings to score full-scale fits on")
    parser.add_argument("--full-configs", type=int, default=0, help="full fits (with --test-data)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    params = load_params(args.params)
    listings, _ = read_valid_listings(args.data, params.validation)
    train = listings if args.test_data else split_listings(listings, params.split)[0]
    sample = sample_listings(train, args.sample, params.search.seed)
    timeout = args.timeout or params.search.timeout_seconds
    print(f"searching {args.trials} trials on {len(sample):,} listings ...", flush=True)
    with tempfile.TemporaryDirectory() as home:
        experiment = ensure_experiment(Settings(home=Path(home)))
        started = time.perf_counter()
        with mlflow.start_run(experiment_id=experiment):
            result = search(sample, params, args.trials, timeout)
        seconds = time.perf_counter() - started
    print(result.trials.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    figures = {
        "trials": len(result.trials),
        "failed": int((result.trials["status"] == "fail").sum()),
        "seconds": round(seconds, 1),
        "start_rmsle": round(result.start_rmsle, 5),
        "best_rmsle": round(result.best_rmsle, 5),
        "improvement": round(result.start_rmsle - result.best_rmsle, 5),
        "best": result.best,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "sample_rows": len(sample),
    }
    print(
        f"\n{figures['trials']} trials in {figures['seconds']} s: RMSLE "
        f"{figures['start_rmsle']} (defaults) -> {figures['best_rmsle']} (best)"
    )
    if args.test_data and args.full_configs:
        test, _ = read_valid_listings(args.test_data, params.validation)
        figures |= full_scale(result, params, train, test, args.full_configs)
    print(json.dumps(figures))
    return 0


def chosen_trials(trials: pd.DataFrame, count: int) -> list[int]:
    """The defaults (trial 0), the best trial, and others spread over the sample's ranking:
    `count` distinct trials (fewer only when fewer succeeded)."""
    ranked = trials[trials["status"] == "ok"].sort_values("loss")["trial"].tolist()
    chosen = list(dict.fromkeys([0, ranked[0]]))
    others = [trial for trial in ranked if trial not in chosen]
    places = np.linspace(0, len(others) - 1, max(count - len(chosen), 0)) if others else []
    return chosen + list(dict.fromkeys(others[round(place)] for place in places))


def full_scale(
    result: SearchResult, params: Params, train: pd.DataFrame, test: pd.DataFrame, count: int
) -> dict:
    """Full fits of `count` trials' parameters, scored on `test` (see the module's doc)."""
    rows = []
    for trial in chosen_trials(result.trials, count):
        record = result.trials.set_index("trial").loc[trial]
        overrides = {key: record[key].item() for key in search_space()}
        print(f"full fit of trial {trial} on {len(train):,} listings ...", flush=True)
        started = time.perf_counter()
        model = fit_model(train, apply_overrides(params, overrides))
        seconds = time.perf_counter() - started
        full = rmsle(test["price"], model.predict(test[list(LISTING_FIELDS)]))
        rows.append(
            {
                "trial": trial,
                "sample_rmsle": float(record["loss"]),
                "full_rmsle": full,
                "fit_seconds": round(seconds, 1),
            }
        )
        print(f"  sample {record['loss']:.4f}  full {full:.4f}  ({seconds:.0f} s)", flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    full = table.set_index("trial")["full_rmsle"]
    default, best = (
        full.loc[0],
        full.loc[int(result.trials.loc[result.trials["loss"].idxmin(), "trial"])],
    )
    correlation = spearmanr(table["sample_rmsle"], table["full_rmsle"]).statistic
    print(
        f"full-scale gain of the best trial over the defaults: {(default - best) / default:.2%};"
        f" rank correlation sample vs full: {correlation:.2f}"
    )
    return {
        "full": rows,
        "full_gain": round(float((default - best) / default), 5),
        "rank_correlation": round(float(correlation), 3),
    }


if __name__ == "__main__":
    sys.exit(main())
