"""Model quality: train every model row on a listings file and score it on held-out listings.

    python benchmarks/model_quality.py --data train.parquet --test-data test.parquet
    python benchmarks/model_quality.py --data ../shared/datasets/mercari_real_5k.tsv --cv 5

Rows: the rules baseline, Ridge, LightGBM, their blend (the served model) and the original
Price Alchemy recipe (an MLP on a 20k-row sample of dense TF-IDF). Files go through the same
normalisation and validation rules as the pipeline (quarantined rows are left out and counted).
Without `--test-data` and `--cv`, the pipeline's own hash split holds out the test listings.
Prints a table, then one JSON object as the last line: {"rmsle": {row: value}, "coverage",
"fit_seconds", "peak_rss_mb", "rows", ...}. `fit_seconds` is the full training run (features,
final fits, blend, price range); peak RSS covers the whole process.
"""

import argparse
import json
import logging
import resource
import sys
from pathlib import Path

from price_alchemy.model.compare import (
    ROWS,
    Comparison,
    compare_models,
    cross_validate,
    mean_comparison,
)
from price_alchemy.model.train import split_listings
from price_alchemy.params import load_params
from price_alchemy.validation.validate import read_valid_listings


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(result: Comparison, extra: dict) -> dict:
    table = result.scores.loc[list(ROWS)]
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    figures = {
        "rmsle": {row: round(float(table.loc[row, "rmsle"]), 5) for row in ROWS},
        "mae": {row: round(float(table.loc[row, "mae"]), 3) for row in ROWS},
        "r2": {row: round(float(table.loc[row, "r2"]), 4) for row in ROWS},
        "coverage": round(result.coverage, 4),
        "fit_seconds": round(result.fit_seconds, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rows": result.train_rows,
        "test_rows": result.test_rows,
    } | extra
    print(
        f"\ncoverage {figures['coverage']}  fit {figures['fit_seconds']} s  "
        f"peak RSS {figures['peak_rss_mb']} MB  train rows {figures['rows']}"
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--test-data", type=Path)
    parser.add_argument("--cv", type=int, default=0, help="K-fold cross-validation on --data")
    parser.add_argument("--params", type=Path, help="a params.yaml to merge over the defaults")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    params = load_params(args.params)
    listings, quarantined = read_valid_listings(args.data, params.validation)
    print(f"{args.data}: {len(listings)} valid, {len(quarantined)} quarantined", flush=True)
    if args.cv:
        result = mean_comparison(cross_validate(listings, params, args.cv))
    elif args.test_data:
        test, _ = read_valid_listings(args.test_data, params.validation)
        result = compare_models(listings, test, params)
    else:
        result = compare_models(*split_listings(listings, params.split), params)
    figures = report(result, {"cv_folds": args.cv, "quarantined": len(quarantined)})
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
