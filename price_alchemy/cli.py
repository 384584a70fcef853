"""The `price-alchemy` command line: demo data, status, serving and Airflow with our settings."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from price_alchemy.settings import get_settings

app = typer.Typer(
    help="Price Alchemy: price suggestions for second-hand listings.",
    no_args_is_help=True,
    add_completion=False,
)
warehouse_app = typer.Typer(help="Load listings into the warehouse.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _report(result: dict, as_json: bool) -> None:
    """Print a stage's summary as JSON, or as aligned lines a person reads (a line per check)."""
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    for key, value in result.items():
        if key == "checks":
            for check in value:
                typer.echo(f"check {check['name']:<19} {check['status']:<8} {check['detail']}")
        elif isinstance(value, dict):
            typer.echo(f"{key:<20} " + (", ".join(f"{k}: {v}" for k, v in value.items()) or "-"))
        else:
            typer.echo(f"{key:<20} {value}")


EXIT_ACTION_REQUIRED = 1
EXIT_TEMPORARY = 75  # EX_TEMPFAIL: try again later


def _run_stage(stage, *args):
    """Call a stage. The errors of the package's family print as one line: a person must act
    (exit 1) or it may pass (exit 75); anything else is a bug and shows its traceback."""
    from price_alchemy.errors import ActionRequired, Transient

    try:
        return stage(*args)
    except ActionRequired as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_ACTION_REQUIRED) from error
    except Transient as error:
        typer.echo(f"temporary failure, try again later: {error}", err=True)
        raise typer.Exit(EXIT_TEMPORARY) from error


def _today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)


@app.command("demo-data")
def demo_data(
    rows: Annotated[int, typer.Option(min=10, help="Listings to generate.")] = 200_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same rows.")] = 0,
    end: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="created_at ends before this day [today, UTC]."),
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="created_at spans this many days.")] = 365,
    append: Annotated[
        bool,
        typer.Option(
            help="Append instead of replacing the table; train_id continues after its row count."
        ),
    ] = False,
    drift: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Market drift from 0 (none) to 1: trending categories and brands, inflation.",
        ),
    ] = 0.0,
    active: Annotated[
        int,
        typer.Option(
            min=0,
            help="Also replace the live listings table (PRICE_ALCHEMY_ACTIVE_TABLE) with this"
            " many live listings of the same market, to re-price.",
        ),
    ] = 0,
) -> None:
    """Write realistic Mercari-schema demo listings into the warehouse table (and, with
    --active, live listings into the live listings table)."""
    from price_alchemy.data.backends import open_warehouse
    from price_alchemy.data.load import load_table
    from price_alchemy.demo.generator import active_listings, generate_listings

    settings = get_settings()
    started = time.perf_counter()
    drifted = f", drift {drift:g}" if drift > 0 else ""
    typer.echo(f"generating {rows:,} listings (seed {seed}{drifted}) ...")
    warehouse = _run_stage(open_warehouse, settings)
    first_id = warehouse.count_rows() if append else 0
    listings = generate_listings(
        rows, seed=seed, end=end or _today(), days=days, id_offset=first_id, drift=drift
    )
    written = _run_stage(load_table, warehouse, listings, settings.home / "loads", not append)
    typer.echo(
        f"wrote {written:,} listings to {warehouse.describe()}"
        f" in {time.perf_counter() - started:.1f}s"
    )
    if active:
        live = _run_stage(open_warehouse, settings, settings.active_table)
        table = active_listings(active, seed=seed + 1, end=end or _today())
        written = _run_stage(load_table, live, table, settings.home / "loads", True)
        typer.echo(f"wrote {written:,} live listings to {live.describe()}")


@warehouse_app.command("load")
def warehouse_load(
    file: Annotated[Path, typer.Argument(help="A .tsv, .csv or .parquet file of listings.")],
    replace: Annotated[bool, typer.Option(help="Replace the table instead of appending.")] = False,
    table: Annotated[
        str | None,
        typer.Option(
            help="The warehouse table: the listings (default, PRICE_ALCHEMY_WAREHOUSE_TABLE) or"
            " the live listings (PRICE_ALCHEMY_ACTIVE_TABLE, default active_listings)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Load a file into a warehouse table (created when missing) of its schema.

    Every row is loaded: values that cannot be read as their type are loaded as null and
    counted, and validation judges the rows later. A file without the table's timestamp
    column (created_at, listed_at) gets the load time.
    """
    from price_alchemy.pipeline.data_stages import run_load

    started = time.perf_counter()
    summary = _run_stage(run_load, file, _now(), replace, None, table).to_dict()
    _report(summary | {"seconds": round(time.perf_counter() - started, 1)}, as_json)


@app.command()
def extract(
    start: Annotated[datetime, typer.Option(formats=DATE_FORMATS, help="Window start (UTC).")],
    end: Annotated[datetime, typer.Option(formats=DATE_FORMATS, help="Window end, excluded.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Snapshot the listings with start <= created_at < end into a Parquet file."""
    from price_alchemy.pipeline.data_stages import run_extract

    _report(_run_stage(run_extract, start, end).to_dict(), as_json)


@app.command()
def validate(
    snapshot: Annotated[Path, typer.Argument(help="A snapshot's listings.parquet.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Validate a snapshot: clean rows kept, bad rows quarantined with reasons, a report."""
    from price_alchemy.pipeline.data_stages import run_validate

    if not snapshot.exists():
        typer.echo(f"error: no such snapshot: {snapshot}", err=True)
        raise typer.Exit(EXIT_ACTION_REQUIRED)
    _report(_run_stage(run_validate, str(snapshot)).to_dict(), as_json)


@app.command()
def reproduce(
    run_id: Annotated[str, typer.Argument(help="The MLflow run id of a training run.")],
    tolerance: Annotated[float, typer.Option(min=0, help="Largest accepted RMSLE gap.")] = 1e-6,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Retrain a run from its snapshot and parameters and check its test RMSLE; exit 1 when
    the reproduced RMSLE differs from the logged one by more than the tolerance."""
    from price_alchemy.pipeline.model_stages import run_reproduce

    typer.echo(f"retraining run {run_id} from its snapshot and parameters ...", err=True)
    result = _run_stage(run_reproduce, run_id, tolerance)
    _report(result.to_dict(), as_json)
    if not result.matches:
        raise typer.Exit(EXIT_ACTION_REQUIRED)


@app.command("online-report")
def online_report(
    days: Annotated[
        int | None,
        typer.Option(
            min=1, help="Suggestions logged in the last DAYS days (UTC) [params online.days]."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """How the suggestions of each model version fared once their listings sold: RMSLE, MAE,
    range coverage and acceptance per version and arm, and the challenger's RMSLE minus the
    champion's with a 95% interval; the report is written under the state directory and logged
    to MLflow. Sales arrive late: a suggestion whose listing has not sold yet is counted among
    the suggestions only."""
    from price_alchemy.pipeline.online_stage import run_online_report

    report = _run_stage(run_online_report, _now(), days).to_dict()
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    for key in ("start", "end", "suggestions", "with_sale", "report_uri", "mlflow_run_id"):
        typer.echo(f"{key:<20} {report[key]}")
    for v in report["versions"]:
        rmsle = "-" if v["rmsle"] is None else f"{v['rmsle']:.4f}"
        shadow = "" if v["served"] else " (shadow)"
        typer.echo(
            f"version {v['model_version']:<4} {v['arm']}{shadow}: {v['suggestions']} suggestions,"
            f" {v['with_sale']} sold, RMSLE {rmsle}"
        )
    difference = report["difference"]
    if difference is not None:
        typer.echo(
            f"challenger - champion RMSLE {difference['difference']:+.4f}"
            f" (95% {difference['low']:+.4f} .. {difference['high']:+.4f}; valid at every look,"
            f" which decides: {difference['anytime_low']:+.4f}"
            f" .. {difference['anytime_high']:+.4f})"
        )


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show where state lives, the warehouse row count and the champion model."""
    from price_alchemy.pipeline.status import collect_status

    report = _run_stage(collect_status, get_settings())
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    champion = report.pop("champion")
    for key, value in report.items():
        typer.echo(f"{key:<20} {value}")
    if champion is None:
        typer.echo(f"{'champion':<20} none yet: run the training DAG")
    else:
        typer.echo(
            f"{'champion':<20} {champion['name']} v{champion['version']}"
            f" RMSLE {champion['rmsle']:.4f} (baseline {champion['baseline_rmsle']:.4f})"
        )


@app.command()
def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every version of the registered model: its status (champion, challenger, retired), since
    when and why, its aliases, and its offline and online RMSLE."""
    from price_alchemy.pipeline.status import list_models

    versions = _run_stage(list_models, get_settings())
    if as_json:
        typer.echo(json.dumps(versions, indent=2, default=str))
        return
    if not versions:
        typer.echo("no registered version yet: run the training DAG")
    for v in versions:
        offline = "-" if v["offline_rmsle"] is None else f"{v['offline_rmsle']:.4f}"
        online = ", ".join(f"{k} {val:.4g}" for k, val in v["online"].items() if "rmsle" in k)
        typer.echo(
            f"v{v['version']:<4} {v['status']:<10} since {v['since'] or '-'}"
            f"  offline RMSLE {offline}  online {online or '-'}  ({v['reason'] or ''})"
        )


@app.command("export-model")
def export_model(
    alias: Annotated[str, typer.Option(help="Registry alias of the version to export.")] = (
        "champion"
    ),
    out: Annotated[Path, typer.Option(help="Directory to write (replaced).")] = Path(
        "models/champion"
    ),
) -> None:
    """Write a registered model version to a directory the API serves without MLflow
    (set PRICE_ALCHEMY_MODEL_DIR to it): the MLflow model in model/, its description in
    model.json."""
    from price_alchemy.lifecycle.export import export_model as export
    from price_alchemy.lifecycle.tracking import use_tracking

    settings = get_settings()
    info = _run_stage(export, use_tracking(settings), settings.model_name, alias, out)
    typer.echo(f"exported {info.name} v{info.version} ({alias}) to {out}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the champion model over HTTP (POST /v1/price-suggestions)."""
    import uvicorn

    from price_alchemy.serving.app import create_app

    settings = get_settings()
    uvicorn.run(create_app(settings), host=host, port=port, access_log=settings.access_log)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def airflow(ctx: typer.Context) -> None:
    """Run the Airflow CLI with this project's Airflow home, DAGs and settings.

    Example: price-alchemy airflow dags test price_alchemy_training
    """
    from price_alchemy.orchestration.airflow_env import airflow_environment

    env = airflow_environment(get_settings())
    command = [os.path.join(os.path.dirname(sys.executable), "airflow"), *ctx.args]
    raise typer.Exit(subprocess.call(command, env=env))


@app.command("airflow-ui")
def airflow_ui(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the Airflow UI/API.")] = 8080,
) -> None:
    """Run Airflow's API server (UI), scheduler, DAG processor and triggerer until Ctrl-C.

    Local use only: every user of the UI is an admin. Logs go to the state directory.
    """
    from price_alchemy.orchestration.airflow_services import (
        start_services,
        stop_services,
        wait_healthy,
    )

    settings = get_settings()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the services on SIGTERM too
    processes = start_services(settings, port, settings.logs_dir / "airflow")
    try:
        wait_healthy(port, processes=processes)
        typer.echo(f"Airflow UI on http://127.0.0.1:{port} (logs: {settings.logs_dir / 'airflow'})")
        typer.echo("Ctrl-C stops it.")
        while all(process.poll() is None for process in processes):
            time.sleep(1)
        typer.echo("an Airflow service exited; stopping the others", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop_services(processes)
