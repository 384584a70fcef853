"""Small listings and model params for tests: a few hand-made rows, loading them into a
warehouse the way demo-data does, and the training window of the shared demo listings."""

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa

from price_alchemy.data.load import load_table
from price_alchemy.schema import LISTING_SCHEMA

SMALL_PARAMS = """
features:
  name_max_features: 3000
  description_max_features: 3000
  min_df: 2
model:
  top_k: 2000
  n_estimators: 60
  learning_rate: 0.2
  num_leaves: 31
blend:
  validation_size: 0.15
  min_validation_rows: 0  # weights from the split (test_blend.py covers the rest)
search:
  max_evals: 0
  sample_rows: 2000
"""
WINDOW = (datetime(2025, 1, 1), datetime(2026, 1, 1))
T0 = datetime(2025, 3, 1)


def tiny_listings(ids, created=None, **columns) -> pa.Table:
    """A few listings as an Arrow table: `created` defaults to hourly from T0; any column can
    be overridden with a list."""
    ids = list(ids)
    data = {
        "train_id": ids,
        "name": [f"item {i}" for i in ids],
        "item_condition_id": [1 + i % 5 for i in ids],
        "category_name": ["Women/Tops & Blouses/Blouse"] * len(ids),
        "brand_name": [None if i % 2 else "Nike" for i in ids],
        "price": [10.25 + i for i in ids],
        "shipping": [i % 2 for i in ids],
        "item_description": ["fine, \"quoted\" and 'quoted'"] * len(ids),
        "created_at": created or [T0 + timedelta(hours=i) for i in range(len(ids))],
    }
    return pa.table(data | columns, schema=LISTING_SCHEMA)


def put_listings(warehouse, listings: pa.Table, replace: bool = False) -> int:
    """Load an Arrow table of listings into `warehouse` the way demo-data does."""
    with tempfile.TemporaryDirectory() as work_dir:
        return load_table(warehouse, listings, Path(work_dir), replace)
