"""Benchmark: load + extract + validate throughput and peak memory, per warehouse backend.

    python benchmarks/extract.py [--rows 1500000] [--bq-rows 100000] [--data FILE] [--no-bigquery]

Input: `--data FILE` (TSV, CSV or Parquet of listings), else `../shared/datasets/make_listings.py`
when present (dirty 2%), else the package's demo generator. Each backend runs in a child process,
so its peak RSS is its own. Prints a table, then one JSON object as the last line.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKE_LISTINGS = ROOT.parent / "shared" / "datasets" / "make_listings.py"
WINDOW = (datetime(2000, 1, 1), datetime(2100, 1, 1))


def make_input(rows: int, folder: Path) -> Path:
    """A listings file of `rows` rows: the shared generator's dirty TSV, or our demo data."""
    if MAKE_LISTINGS.exists():
        path = folder / f"listings_{rows}.tsv"
        command = [sys.executable, str(MAKE_LISTINGS), "--rows", str(rows), "--dirty", "0.02"]
        subprocess.run(
            [*command, "--seed", "11", "--out", str(path)], check=True, stdout=subprocess.DEVNULL
        )
        return path
    import pyarrow.parquet as pq

    from price_alchemy.demo.generator import generate_listings

    path = folder / f"listings_{rows}.parquet"
    pq.write_table(generate_listings(rows, seed=11, end=datetime(2026, 1, 1)), path)
    return path


def _timed(phases: dict, name: str, call):
    started = time.perf_counter()
    result = call()
    phases[name] = round(time.perf_counter() - started, 2)
    return result


def run_child(settings_json: str, source: str) -> dict:
    """One backend: load, extract, validate; seconds per phase, rows, peak RSS."""
    from price_alchemy.pipeline import data_stages
    from price_alchemy.settings import Settings
    from price_alchemy.validation.validate import ValidationFailed

    settings = Settings.model_validate_json(settings_json)
    phases: dict[str, float] = {}
    load = _timed(
        phases, "load", lambda: data_stages.run_load(Path(source), WINDOW[0], True, settings)
    )
    snapshot = _timed(
        phases, "extract", lambda: data_stages.run_extract(*WINDOW, settings=settings)
    )
    try:
        checked = _timed(
            phases, "validate", lambda: data_stages.run_validate(snapshot.uri, settings)
        ).to_dict()
    except ValidationFailed as error:
        checked = {"failed": str(error)}
    total = sum(phases.values())
    return {
        "rows": load.rows,
        "seconds": phases,
        "total_seconds": round(total, 2),
        "rows_per_second": round(load.rows / total),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rows_quarantined": checked.get("rows_quarantined"),
        "validation_failed": checked.get("failed"),
    }


def run_backend(settings_json: str, source: Path) -> dict:
    command = [sys.executable, __file__, "--child", settings_json, str(source)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def print_table(results: dict) -> None:
    print(
        f"{'backend':<10} {'rows':>10} {'load s':>8} {'extract s':>10} {'validate s':>11}"
        f" {'rows/s':>9} {'peak MB':>8}"
    )
    for backend, r in results.items():
        s = r["seconds"]
        print(
            f"{backend:<10} {r['rows']:>10,} {s['load']:>8} {s['extract']:>10}"
            f" {s.get('validate', '-'):>11} {r['rows_per_second']:>9,} {r['peak_rss_mb']:>8}"
        )


def _settings_json(home: Path, **backend) -> str:
    from price_alchemy.settings import Settings

    return Settings(home=home, **backend).model_dump_json()


def _bigquery(rows: int, work: Path) -> dict:
    """The emulator path: the real client against the test suite's emulator on loopback."""
    sys.path.insert(0, str(ROOT / "tests"))
    from bigquery_emulator import start_emulator

    emulator = start_emulator(log_dir=work)
    try:
        backend = dict(
            warehouse="bigquery",
            bigquery_project=emulator.project,
            bigquery_endpoint=emulator.endpoint,
        )
        return run_backend(_settings_json(work / "bq", **backend), make_input(rows, work))
    finally:
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_500_000, help="rows for DuckDB")
    parser.add_argument("--bq-rows", type=int, default=100_000, help="rows for the emulator")
    parser.add_argument("--data", type=Path, help="a listings file instead of generated rows")
    parser.add_argument("--no-bigquery", action="store_true", help="skip the emulator run")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        source = args.data or make_input(args.rows, work)
        print(f"duckdb: load + extract + validate of {source.name} ...", flush=True)
        results["duckdb"] = run_backend(_settings_json(work / "duck"), source)
        if not args.no_bigquery:
            print(f"bigquery emulator: {args.bq_rows:,} rows ...", flush=True)
            results["bigquery"] = _bigquery(args.bq_rows, work)
    print_table(results)
    print(json.dumps(results))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(run_child(sys.argv[2], sys.argv[3])))
    else:
        main()
