"""Serving speed: our API against `mlflow models serve` of the same model, same machine, same run.

    python benchmarks/serving.py [--home STATE_DIR] [--rows 100000] [--seconds 20] [--experiment]

With `--baseline-code DIR` (a checkout of the code before a change, e.g. `git worktree add
/tmp/before HEAD~3`): the API of that code serving a model trained by that code, against ours
serving one trained by ours on the same listings, in turn for `--rounds` rounds; each figure the
median over rounds, each ratio to "before" the median of the rounds' own ratios.

Every run of our API also measures `"explain": true`: one listing at concurrency 1, and one
request of 100 listings.

With `--experiment`: our API alone, from the registry, with a live experiment off, split 0.5
and shadow, side by side (the cost of the second model; see the README's Online evaluation):
`--rounds` rounds, each serving the three in turn, so that the machine's noise falls on all
three alike; each figure is the median over rounds (errors: their sum), and each ratio to
"off" the median of the rounds' own ratios.

The model: the champion of `--home` (e.g. after `make demo`), or else one trained here by the
pipeline's own stages on `--rows` demo listings. It is exported (`export-model`) and served
twice on loopback: by `price-alchemy serve` (from the exported directory) and by
`mlflow models serve --env-manager local` (its MLflow model). A load generator in a second
process (`load_generator.py`, bounded by count and time) measures single-listing latency at
concurrency 1 and 32 and the latency of one 1,000-listing request, with the share of CPU time
the hypervisor stole from this VM meanwhile (steal bursts stall every request in flight and
show in p99). Prints a table, then one JSON object as the last line:
{"ours": {...}, "mlflow": {...}, "throughput_ratio": ...}.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx

from price_alchemy.demo.generator import generate_listings
from price_alchemy.lifecycle.export import export_model
from price_alchemy.lifecycle.tracking import use_tracking
from price_alchemy.schema import LISTING_FIELDS
from price_alchemy.settings import Settings

BIN = Path(sys.executable).parent
GENERATOR = Path(__file__).with_name("load_generator.py")
RUNS = {"c1": (1, 400), "c32": (32, 4000)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def train_champion(home: Path, rows: int) -> Settings:
    """A champion trained by the pipeline's stages on `rows` demo listings."""
    from price_alchemy.data.backends import open_warehouse
    from price_alchemy.data.load import load_table
    from price_alchemy.pipeline import data_stages, model_stages

    settings = Settings(home=home)
    listings = generate_listings(rows, seed=11)
    load_table(open_warehouse(settings), listings, home / "loads", True)
    start = listings["created_at"][0].as_py()
    end = listings["created_at"][-1].as_py() + timedelta(seconds=1)
    snapshot = data_stages.run_extract(start, end, settings)
    validation = data_stages.run_validate(snapshot.uri, settings)
    run_id = model_stages.run_train(validation, snapshot, settings=settings)
    evaluation = model_stages.run_evaluate(run_id, validation, settings)
    model_stages.run_register(evaluation, validation, "force", settings)
    return settings


@contextmanager
def _server(command: list[str], env: dict, ready_url: str, log: Path, cwd: Path | None = None):
    """A server process until ready; stopped by PID (SIGTERM, then SIGKILL) afterwards."""
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out, cwd=cwd)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not become ready; see {log}")
            time.sleep(0.5)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _load(url: str, body: Path, concurrency: int, requests: int, seconds: float) -> dict:
    command = [sys.executable, str(GENERATOR), "--url", url, "--body", str(body)]
    command += ["--concurrency", str(concurrency), "--requests", str(requests)]
    command += ["--seconds", str(seconds)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _measure(url: str, single: Path, batch: Path, seconds: float, scale: int = 1) -> dict:
    """Latency and throughput of one server; `scale` times the requests of each run."""
    _load(url, single, 4, 200, seconds)  # warm-up
    figures = {name: _load(url, single, c, n * scale, seconds) for name, (c, n) in RUNS.items()}
    batch_run = _load(url, batch, 1, 5, seconds * 3)
    return figures | {"batch1000_ms": batch_run["p50_ms"], "batch1000_errors": batch_run["errors"]}


def _measure_explain(url: str, bodies: dict, seconds: float) -> dict:
    """`"explain": true`: one listing at concurrency 1, and one request of 100 listings."""
    _load(url, bodies["explain_single"], 1, 20, seconds)  # warm-up
    single = _load(url, bodies["explain_single"], 1, 300, seconds)
    batch = _load(url, bodies["explain_batch100"], 1, 10, seconds)
    return {
        "explain_c1": single,
        "explain_batch100_ms": batch["p50_ms"],
        "explain_batch100_max_ms": batch["max_ms"],
        "explain_errors": single["errors"] + batch["errors"],
    }


def _bodies(folder: Path, listings: list[dict]) -> dict[str, Path]:
    bodies = {
        "ours_single": {"listings": listings[:1]},
        "ours_batch": {"listings": listings[:1000]},
        "mlflow_single": {"dataframe_records": listings[:1]},
        "mlflow_batch": {"dataframe_records": listings[:1000]},
        "explain_single": {"listings": listings[:1], "explain": True},
        "explain_batch100": {"listings": listings[:100], "explain": True},
    }
    paths = {}
    for name, body in bodies.items():
        paths[name] = folder / f"{name}.json"
        paths[name].write_text(json.dumps(body))
    return paths


def _sample_listings(rows: int = 1000) -> list[dict]:
    frame = generate_listings(rows, seed=99).to_pandas()[list(LISTING_FIELDS)]
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")


def _table(results: dict) -> str:
    lines = [
        f"{'server':<8} {'run':<6} {'rps':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}"
        f" {'steal %':>8}"
    ]
    for server in ("ours", "mlflow"):
        for run in RUNS:
            r = results[server][run]
            lines.append(
                f"{server:<8} {run:<6} {r['rps']:>9.1f} {r['p50_ms']:>9.2f} {r['p99_ms']:>9.2f}"
                f" {r['errors']:>7} {r['steal_pct'] if r['steal_pct'] is not None else '-':>8}"
            )
        lines.append(f"{server:<8} batch1000 p50 {results[server]['batch1000_ms']:.1f} ms")
    lines.append(_explain_line("ours", results["ours"]))
    return "\n".join(lines)


def _explain_line(name: str, r: dict) -> str:
    single = r["explain_c1"]
    return (
        f"{name:<8} explain: 1 listing p50 {single['p50_ms']:.2f} ms, p99 {single['p99_ms']:.2f}"
        f" ms; 100 listings {r['explain_batch100_ms']:.1f} ms; errors {r['explain_errors']}"
    )


EXPERIMENTS = {  # the API's experiment settings, off first
    "off": {},
    "split 0.5": {"PRICE_ALCHEMY_CHALLENGER_SHARE": "0.5"},
    "shadow": {"PRICE_ALCHEMY_EXPERIMENT_MODE": "shadow"},
}


def _with_challenger(settings: Settings) -> None:
    """The champion's model registered again as the challenger (the same prices: what is
    measured is the cost of pricing with two models)."""
    client = use_tracking(settings)
    champion = client.get_model_version_by_alias(settings.model_name, "champion")
    source = f"models:/{settings.model_name}/{champion.version}"
    version = client.create_model_version(settings.model_name, source, champion.run_id).version
    client.set_registered_model_alias(settings.model_name, "challenger", str(version))


def _experiments(settings: Settings, work: Path, bodies: dict, seconds: float, rounds: int):
    """Our API served from the registry with the experiment off, split and shadow, in turn,
    `rounds` times: per experiment, the median of each figure over rounds (and the c32 rps
    of every round)."""
    _with_challenger(settings)
    env = os.environ | {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PRICE_ALCHEMY_HOME": str(settings.home),
        "PRICE_ALCHEMY_PREDICTION_LOG_URL": f"sqlite:///{work / 'experiment.db'}",
        "PRICE_ALCHEMY_MODEL_POLL_SECONDS": "0",
    }
    found: dict[str, list[dict]] = {name: [] for name in EXPERIMENTS}
    for round_ in range(rounds):
        for name, experiment in EXPERIMENTS.items():
            print(f"round {round_ + 1}/{rounds}: {name} ...", flush=True)
            port = _free_port()
            command = [str(BIN / "price-alchemy"), "serve", "--port", str(port)]
            ready = f"http://127.0.0.1:{port}/readyz"
            with _server(command, env | experiment, ready, work / f"{name}.log"):
                url = f"http://127.0.0.1:{port}/v1/price-suggestions"
                single, batch = bodies["ours_single"], bodies["ours_batch"]
                found[name].append(_measure(url, single, batch, seconds, scale=4))
    results = {name: _median_figures(runs) for name, runs in found.items()}
    for name in EXPERIMENTS:
        pairs = list(zip(found[name], found["off"], strict=True))  # each round against its off
        for figure in ("rps", "p99_ms"):
            ratios = [run["c32"][figure] / off["c32"][figure] for run, off in pairs]
            results[name][f"c32_{figure.removesuffix('_ms')}_vs_off"] = round(
                statistics.median(ratios), 3
            )
        results[name]["c32_rps_rounds"] = [run["c32"]["rps"] for run in found[name]]
    return results


def _train_with(code: Path, home: Path, rows: int) -> None:
    """A champion trained by the code in `code` (its own benchmark's `_train_champion`) in a
    process of its own, which imports that code's package first."""
    script = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import serving;"
        " serving.train_champion(Path(sys.argv[2]), int(sys.argv[3]))"
    )
    command = [sys.executable, "-c", script, str(code / "benchmarks"), str(home), str(rows)]
    subprocess.run(command, env=os.environ | {"PYTHONPATH": str(code)}, cwd=code, check=True)


def _exported(home: Path, out: Path) -> Path:
    settings = Settings(home=home)
    export_model(use_tracking(settings), settings.model_name, "champion", out)
    return out


def _against_baseline(code: Path, work: Path, bodies: dict, rows: int, args) -> dict:
    """The API of the code in `code` (before) and ours (now), each serving a model its own code
    trained on the same listings, in turn for `args.rounds` rounds."""
    print(f"training a champion on {rows:,} demo listings with {code} ...", flush=True)
    _train_with(code, work / "before_home", rows)
    print(f"training a champion on {rows:,} demo listings with this code ...", flush=True)
    train_champion(work / "now_home", rows)
    models = {
        "before": _exported(work / "before_home", work / "before_model"),
        "now": _exported(work / "now_home", work / "now_model"),
    }
    found: dict[str, list[dict]] = {"before": [], "now": []}
    for round_ in range(args.rounds):
        for name, model in models.items():
            print(f"round {round_ + 1}/{args.rounds}: {name} ...", flush=True)
            env = os.environ | {
                "PRICE_ALCHEMY_HOME": str(work / f"serving_{name}"),
                "PRICE_ALCHEMY_MODEL_DIR": str(model),
                "PRICE_ALCHEMY_MODEL_POLL_SECONDS": "0",
            }
            cwd = None
            if name == "before":  # its package imported first (the current directory too)
                env["PYTHONPATH"], cwd = str(code), code
            port = _free_port()
            command = [str(BIN / "price-alchemy"), "serve", "--port", str(port)]
            ready = f"http://127.0.0.1:{port}/readyz"
            with _server(command, env, ready, work / f"{name}.log", cwd):
                url = f"http://127.0.0.1:{port}/v1/price-suggestions"
                figures = _measure(url, bodies["ours_single"], bodies["ours_batch"], args.seconds)
                if name == "now":
                    figures |= _measure_explain(url, bodies, args.seconds)
                found[name].append(figures)
    results = {name: _median_figures(runs) for name, runs in found.items()}
    pairs = list(zip(found["now"], found["before"], strict=True))
    for figure in ("rps", "p99_ms"):
        ratios = [now["c32"][figure] / before["c32"][figure] for now, before in pairs]
        results[f"c32_{figure.removesuffix('_ms')}_now_vs_before"] = round(
            statistics.median(ratios), 3
        )
    return results


def _baseline_table(results: dict) -> str:
    lines = [
        f"{'code':<7} {'c1 rps':>7} {'c1 p50':>7} {'c1 p99':>7} {'c32 rps':>8} {'c32 p99':>8}"
        f" {'batch1000':>10} {'errors':>7}"
    ]
    for name in ("before", "now"):
        r = results[name]
        errors = r["c1"]["errors"] + r["c32"]["errors"] + r["batch1000_errors"]
        lines.append(
            f"{name:<7} {r['c1']['rps']:>7.1f} {r['c1']['p50_ms']:>7.2f} {r['c1']['p99_ms']:>7.2f}"
            f" {r['c32']['rps']:>8.1f} {r['c32']['p99_ms']:>8.2f} {r['batch1000_ms']:>8.1f}ms"
            f" {errors:>7}"
        )
    lines.append(
        f"now / before at c32: throughput {results['c32_rps_now_vs_before']:.3f},"
        f" p99 {results['c32_p99_now_vs_before']:.3f}"
    )
    lines.append(_explain_line("now", results["now"]))
    return "\n".join(lines)


def _median_figures(runs: list[dict]) -> dict:
    """The median over runs of every number in the figures (nested one level); errors are
    summed, so that an error in any round shows."""
    median = {}
    for key, value in runs[0].items():
        if isinstance(value, dict):
            median[key] = _median_figures([run[key] for run in runs])
        elif "errors" in key:
            median[key] = sum(run[key] for run in runs)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            median[key] = round(statistics.median(run[key] for run in runs), 3)
        else:
            median[key] = value
    return median


def _experiment_table(results: dict) -> str:
    lines = [
        f"{'experiment':<10} {'c1 p50':>8} {'c32 rps':>9} {'c32 p99':>8} {'rps/off':>8}"
        f" {'p99/off':>8} {'batch1000':>10}  c32 rps by round"
    ]
    for name, r in results.items():
        lines.append(
            f"{name:<10} {r['c1']['p50_ms']:>8.2f} {r['c32']['rps']:>9.1f}"
            f" {r['c32']['p99_ms']:>8.2f} {r['c32_rps_vs_off']:>8.3f} {r['c32_p99_vs_off']:>8.3f}"
            f" {r['batch1000_ms']:>9.1f}ms  {', '.join(f'{x:.0f}' for x in r['c32_rps_rounds'])}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, help="a state directory with a champion")
    parser.add_argument("--rows", type=int, default=100_000, help="demo listings to train on")
    parser.add_argument("--seconds", type=float, default=20.0, help="time bound per run")
    parser.add_argument(
        "--experiment",
        action="store_true",
        help="instead: our API with a live experiment off, split 0.5 and shadow (the champion"
        " registered again as challenger; the home's registry gains that version)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="with --experiment or --baseline-code: rounds of the servers in turn",
    )
    parser.add_argument(
        "--baseline-code",
        type=Path,
        help="instead: a checkout of the code before (e.g. a git worktree) against this code,"
        " each serving a model it trained on --rows listings",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        if args.home:
            settings = Settings(home=args.home)
        else:
            print(f"training a champion on {args.rows:,} demo listings ...", flush=True)
            settings = train_champion(work / "home", args.rows)
        bodies = _bodies(work, _sample_listings())
        if args.baseline_code:
            found = _against_baseline(args.baseline_code.resolve(), work, bodies, args.rows, args)
            print(_baseline_table(found))
            print(json.dumps(found))
            return 0
        if args.experiment:
            found = _experiments(settings, work, bodies, args.seconds, args.rounds)
            print(_experiment_table(found))
            print(json.dumps(found))
            return 0
        info = export_model(use_tracking(settings), settings.model_name, "champion", work / "model")
        print(f"serving {info.name} v{info.version}", flush=True)
        env = os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        ours_env = env | {
            "PRICE_ALCHEMY_HOME": str(work / "serving"),
            "PRICE_ALCHEMY_MODEL_DIR": str(work / "model"),
            "PRICE_ALCHEMY_MODEL_POLL_SECONDS": "0",
        }
        results = {}
        port = _free_port()
        ours = [str(BIN / "price-alchemy"), "serve", "--port", str(port)]
        with _server(ours, ours_env, f"http://127.0.0.1:{port}/readyz", work / "ours.log"):
            url = f"http://127.0.0.1:{port}/v1/price-suggestions"
            results["ours"] = _measure(
                url, bodies["ours_single"], bodies["ours_batch"], args.seconds
            ) | _measure_explain(url, bodies, args.seconds)
        port = _free_port()
        mlflow = [str(BIN / "mlflow"), "models", "serve", "-m", str(work / "model" / "model")]
        mlflow += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
        mlflow_env = env | {"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}
        with _server(mlflow, mlflow_env, f"http://127.0.0.1:{port}/ping", work / "mlflow.log"):
            url = f"http://127.0.0.1:{port}/invocations"
            single, batch = bodies["mlflow_single"], bodies["mlflow_batch"]
            results["mlflow"] = _measure(url, single, batch, args.seconds)
    results["throughput_ratio"] = round(
        results["ours"]["c32"]["rps"] / results["mlflow"]["c32"]["rps"], 2
    )
    print(_table(results))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
