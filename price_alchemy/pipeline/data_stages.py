"""Data stages with their I/O: load files into the warehouse, snapshot a window of it (for
training or monitoring), validate a snapshot. What DAG tasks and CLI commands call; they import
no MLflow or model library, so the tasks that run them start fast.
"""

from datetime import datetime
from pathlib import Path

from price_alchemy.data.backends import open_warehouse
from price_alchemy.data.extract import Snapshot, extract_window
from price_alchemy.data.load import LoadSummary, load_file
from price_alchemy.params import load_params
from price_alchemy.settings import Settings, get_settings
from price_alchemy.validation.profile import find_previous_profile
from price_alchemy.validation.validate import ValidationResult, validate_snapshot


def run_load(
    source: Path,
    loaded_at: datetime,
    replace: bool = False,
    settings: Settings | None = None,
    table: str | None = None,
) -> LoadSummary:
    """Load a TSV, CSV or Parquet file into a warehouse table (default: the listings)."""
    settings = settings or get_settings()
    warehouse = open_warehouse(settings, table)
    return load_file(warehouse, source, settings.home / "loads", loaded_at, replace)


def run_extract(start: datetime, end: datetime, settings: Settings | None = None) -> Snapshot:
    """Snapshot the window `[start, end)` of the warehouse among the training snapshots."""
    settings = settings or get_settings()
    return extract_window(open_warehouse(settings), start, end, settings.snapshots_dir)


def run_validate(snapshot_uri: str, settings: Settings | None = None) -> ValidationResult:
    """Validate a snapshot against its rules and the previous snapshot's profile: the clean,
    quarantine and report URIs, the row counts and each check's result."""
    settings = settings or get_settings()
    previous = find_previous_profile(settings.snapshots_dir, snapshot_uri)
    return validate_snapshot(snapshot_uri, load_params(settings.params_file).validation, previous)


def run_monitoring_extract(
    start: datetime, end: datetime, settings: Settings | None = None
) -> Snapshot:
    """Snapshot the window `[start, end)` into the monitoring folder (not among the training
    snapshots, whose profiles validation compares with)."""
    settings = settings or get_settings()
    return extract_window(open_warehouse(settings), start, end, settings.monitoring_dir)
