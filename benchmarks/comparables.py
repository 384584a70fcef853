"""Comparable sales at scale: build time, memory, artifact size and `find` latency of the index.

    python benchmarks/comparables.py [--rows 1500000] [--seed 1]
    python benchmarks/comparables.py --data listings.parquet --test-data other.parquet

Data: `--data` and `--test-data` files, else both drawn by the shared generator (`--generator`,
`make_listings.py`): `--rows` listings of seed `--seed` to index, and `--test-rows` listings of
seed `--test-seed` (ids from `--test-id-offset`) to look up. Both go through the pipeline's
normalisation and validation rules, and the whole file is indexed, as `fit_model` indexes its
training split.

Measured: the seconds of `ComparableSales().fit`; `nbytes()` (its arrays and title bytes);
the pickled size, `len(pickle.dumps(index, protocol=5))`, which is its share of the model
artifact (target: under 300 MB), with the fitted vectorizer's part of it and the seconds to
pickle and unpickle; the RSS before the build and its peak during the build (psutil, sampled
every 20 ms), and the process's peak RSS at the end (`ru_maxrss`, which covers loading the file
and pickling too); `find` latency of one listing at a time (p50/p99 over `--timed` test
listings) and of one call with 100 listings. Prints a table, then one JSON object as the last
line: {"rows", "build_seconds", "nbytes", "pickled_bytes", "pickled_mb", ..., "find_ms": {...}}.
"""

import argparse
import json
import logging
import pickle
import resource
import statistics
import sys
import threading
import time

import generated_listings
import numpy as np
import pandas as pd
import psutil

from price_alchemy.model.comparables import ComparableSales
from price_alchemy.model.features import listing_columns
from price_alchemy.params import load_params
from price_alchemy.schema import LISTING_FIELDS

TARGET_MB = 300
CALL_LISTINGS = 100
MB = 1e6  # sizes and RSS in MB of 10^6 bytes


class PeakRss:
    """The highest RSS of this process while the block runs, sampled every `interval` s."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval, self.peak = interval, 0
        self._process, self._done = psutil.Process(), threading.Event()

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._done.wait(self.interval)

    def __enter__(self) -> "PeakRss":
        self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def build(listings: pd.DataFrame) -> tuple[ComparableSales, dict]:
    rss_before = psutil.Process().memory_info().rss
    print(f"building the index of {len(listings):,} listings", flush=True)
    with PeakRss() as peak:
        started = time.perf_counter()
        index = ComparableSales().fit(listings)
        seconds = time.perf_counter() - started
    print(f"  built in {seconds:.1f} s", flush=True)
    return index, {
        "build_seconds": round(seconds, 2),
        "rss_before_build_mb": round(rss_before / MB, 1),
        "build_peak_rss_mb": round(peak.peak / MB, 1),
        "build_rss_growth_mb": round((peak.peak - rss_before) / MB, 1),
    }


def sizes(index: ComparableSales) -> dict:
    print("pickling", flush=True)
    started = time.perf_counter()
    pickled = pickle.dumps(index, protocol=5)
    pickle_seconds = time.perf_counter() - started
    started = time.perf_counter()
    pickle.loads(pickled)
    unpickle_seconds = time.perf_counter() - started
    arrays = {
        name: value.nbytes for name, value in vars(index).items() if isinstance(value, np.ndarray)
    } | {"titles_": len(index.titles_)}
    vectorizer = len(pickle.dumps(index.vectorizer_, protocol=5))
    return {
        "nbytes": index.nbytes(),
        "nbytes_mb": round(index.nbytes() / MB, 1),
        "pickled_bytes": len(pickled),
        "pickled_mb": round(len(pickled) / MB, 1),
        "under_target": len(pickled) / MB < TARGET_MB,
        "vectorizer_pickled_mb": round(vectorizer / MB, 1),
        "title_words": len(index.vectorizer_.vocabulary_),
        "pickle_seconds": round(pickle_seconds, 2),
        "unpickle_seconds": round(unpickle_seconds, 2),
        "arrays_mb": {name: round(size / MB, 1) for name, size in arrays.items()},
    }


def find_latency(index: ComparableSales, test: pd.DataFrame, timed: int) -> dict:
    """Milliseconds of `find`: one listing at a time, and one call of 100 listings."""
    listings = test[list(LISTING_FIELDS)].head(timed).to_dict("records")
    index.find(listing_columns(listings[:1]))  # warm up
    times = []
    for n, listing in enumerate(listings, start=1):
        started = time.perf_counter()
        index.find(listing_columns([listing]))
        times.append((time.perf_counter() - started) * 1000)
        if n % 100 == 0:
            print(f"  find: {n}/{len(listings)} single listings", flush=True)
    started = time.perf_counter()
    found = index.find(listing_columns(listings[:CALL_LISTINGS]))
    call_ms = (time.perf_counter() - started) * 1000
    return {
        "single_p50": round(statistics.median(times), 2),
        "single_p99": round(float(np.percentile(times, 99)), 2),
        "single_max": round(max(times), 2),
        f"call_{CALL_LISTINGS}": round(call_ms, 1),
        f"call_{CALL_LISTINGS}_per_listing": round(call_ms / CALL_LISTINGS, 2),
        "timed_listings": len(times),
        "mean_found": round(float(np.mean([len(f) for f in found])), 2),
    }


def print_table(figures: dict) -> None:
    find_ms = figures["find_ms"]
    rows = [
        ("listings indexed", f"{figures['rows']:,}"),
        ("build", f"{figures['build_seconds']} s"),
        ("nbytes()", f"{figures['nbytes_mb']} MB"),
        ("pickled (protocol 5)", f"{figures['pickled_mb']} MB (target < {TARGET_MB} MB)"),
        ("  of which the vectorizer", f"{figures['vectorizer_pickled_mb']} MB"),
        ("title words", f"{figures['title_words']:,}"),
        ("pickle / unpickle", f"{figures['pickle_seconds']} s / {figures['unpickle_seconds']} s"),
        ("RSS before the build", f"{figures['rss_before_build_mb']} MB"),
        ("peak RSS during the build", f"{figures['build_peak_rss_mb']} MB "
                                      f"(+{figures['build_rss_growth_mb']} MB)"),
        ("peak RSS of the process", f"{figures['peak_rss_mb']} MB"),
        ("find, one listing p50 / p99", f"{find_ms['single_p50']} / {find_ms['single_p99']} ms "
                                        f"(over {find_ms['timed_listings']})"),
        (f"find, one call of {CALL_LISTINGS}", f"{find_ms[f'call_{CALL_LISTINGS}']} ms "
                                               f"({find_ms[f'call_{CALL_LISTINGS}_per_listing']}"
                                               " ms a listing)"),
    ]  # fmt: skip
    print(pd.DataFrame(rows, columns=["measure", "value"]).to_string(index=False))
    arrays = sorted(figures["arrays_mb"].items(), key=lambda kv: -kv[1])
    print("arrays (MB): " + ", ".join(f"{name} {size}" for name, size in arrays))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timed", type=int, default=500, help="test listings timed one by one")
    generated_listings.add_arguments(parser, 1_500_000, 1, 1_000, 2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    listings, test = generated_listings.listings_and_test(args, load_params())
    index, figures = build(listings)
    figures = {"rows": len(index)} | figures | sizes(index)
    figures["find_ms"] = find_latency(index, test, args.timed)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures["peak_rss_mb"] = round(peak_kib * 1024 / MB, 1)
    print_table(figures)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
