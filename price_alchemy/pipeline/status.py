"""Status: where the system keeps its state and what it currently serves, as one dict; and every
model version with its status history and scores."""

from pathlib import Path

from price_alchemy.data.backends import open_warehouse
from price_alchemy.lifecycle import names
from price_alchemy.lifecycle.registry import champion_version, history_of
from price_alchemy.lifecycle.tracking import use_tracking
from price_alchemy.settings import Settings


def _store_exists(settings: Settings) -> bool:
    """False for an embedded sqlite store not created yet (so status creates nothing)."""
    if settings.mlflow_tracking_uri:
        return True
    return Path(settings.tracking_uri.removeprefix("sqlite:///")).exists()


def _champion(settings: Settings) -> dict | None:
    if not _store_exists(settings):
        return None
    client = use_tracking(settings)
    version = champion_version(client, settings.model_name)
    if version is None:
        return None
    metrics = client.get_run(version.run_id).data.metrics
    return {
        "name": settings.model_name,
        "version": str(version.version),
        "run_id": version.run_id,
        "rmsle": metrics.get(names.MODEL_RMSLE),
        "baseline_rmsle": metrics.get(names.BASELINE_RMSLE),
    }


def collect_status(settings: Settings) -> dict:
    """State locations, warehouse row count and the champion model (None when there is none)."""
    return {
        "home": str(settings.home),
        "warehouse": str(settings.warehouse_path),
        "warehouse_table": settings.warehouse_table,
        "warehouse_rows": open_warehouse(settings).count_rows(),
        "mlflow_tracking_uri": settings.tracking_uri,
        "airflow_home": str(settings.airflow_home),
        "snapshots": str(settings.snapshots_dir),
        "champion": _champion(settings),
    }


def list_models(settings: Settings) -> list[dict]:
    """Every version of the registered model, newest first: its status, since when and why,
    its aliases, its offline scores (its training run's held-out split) and its online ones
    (the latest online report that priced with it)."""
    if not _store_exists(settings):
        return []
    client = use_tracking(settings)
    online = _latest_online_metrics(client, settings)
    found = client.search_model_versions(f"name='{settings.model_name}'")
    numbers = sorted((int(v.version) for v in found), reverse=True)
    return [
        _describe(client, client.get_model_version(settings.model_name, str(n)), online)
        for n in numbers
    ]


def _describe(client, version, online: dict[str, float]) -> dict:
    history = history_of(version)
    metrics = client.get_run(version.run_id).data.metrics if version.run_id else {}
    label = f"v{version.version}_"
    return {
        "version": str(version.version),
        "status": version.tags.get(names.STATUS, "unknown"),
        "since": history[-1]["since"] if history else None,
        "reason": history[-1]["reason"] if history else None,
        "aliases": list(version.aliases),
        "offline_rmsle": metrics.get(names.MODEL_RMSLE),
        "online": {k.removeprefix("online_"): v for k, v in online.items() if label in k},
        "history": history,
    }


def _latest_online_metrics(client, settings: Settings) -> dict[str, float]:
    experiment = client.get_experiment_by_name(settings.monitoring_experiment)
    if experiment is None:
        return {}
    runs = client.search_runs(
        [experiment.experiment_id],
        f"tags.{names.KIND} = 'online'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return dict(runs[0].data.metrics) if runs else {}
