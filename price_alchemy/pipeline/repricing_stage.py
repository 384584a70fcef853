"""Re-pricing: price every live listing with the champion, in streamed batches, and write the
run's suggestions to the warehouse.

The live listings (`PRICE_ALCHEMY_ACTIVE_TABLE`) are read in batches of
`PRICE_ALCHEMY_REPRICING_BATCH_ROWS`; each batch is judged by the row rules of the fields a
seller types (`split_priceable_rows`: the same rules training applies); the listings that pass
are priced by the champion through the served path the API uses (`fast_predict_range` under
`checks_off`, rounded to the cent by `in_cents`), so batch and online prices never disagree.
A listing that fails a rule, or repeats an id already priced in the run, or has no id, is
skipped with its reasons. Suggestions and skipped listings are written to Parquet files as they
come (memory stays bounded), then each goes into its warehouse table in one MERGE (on BigQuery
from a staging table a load job filled): a rerun of a run replaces its rows, never doubles them.
"""

import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from price_alchemy.data.backends import open_warehouse
from price_alchemy.errors import ActionRequired
from price_alchemy.lifecycle.export import describe_version
from price_alchemy.lifecycle.tracking import load_price_model, use_tracking
from price_alchemy.model.served_predict import SAMPLE_LISTINGS, checks_off, fast_predict_range
from price_alchemy.params import load_params
from price_alchemy.records import Record
from price_alchemy.schema import LISTING_FIELDS, SKIPPED_SCHEMA, SUGGESTION_SCHEMA, in_cents
from price_alchemy.settings import Settings, get_settings
from price_alchemy.validation.validate import split_priceable_rows

log = logging.getLogger(__name__)


@dataclass
class Repricing(Record):
    """What one re-pricing run did."""

    run_id: str
    model_name: str
    model_version: str
    listings: int
    priced: int
    skipped: int
    suggestions_table: str
    skipped_table: str
    seconds: float


@dataclass(frozen=True)
class _Champion:
    name: str
    version: str
    predict_range: Callable  # (price, low, high) of listings as a dict of column lists


def _champion(settings: Settings) -> _Champion:
    try:
        info = describe_version(use_tracking(settings), settings.model_name, settings.model_alias)
    except ActionRequired as error:
        raise ActionRequired(f"no model to re-price with: {error}") from error
    model = load_price_model(info.source)
    return _Champion(info.name, info.version, fast_predict_range(model, SAMPLE_LISTINGS))


def _ids_checked(frame: pd.DataFrame, seen: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows with a new listing id, the rest as text with `reasons`); `seen` grows. Both keep
    the `read_order` column."""
    ids = frame["listing_id"].astype("string").str.strip()
    missing = ids.isna() | (ids == "")
    repeated = ids.duplicated() | ids.isin(seen)
    bad = missing | repeated
    reasons = np.where(missing, "listing_id: missing", "listing_id: repeated in the run")
    seen.update(ids[~bad].tolist())
    skipped = frame[bad].astype("string").assign(reasons=reasons[bad.to_numpy()])
    return frame[~bad].assign(listing_id=ids[~bad]), skipped


def _suggestions(valid: pd.DataFrame, champion: _Champion, run_id: str, at: datetime):
    columns = {field: valid[field].tolist() for field in LISTING_FIELDS}
    with checks_off():
        price, low, high = champion.predict_range(columns)
    price, low, high = ([in_cents(v) for v in np.asarray(a).tolist()] for a in (price, low, high))
    listed = pd.to_numeric(valid["listed_price"], errors="coerce").to_numpy(float)
    frame = pd.DataFrame(
        {
            "listing_id": valid["listing_id"].to_numpy(),
            "price": price,
            "low": low,
            "high": high,
            "model_name": champion.name,
            "model_version": champion.version,
            "run_id": run_id,
            "scored_at": pd.Timestamp(at),
            "gap": listed / np.asarray(price) - 1,
        }
    )
    return pa.Table.from_pandas(frame, schema=SUGGESTION_SCHEMA, preserve_index=False)


def _skipped(rows: pd.DataFrame, run_id: str, at: datetime) -> pa.Table:
    frame = pd.DataFrame(
        {
            "listing_id": rows["listing_id"].astype(object).to_numpy(),
            "run_id": run_id,
            "read_order": rows["read_order"].astype("int64").to_numpy(),
            "reasons": rows["reasons"].astype(str).to_numpy(),
            "checked_at": pd.Timestamp(at),
        }
    )
    return pa.Table.from_pandas(frame, schema=SKIPPED_SCHEMA, preserve_index=False)


def _batches(settings: Settings) -> Iterator[pd.DataFrame]:
    active = open_warehouse(settings, settings.active_table)
    for batch in active.read_all(settings.repricing_batch_rows):
        yield batch.to_pandas()


def run_repricing(run_id: str, settings: Settings | None = None) -> Repricing:
    """Price every live listing with the champion; the run's suggestions and skipped listings
    replace any the run wrote before."""
    settings = settings or get_settings()
    started, at = time.perf_counter(), datetime.now(UTC).replace(tzinfo=None)
    champion, rules = _champion(settings), load_params(settings.params_file).validation
    counts, seen = {"listings": 0, "priced": 0, "skipped": 0}, set[str]()
    with tempfile.TemporaryDirectory(dir=_work_dir(settings)) as folder:
        paths = Path(folder) / "suggestions.parquet", Path(folder) / "skipped.parquet"
        with (
            pq.ParquetWriter(paths[0], SUGGESTION_SCHEMA) as priced,
            pq.ParquetWriter(paths[1], SKIPPED_SCHEMA) as skipped,
        ):
            for frame in _batches(settings):
                frame["read_order"] = np.arange(len(frame)) + counts["listings"]
                with_ids, no_id = _ids_checked(frame, seen)
                valid, invalid = split_priceable_rows(with_ids, rules)
                if len(valid):
                    priced.write_table(_suggestions(valid, champion, run_id, at))
                for rows in (no_id, invalid):
                    skipped.write_table(_skipped(rows, run_id, at))
                counts["listings"] += len(frame)
                counts["priced"] += len(valid)
                counts["skipped"] += len(no_id) + len(invalid)
                log.info("re-pricing: %d listings read, %d priced", *list(counts.values())[:2])
        written = _merge(settings, run_id, paths)
    if written != (counts["priced"], counts["skipped"]):
        raise RuntimeError(f"the warehouse holds {written} rows of the run, not {counts}")
    return Repricing(
        run_id,
        champion.name,
        champion.version,
        **counts,
        suggestions_table=settings.suggestions_table,
        skipped_table=settings.skipped_table,
        seconds=round(time.perf_counter() - started, 1),
    )


def _work_dir(settings: Settings) -> Path:
    folder = settings.home / "repricing"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _merge(settings: Settings, run_id: str, paths: tuple[Path, Path]) -> tuple[int, int]:
    """The run's suggestions and skipped listings into their tables; their rows of the run."""
    suggestions = open_warehouse(settings, settings.suggestions_table).merge_run(paths[0], run_id)
    skipped = open_warehouse(settings, settings.skipped_table).merge_run(paths[1], run_id)
    return suggestions, skipped
