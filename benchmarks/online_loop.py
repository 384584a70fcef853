"""The online loop, simulated end to end: does live evidence pick the right model, and how many
sales does it need?

    python benchmarks/online_loop.py [--seeds 20] [--gap 0.03] [--step 500] [--max-listings 60000]

A champion and a challenger are trained on a demo market (the challenger with other
parameters, so their prices differ). For each seed and each world ("better": the challenger's
RMSLE is `--gap` below the champion's; "worse": `--gap` above), listings with ids go through
the running API (`price-alchemy serve`, a 50% split, a prediction log of its own), and their
sales are posted as outcomes `--step` listings at a time; after each step the online report and
the verdict (`online.min_listings` = `--min-listings`; its interval is the one valid at every
look, so looking after each step does not inflate the error) are computed, until the verdict is
promote or reject, or `--max-listings` listings sold.

The sale prices make the gap exact: with c and h the champion's and the challenger's log prices
of a listing (both computed offline), the better world draws log1p(sale) = h + e and the worse
c + e, with e ~ N(0, s) where s makes the worse model's RMSLE exceed the better one's by the
gap (s^2 = r^2 rms(h - c)^2 / (1 - r^2), r = 1 - gap). Prints, per world, how often the loop
decided right, wrong or not at all, and the sold listings it needed; the last line is JSON.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from price_alchemy.demo.generator import generate_listings
from price_alchemy.lifecycle.tracking import load_price_model, use_tracking
from price_alchemy.monitoring.online import experiment_verdict
from price_alchemy.pipeline.online_stage import run_online_report
from price_alchemy.schema import LISTING_FIELDS
from price_alchemy.settings import Settings

BIN = Path(sys.executable).parent
TOKEN = "loop-token"
sys.path.insert(0, str(Path(__file__).parent))
from serving import _free_port, _train_champion  # noqa: E402  (the serving benchmark's helpers)


def _with_challenger(settings: Settings) -> None:
    """A challenger trained on the same listings with another Ridge strength and fewer trees."""
    import mlflow

    from price_alchemy.lifecycle.tracking import ensure_experiment, log_price_model
    from price_alchemy.model.train import fit_model, split_listings
    from price_alchemy.params import apply_overrides, load_params

    client = use_tracking(settings)
    champion = client.get_model_version_by_alias(settings.model_name, "champion")
    clean = client.get_run(champion.run_id).data.tags["validation.clean_uri"]
    overrides = {"linear.alpha": 30.0, "model.n_estimators": 50}
    params = apply_overrides(load_params(settings.params_file), overrides)
    train, _ = split_listings(pd.read_parquet(clean), params.split)
    with mlflow.start_run(experiment_id=ensure_experiment(settings)):
        uri = log_price_model(fit_model(train, params), train)
    version = mlflow.register_model(uri, settings.model_name).version
    client.set_registered_model_alias(settings.model_name, "challenger", str(version))


def _prices(settings: Settings, listings: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """log1p of the champion's and the challenger's prices of `listings`."""
    name = settings.model_name
    use_tracking(settings)
    found = []
    for alias in ("champion", "challenger"):
        model = load_price_model(f"models:/{name}@{alias}")
        found.append(np.log1p(model.predict(listings[list(LISTING_FIELDS)])))
    return found[0], found[1]


def _sales(c: np.ndarray, h: np.ndarray, world: str, gap: float, seed: int) -> np.ndarray:
    r = 1 - gap
    spread = np.sqrt(np.mean((h - c) ** 2))
    s = r * spread / np.sqrt(1 - r**2)
    noise = np.random.default_rng(seed).normal(0, s, len(c))
    return np.expm1((h if world == "better" else c) + noise).astype(float)


def _serve(settings: Settings, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = os.environ | {
        "PRICE_ALCHEMY_HOME": str(settings.home),
        "PRICE_ALCHEMY_PREDICTION_LOG_URL": f"sqlite:///{log}",
        "PRICE_ALCHEMY_CHALLENGER_SHARE": "0.5",
        "PRICE_ALCHEMY_OUTCOMES_TOKEN": TOKEN,
        "PRICE_ALCHEMY_OUTCOMES_RATE": "10000",
        "PRICE_ALCHEMY_MODEL_POLL_SECONDS": "0",
    }
    server = subprocess.Popen(
        [str(BIN / "price-alchemy"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("the API did not become ready")


def _run(settings: Settings, listings: pd.DataFrame, sales: np.ndarray, args, log: Path) -> dict:
    """Price the listings through the API, then post their sales step by step until the
    verdict decides; the decision and the sold listings it needed."""
    server, url = _serve(settings, log)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        bodies = listings[[*LISTING_FIELDS, "listing_id"]].astype(object)
        bodies = bodies.where(bodies.notna(), None).to_dict("records")
        for first in range(0, len(bodies), 500):
            batch = {"listings": bodies[first : first + 500]}
            httpx.post(f"{url}/v1/price-suggestions", json=batch, timeout=60)
        logged = settings.model_copy(update={"prediction_log_url": f"sqlite:///{log}"})
        for sold in range(args.step, len(bodies) + 1, args.step):
            events = [
                {"listing_id": body["listing_id"], "event": "sold", "price": round(price, 2)}
                for body, price in zip(
                    bodies[sold - args.step : sold], sales[sold - args.step : sold], strict=True
                )
            ]
            httpx.post(f"{url}/v1/outcomes", json={"outcomes": events}, headers=auth, timeout=60)
            report = run_online_report(datetime.now(UTC), 1, logged)
            decision, _ = experiment_verdict(report.difference, args.min_listings)
            if decision != "wait":
                return {"decision": decision, "sold": sold}
        return {"decision": "wait", "sold": len(bodies)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.03)
    parser.add_argument("--step", type=int, default=500)
    parser.add_argument("--max-listings", type=int, default=60_000)
    parser.add_argument("--min-listings", type=int, default=200)
    parser.add_argument("--rows", type=int, default=30_000, help="demo listings to train on")
    args = parser.parse_args(argv)
    results: dict[str, list[dict]] = {"better": [], "worse": []}
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        print(f"training a champion and a challenger on {args.rows:,} listings", flush=True)
        settings = _train_champion(work / "home", args.rows)
        _with_challenger(settings)
        for seed in range(args.seeds):
            listings = generate_listings(args.max_listings, seed=1000 + seed).to_pandas()
            listings["listing_id"] = [f"s{seed}-{i}" for i in range(len(listings))]
            c, h = _prices(settings, listings)
            for world in results:
                sales = _sales(c, h, world, args.gap, seed)
                found = _run(settings, listings, sales, args, work / f"log-{world}-{seed}.db")
                results[world].append(found)
                decided = f"{found['decision']:<8} after {found['sold']:,} sold"
                print(f"seed {seed:>2} {world:<6} {decided}", flush=True)
    summary = {world: _summary(found, world) for world, found in results.items()}
    for world, s in summary.items():
        print(
            f"{world:<6}: right {s['right']}/{s['runs']}, wrong {s['wrong']},"
            f" undecided {s['undecided']}, sold listings to decide: median"
            f" {s['median_sold']}, max {s['max_sold']}"
        )
    print(json.dumps({"gap": args.gap, "seeds": args.seeds} | summary))
    return 0


def _summary(found: list[dict], world: str) -> dict:
    right = "promote" if world == "better" else "reject"
    decided = [f["sold"] for f in found if f["decision"] != "wait"]
    return {
        "runs": len(found),
        "right": sum(f["decision"] == right for f in found),
        "wrong": sum(f["decision"] not in (right, "wait") for f in found),
        "undecided": sum(f["decision"] == "wait" for f in found),
        "median_sold": int(np.median(decided)) if decided else None,
        "max_sold": max(decided) if decided else None,
    }


if __name__ == "__main__":
    sys.exit(main())
