"""Data stages with their I/O: load files into the warehouse, snapshot a window of it (for
training or monitoring), validate a snapshot. What DAG tasks and CLI commands call; they import
no MLflow or model library, so the tasks that run them start fast.
"""

from datetime import datetime
from pathlib import Path

from price_alchemy.extract import extract_window
from price_alchemy.load import load_file
from price_alchemy.params import load_params
from price_alchemy.settings import Settings, get_settings
from price_alchemy.snapshot_profile import find_previous_profile
from price_alchemy.validate import validate_snapshot
from price_alchemy.warehouse import open_warehouse


def run_load(
    source: Path, loaded_at: datetime, replace: bool = False, settings: Settings | None = None
) -> dict:
    """Load a TSV, CSV or Parquet file of listings into the warehouse; returns the summary."""
    settings = settings or get_settings()
    warehouse = open_warehouse(settings)
    summary = load_file(warehouse, source, settings.home / "loads", loaded_at, replace)
    return summary.to_dict() | {"warehouse": warehouse.describe()}


def run_extract(start: datetime, end: datetime, settings: Settings | None = None) -> dict:
    """Snapshot the window `[start, end)` of the warehouse; returns the snapshot record."""
    settings = settings or get_settings()
    snapshot = extract_window(open_warehouse(settings), start, end, settings.snapshots_dir)
    return snapshot.to_dict()


def run_validate(snapshot_uri: str, settings: Settings | None = None) -> dict:
    """Validate a snapshot against its rules and the previous snapshot's profile; returns the
    clean, quarantine and report URIs, the row counts and each check's result."""
    settings = settings or get_settings()
    previous = find_previous_profile(settings.snapshots_dir, snapshot_uri)
    return validate_snapshot(
        snapshot_uri, load_params(settings.params_file).validation, previous
    ).to_dict()


def run_monitoring_extract(
    start: datetime, end: datetime, settings: Settings | None = None
) -> dict:
    """Snapshot the window `[start, end)` into the monitoring folder (not among the training
    snapshots, whose profiles validation compares with); returns the snapshot record."""
    settings = settings or get_settings()
    warehouse = open_warehouse(settings)
    return extract_window(warehouse, start, end, settings.monitoring_dir).to_dict()
