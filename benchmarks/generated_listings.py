"""Listings of the shared generator (`../shared/datasets/make_listings.py`) for benchmarks: the
same arguments in each benchmark (a given file, else `--rows` generated with `--seed`, and a test
set of `--test-rows` with `--test-seed` and ids from `--test-id-offset`), read as valid listings.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from price_alchemy.params import Params
from price_alchemy.validation.validate import read_valid_listings

MAKE_LISTINGS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "make_listings.py"


def add_arguments(
    parser: argparse.ArgumentParser, rows: int, seed: int, test_rows: int, test_seed: int
) -> None:
    """--data, --test-data, --rows, --seed, --test-rows, --test-seed, --test-id-offset and
    --generator, with these defaults."""
    parser.add_argument("--data", type=Path, help="a listings file (else generated)")
    parser.add_argument("--test-data", type=Path, help="a test listings file (else generated)")
    parser.add_argument("--rows", type=int, default=rows, help="listings generated")
    parser.add_argument("--seed", type=int, default=seed, help="seed of the listings")
    parser.add_argument("--test-rows", type=int, default=test_rows, help="test listings generated")
    parser.add_argument("--test-seed", type=int, default=test_seed)
    parser.add_argument("--test-id-offset", type=int, default=100_000_000)
    parser.add_argument("--generator", type=Path, default=MAKE_LISTINGS)


def generate(script: Path, rows: int, seed: int, out: Path, id_offset: int = 0) -> Path:
    """`rows` listings of the shared generator, written to `out`."""
    command = [sys.executable, str(script), "--rows", str(rows), "--seed", str(seed)]
    command += ["--out", str(out), "--id-offset", str(id_offset)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return out


def listings_and_test(
    args: argparse.Namespace, params: Params
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(listings, test listings) of `add_arguments`' arguments, the valid ones."""
    with tempfile.TemporaryDirectory() as folder:
        data, test_data = args.data, args.test_data
        if data is None:
            print(f"generating {args.rows:,} listings (seed {args.seed})", flush=True)
            data = generate(args.generator, args.rows, args.seed, Path(folder) / "data.parquet")
        if test_data is None:
            print(
                f"generating {args.test_rows:,} test listings (seed {args.test_seed})", flush=True
            )
            out = Path(folder) / "test.parquet"
            test_data = generate(
                args.generator, args.test_rows, args.test_seed, out, args.test_id_offset
            )
        print("reading and validating the listings", flush=True)
        listings, _ = read_valid_listings(data, params.validation)
        test, _ = read_valid_listings(test_data, params.validation)
    return listings, test
