"""Online report at scale: the report over `--suggestions` logged suggestions and `--outcomes`
outcomes on the embedded sqlite store, and how fast the API takes outcomes in.

    python benchmarks/online_report.py [--suggestions 1000000] [--outcomes 1000000]
        [--ingest-seconds 10] [--concurrency 4]

1. Fills a fresh state directory's prediction log (`predictions`) with logged suggestions of
   two versions (a 50% split) of listings with ids, and `outcomes` with a sale per listing,
   written as the stores write them (bulk); registers the two versions as champion and
   challenger of an experiment that began 45 days ago (older than the report's 30 days, so its
   evidence is read on its own, the report's slowest case); then runs `run_online_report` in a
   child process and reports its seconds and peak RSS (targets: 60 s and 2 GB at 1M and 1M).
2. Starts `price-alchemy serve` with an outcomes token and posts 1,000-event requests from
   `--concurrency` clients for `--ingest-seconds`: events stored per second (target: 20,000).

Prints a table, then one JSON object as the last line.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from price_alchemy.data.prediction_store import open_prediction_store
from price_alchemy.settings import Settings

BIN = Path(sys.executable).parent
TOKEN = "benchmark-token"


def _fill(settings: Settings, suggestions: int, outcomes: int, now: datetime) -> None:
    """The log of `suggestions` answers over the last 20 days and `outcomes` sales."""
    store = open_prediction_store(settings)
    store.create()
    rng = np.random.default_rng(0)
    price = rng.uniform(5, 300, suggestions).round(2)
    ids = np.array([f"m-{i}" for i in range(suggestions)], dtype=object)
    challenger = rng.random(suggestions) < 0.5
    log = pd.DataFrame(
        {
            "request_id": ids,
            "position": 0,
            "name": "item",
            "item_condition_id": 2,
            "shipping": 1,
            "price": price,
            "low": price * 0.8,
            "high": price * 1.25,
            "currency": "USD",
            "model_name": "price-alchemy",
            "model_version": np.where(challenger, "2", "1"),
            "created_at": now - pd.to_timedelta(rng.uniform(0, 20, suggestions), unit="D"),
            "listing_id": ids,
            "arm": np.where(challenger, "challenger", "champion"),
            "served": 1,
            "traffic": "live",
        }
    )
    sold = pd.DataFrame(
        {
            "listing_id": ids[:outcomes],
            "event": "sold",
            "price": (price[:outcomes] * rng.lognormal(0, 0.4, len(ids[:outcomes]))).round(2),
            "occurred_at": now,
            "received_at": now,
        }
    )
    with store.engine.begin() as connection:  # the sqlite default
        log.to_sql("predictions", connection, if_exists="append", index=False, chunksize=50_000)
        sold.to_sql("outcomes", connection, if_exists="append", index=False, chunksize=50_000)
    store.close()


def _register(settings: Settings, began: datetime) -> None:
    """Versions 1 and 2 as champion and challenger since `began` (their status history)."""
    from price_alchemy.lifecycle.names import STATUS_HISTORY
    from price_alchemy.lifecycle.tracking import use_tracking

    client, name = use_tracking(settings), settings.model_name
    client.create_registered_model(name)
    for status in ("champion", "challenger"):
        version = client.create_model_version(name, f"file://{settings.home}/none").version
        client.set_registered_model_alias(name, status, version)
        history = [{"status": status, "since": began.isoformat(), "reason": "benchmark"}]
        client.set_model_version_tag(name, version, STATUS_HISTORY, json.dumps(history))


def run_child(settings_json: str) -> None:
    from price_alchemy.pipeline.online_stage import run_online_report

    settings = Settings.model_validate_json(settings_json)
    started = time.perf_counter()
    report = run_online_report(datetime.now(UTC), 30, settings)
    print(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - started, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "suggestions": report.suggestions,
                "with_sale": report.with_sale,
                "difference": report.difference,
            }
        )
    )


def _report(settings: Settings) -> dict:
    command = [sys.executable, __file__, "--child", settings.model_dump_json()]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _ingest(settings: Settings, seconds: float, concurrency: int) -> dict:
    port = _free_port()
    env = os.environ | {
        "PRICE_ALCHEMY_HOME": str(settings.home),
        "PRICE_ALCHEMY_OUTCOMES_TOKEN": TOKEN,
        "PRICE_ALCHEMY_OUTCOMES_RATE": "100000",
        "PRICE_ALCHEMY_MODEL_POLL_SECONDS": "0",
    }
    server = subprocess.Popen(
        [str(BIN / "price-alchemy"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, server)
        return _post_for(url, seconds, concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError("the API did not start")


def _post_for(url: str, seconds: float, concurrency: int) -> dict:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    deadline = time.monotonic() + seconds

    def client(worker: int) -> tuple[int, int]:
        stored = errors = 0
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            batch = 0
            while time.monotonic() < deadline and batch < 100_000:
                events = [
                    {"listing_id": f"w{worker}-{batch}-{i}", "event": "sold", "price": 10.0 + i}
                    for i in range(1000)
                ]
                answer = http.post("/v1/outcomes", json={"outcomes": events})
                stored += answer.json()["stored"] if answer.status_code == 200 else 0
                errors += answer.status_code != 200
                batch += 1
        return stored, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(client, range(concurrency)))
    elapsed = time.perf_counter() - started
    stored = sum(r[0] for r in results)
    return {
        "events": stored,
        "errors": sum(r[1] for r in results),
        "seconds": round(elapsed, 1),
        "events_per_second": round(stored / elapsed),
    }


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suggestions", type=int, default=1_000_000)
    parser.add_argument("--outcomes", type=int, default=1_000_000)
    parser.add_argument("--ingest-seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child)
        return 0
    with tempfile.TemporaryDirectory() as work:
        settings = Settings(home=Path(work) / "home")
        print(f"filling {args.suggestions:,} suggestions, {args.outcomes:,} outcomes", flush=True)
        started, now = time.perf_counter(), datetime.now(UTC).replace(tzinfo=None)
        _fill(settings, args.suggestions, args.outcomes, now - timedelta(minutes=1))
        _register(settings, now - timedelta(days=45))
        fill = round(time.perf_counter() - started, 1)
        report = _report(settings)
        intake = Settings(home=Path(work) / "ingest")
        ingest = _ingest(intake, args.ingest_seconds, args.concurrency)
    result = {"fill_seconds": fill, "report": report, "ingest": ingest}
    print(
        f"{'online report':<16} {report['seconds']:>6} s  peak RSS {report['peak_rss_mb']} MB"
        f"  ({report['suggestions']:,} suggestions, {report['with_sale']:,} with a sale)"
    )
    if report["difference"]:
        d = report["difference"]
        print(
            f"{'difference':<16} {d['difference']:+.4f} over {d['champion_listings']:,} and"
            f" {d['challenger_listings']:,} sold listings"
        )
    print(
        f"{'outcome intake':<16} {ingest['events_per_second']:>6,} events/s"
        f"  ({ingest['events']:,} in {ingest['seconds']} s, {ingest['errors']} errors)"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
