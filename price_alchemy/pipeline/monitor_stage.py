"""The monitoring stage with its I/O: what the monitoring DAG's `measure` task calls.

`run_monitor` takes a window's snapshot (from `data_stages.run_monitoring_extract`) and keeps
its clean rows (the validation row rules; bad rows are counted, not judged). It compares what
the champion priced in the window (the served suggestions of the prediction log, when it has
enough; else the window's new listings) with a sample of the champion's training split, and
scores the champion on the window's realized prices
(`price_alchemy.monitoring.checks`), writes the report beside the snapshot and logs it, the
thresholds and every measure to the MLflow experiment `price-alchemy-monitoring`. It returns
whether to retrain and why (`MonitorOutcome`), small enough for an XCom.
"""

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import mlflow
import pandas as pd

from price_alchemy.data.extract import Snapshot
from price_alchemy.data.prediction_store import read_served
from price_alchemy.errors import ActionRequired
from price_alchemy.lifecycle import names
from price_alchemy.lifecycle.registry import champion_version
from price_alchemy.lifecycle.tracking import (
    code_version_tags,
    ensure_experiment,
    load_price_model,
    use_tracking,
)
from price_alchemy.model.train import sample_listings, split_listings
from price_alchemy.monitoring.checks import assess_window
from price_alchemy.monitoring.report import write_monitoring_report
from price_alchemy.monitoring.served import live_served_listings
from price_alchemy.params import Params, apply_overrides, load_params
from price_alchemy.pipeline.alerts import send_alert
from price_alchemy.records import Record
from price_alchemy.schema import LISTING_FIELDS
from price_alchemy.settings import Settings, get_settings
from price_alchemy.validation.validate import split_valid_rows


class MonitoringError(ActionRequired):
    """The window cannot be judged for a reason a person must fix."""


@dataclass(frozen=True)
class MonitorOutcome(Record):
    """Whether the window calls for retraining and why, where the report is, which run."""

    retrain: bool
    reason: str
    reasons: list[str]
    status: str  # "retrain", "no drift" or "skipped"
    report_uri: str
    mlflow_run_id: str
    champion_version: str | None


def monitoring_params(settings: Settings, thresholds: dict | None = None) -> Params:
    """The params file with the given `monitoring` values (None: keep the file's) put in."""
    overrides = {f"monitoring.{k}": v for k, v in (thresholds or {}).items() if v is not None}
    return apply_overrides(load_params(settings.params_file), overrides)


def _champion(client, settings: Settings) -> dict | None:
    version = champion_version(client, settings.model_name)
    if version is None:
        return None
    run = client.get_run(version.run_id)
    return {
        "name": settings.model_name,
        "version": str(version.version),
        "run_id": version.run_id,
        "training_rmsle": run.data.metrics[names.MODEL_RMSLE],
        "clean_uri": run.data.tags[names.CLEAN_URI],
    }


def _reference(champion: dict, params: Params) -> pd.DataFrame:
    """A seeded sample of the champion's training split."""
    path = Path(champion["clean_uri"])
    if not path.exists():
        raise MonitoringError(
            f"the champion's training listings {path} are gone: monitoring compares with them;"
            " restore the snapshot or train a new champion"
        )
    train, _ = split_listings(pd.read_parquet(path), params.split)
    return sample_listings(train, params.monitoring.reference_rows, params.split.seed)


def _skip_reason(champion: dict | None, rows: int, min_rows: int) -> str | None:
    if champion is None:
        return "no champion model yet: the training DAG makes the first one"
    if rows < min_rows:
        return f"{rows} clean listings in the window, fewer than min_rows {min_rows}"
    return None


def _served(settings: Settings, snapshot: Snapshot, min_rows: int):
    """The distinct live listings the API served in the window, when there are at least
    `min_rows` (else None), with a description of what drift was measured on."""
    start, end = datetime.fromisoformat(snapshot.start), datetime.fromisoformat(snapshot.end)
    log = read_served(settings, start, end)
    served = None if log is None else live_served_listings(log)
    if served is not None and len(served) >= min_rows:
        return served, f"new listings, and {len(served)} live listings served (each once)"
    count = 0 if served is None else len(served)
    return None, f"new listings only ({count} live listings served, fewer than {min_rows})"


def _judge(
    settings: Settings, snapshot: Snapshot, current: pd.DataFrame, champion: dict, params: Params
) -> tuple[dict, pd.DataFrame]:
    reference = _reference(champion, params)
    model = load_price_model(f"models:/{champion['name']}/{champion['version']}")
    predicted = model.predict(current[list(LISTING_FIELDS)])
    served, source = _served(settings, snapshot, params.monitoring.min_rows)
    findings = assess_window(
        reference, current, predicted, champion["training_rmsle"], params.monitoring, served
    )
    return findings | {"inputs": source}, reference


def _metrics(report: dict) -> dict[str, float]:
    metrics = {"rows": report["rows"], "retrain": float(report["retrain"])}
    if report["status"] == "skipped":
        return metrics
    metrics |= _drift_metrics(report, "")
    if report.get("served"):
        metrics |= _drift_metrics(report["served"], "served_") | {
            "served_rows": report["served"]["rows"]
        }
    model = report["model"]
    return metrics | {
        "window_rmsle": model["window_rmsle"],
        "training_rmsle": model["training_rmsle"],
        "rmsle_ratio": model["ratio"],
    }


def _drift_metrics(found: dict, prefix: str) -> dict[str, float]:
    metrics = {}
    for drift in found["features"]:
        metrics[f"{prefix}psi_{drift['feature']}"] = drift["psi"]
        if drift["ks"] is not None:
            metrics[f"{prefix}ks_{drift['feature']}"] = drift["ks"]
    for name, unseen in found["unseen"].items():
        metrics[f"{prefix}unseen_{name}_share"] = unseen["share"]
    metrics[f"{prefix}vocabulary_shift"] = found["vocabulary"]["shift"]
    return metrics


def run_monitor(
    snapshot: Snapshot, thresholds: dict | None = None, settings: Settings | None = None
) -> MonitorOutcome:
    """Judge the window snapshot against the champion, log the report to MLflow and say
    whether to retrain. `thresholds` overrides values of the params file's `monitoring`
    section."""
    settings = settings or get_settings()
    params = monitoring_params(settings, thresholds)
    client = use_tracking(settings)
    champion = _champion(client, settings)
    frame = pd.read_parquet(snapshot.uri)
    current, quarantined = (
        split_valid_rows(frame, params.validation) if len(frame) else (frame, frame)
    )
    report = {
        "window": {"start": snapshot.start, "end": snapshot.end},
        "snapshot_uri": snapshot.uri,
        "champion": {k: v for k, v in (champion or {}).items() if k != "clean_uri"},
        "thresholds": params.monitoring.model_dump(),
        "rows": len(current),
        "rows_quarantined": len(quarantined),
        "retrain": False,
        "reasons": [],
    }
    skipped = _skip_reason(champion, len(current), params.monitoring.min_rows)
    reference = None
    if skipped or champion is None:
        report |= {"status": "skipped", "skipped_reason": skipped}
    else:
        findings, reference = _judge(settings, snapshot, current, champion, params)
        report |= findings | {"status": "retrain" if findings["retrain"] else "no drift"}
    outcome = _log_report(settings, report, reference, current)
    if outcome.retrain:
        _alert_retrain(settings, report, outcome)
    return outcome


def _alert_retrain(settings: Settings, report: dict, outcome: MonitorOutcome) -> None:
    """Tell people that the window calls for retraining and why (once per window)."""
    window = f"{report['window']['start']} to {report['window']['end']}"
    body = "\n".join([f"Window {window}: retraining.", *outcome.reasons, outcome.report_uri])
    send_alert(
        settings,
        f"retrain:{report['window']['end']}",
        "Price Alchemy: the market moved, retraining",
        body,
    )


def _log_report(settings, report: dict, reference, current) -> MonitorOutcome:
    out_dir = Path(report["snapshot_uri"]).parent
    tags = code_version_tags() | {
        names.KIND: "monitoring",
        "window.start": report["window"]["start"],
        "window.end": report["window"]["end"],
        "status": report["status"],
        "champion.version": report["champion"].get("version", ""),
    }
    experiment = ensure_experiment(settings, settings.monitoring_experiment)
    name = f"monitor {report['window']['start'][:10]} .. {report['window']['end'][:10]}"
    with mlflow.start_run(experiment_id=experiment, run_name=name, tags=tags) as run:
        report["mlflow_run_id"] = run.info.run_id
        report["generated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        mlflow.log_params({f"monitoring.{k}": v for k, v in report["thresholds"].items()})
        mlflow.log_metrics(_metrics(report))
        if report["reasons"]:
            mlflow.set_tag("reasons", "; ".join(report["reasons"])[:8000])
        write_monitoring_report(report, out_dir, reference, current)
        for name in ("report.json", "report.html", "drift_scores.png", "price_distribution.png"):
            if (out_dir / name).exists():
                mlflow.log_artifact(str(out_dir / name), artifact_path="monitoring")
    return MonitorOutcome(
        retrain=report["retrain"],
        reason="; ".join(report["reasons"])[:4000],
        reasons=report["reasons"],
        status=report["status"],
        report_uri=str(out_dir / "report.html"),
        mlflow_run_id=report["mlflow_run_id"],
        champion_version=report["champion"].get("version"),
    )
