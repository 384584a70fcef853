"""Status: where the system keeps its state and what it currently serves, as one dict."""

from pathlib import Path

from price_alchemy.data.backends import open_warehouse
from price_alchemy.lifecycle import names
from price_alchemy.lifecycle.registry import champion_version
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
