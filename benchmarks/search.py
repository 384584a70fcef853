"""Search budget: a Hyperopt search on a sample of a listings file, timed, against the starting
(default) parameters.

    python benchmarks/search.py --data train.parquet [--trials 20] [--sample 200000]

Runs the pipeline's search (`price_alchemy.model.tune.search`) in a throw-away MLflow store: the
first trial is the default parameters, the rest are TPE's. Prints a table per trial, then one
JSON object as the last line: {"trials", "failed", "seconds", "start_rmsle", "best_rmsle",
"improvement", "best", "peak_rss_mb", "sample_rows"}.
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

from price_alchemy.lifecycle.tracking import ensure_experiment
from price_alchemy.model.train import sample_listings, split_listings
from price_alchemy.model.tune import search
from price_alchemy.params import load_params
from price_alchemy.settings import Settings
from price_alchemy.validation.validate import read_valid_listings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--sample", type=int, default=200_000)
    parser.add_argument("--timeout", type=int, help="seconds; default: params search timeout")
    parser.add_argument("--params", type=Path, help="a params.yaml to merge over the defaults")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    params = load_params(args.params)
    listings, _ = read_valid_listings(args.data, params.validation)
    train, _ = split_listings(listings, params.split)
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
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
