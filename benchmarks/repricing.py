"""Re-pricing at scale: how long the re-pricing stage takes on many live listings, and its memory.

    python benchmarks/repricing.py [--live 1500000] [--train-rows 200000] [--batch-rows 100000]

A champion is trained by the pipeline's own stages on `--train-rows` demo listings (as
`benchmarks/serving.py` trains one), `--live` live listings of the same demo market are loaded
into the DuckDB warehouse's `active_listings`, and the re-pricing stage (`run_repricing`, what
the `price_alchemy_repricing` DAG's task runs) prices them in a process of its own, whose wall
time and peak RSS are measured (targets: 1.5M listings within 5 minutes and 4 GB on 2 cores).
The stage is run twice with the same run id, to show that the rerun replaces its rows. Prints a
table, then one JSON object as the last line.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from serving import train_champion

from price_alchemy.data.backends import open_warehouse
from price_alchemy.data.load import load_table
from price_alchemy.demo.generator import active_listings

TARGET_SECONDS, TARGET_MB = 300, 4000
STAGE = (
    "import json, sys; from price_alchemy.pipeline.repricing_stage import run_repricing;"
    " print(json.dumps(run_repricing(sys.argv[1]).to_dict()))"
)


def _reprice(home: Path, run_id: str, batch_rows: int) -> dict:
    """The stage in a child process: its result, wall seconds and peak RSS (MB)."""
    env = os.environ | {
        "PRICE_ALCHEMY_HOME": str(home),
        "PRICE_ALCHEMY_REPRICING_BATCH_ROWS": str(batch_rows),
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", STAGE, run_id], env=env, capture_output=True, text=True, check=True
    ).stdout
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(out.strip().splitlines()[-1])
    return result | {
        "wall_seconds": round(seconds, 1),
        "peak_rss_mb": round(max(peak, before) / 1024),
    }


def _rows_of_run(settings, run_id: str) -> int:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        sql = "SELECT count(*) FROM price_suggestions WHERE run_id = ?"
        return int(con.execute(sql, [run_id]).fetchone()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--live", type=int, default=1_500_000, help="live listings to price")
    parser.add_argument("--train-rows", type=int, default=200_000, help="demo listings to train on")
    parser.add_argument("--batch-rows", type=int, default=100_000, help="listings per batch")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        home = Path(work) / "home"
        print(f"training a champion on {args.train_rows:,} demo listings ...", flush=True)
        settings = train_champion(home, args.train_rows)
        print(f"generating {args.live:,} live listings ...", flush=True)
        started = time.perf_counter()
        live = open_warehouse(settings, settings.active_table)
        load_table(live, active_listings(args.live, seed=31), home / "loads", replace=True)
        loaded = round(time.perf_counter() - started, 1)
        runs = []
        for attempt in ("first", "rerun"):
            print(f"re-pricing ({attempt}) ...", flush=True)
            runs.append(_reprice(home, "bench", args.batch_rows) | {"attempt": attempt})
        rows = _rows_of_run(settings, "bench")
    figures = {
        "live": args.live,
        "train_rows": args.train_rows,
        "generate_and_load_seconds": loaded,
    }
    figures |= {"runs": runs, "rows_after_rerun": rows}
    figures["within_targets"] = all(
        r["wall_seconds"] <= TARGET_SECONDS and r["peak_rss_mb"] <= TARGET_MB for r in runs
    )
    print(f"{'run':<7} {'listings':>10} {'priced':>10} {'skipped':>8} {'wall s':>8} {'peak MB':>8}")
    for r in runs:
        print(
            f"{r['attempt']:<7} {r['listings']:>10,} {r['priced']:>10,} {r['skipped']:>8,}"
            f" {r['wall_seconds']:>8.1f} {r['peak_rss_mb']:>8,}"
        )
    print(f"rows of the run after the rerun: {rows:,}; targets: {TARGET_SECONDS} s, {TARGET_MB} MB")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
