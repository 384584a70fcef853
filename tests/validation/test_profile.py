"""Tests for price_alchemy.validation.profile: the profile of a validated snapshot and finding the
previous snapshot's profile. The drift checks against that profile are exercised through
`assess_snapshot` and `validate_snapshot` in test_validate.py."""

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from price_alchemy.data.extract import window_key
from price_alchemy.errors import ActionRequired
from price_alchemy.validation.profile import build_profile, find_previous_profile


# --- the profile of a validated snapshot ---------------------------------------------------------
def test_profile_lists_every_category_and_brand_with_the_top_counted(small_listings) -> None:
    frame = small_listings.to_pandas()
    profile = build_profile(frame, top_n=3)
    assert set(profile["categories"]["values"]) == set(frame["category_name"].dropna())
    assert set(profile["brands"]["values"]) == set(frame["brand_name"].dropna())
    assert profile["categories"]["distinct"] == frame["category_name"].nunique()
    assert profile["categories"]["null_rows"] == frame["category_name"].isna().sum()
    top = frame["category_name"].value_counts().head(3)
    assert profile["categories"]["top"] == [[k, int(v)] for k, v in top.items()]
    assert profile["price_log1p"]["median"] == pytest.approx(np.median(np.log1p(frame["price"])))
    assert len(json.dumps(profile)) < 100_000


# --- finding the previous snapshot ---------------------------------------------------------------
def make_window(root: Path, start: datetime, end: datetime, profile: bool = True) -> Path:
    folder = root / window_key(start, end)
    folder.mkdir(parents=True)
    (folder / "listings.parquet").touch()
    if profile:
        (folder / "profile.json").write_text("{}")
    return folder


def day(month: int, year: int = 2025, **extra) -> datetime:
    return datetime(year, month, 1, **extra)


def test_finds_the_latest_window_ending_before_the_current_end(tmp_path: Path) -> None:
    make_window(tmp_path, day(1, 2024), day(1))
    wanted = make_window(tmp_path, day(2, 2024), day(2))
    make_window(tmp_path, day(1, 2024), day(2, microsecond=0) - timedelta(days=1))
    make_window(tmp_path, day(3, 2024), day(3), profile=False)
    make_window(tmp_path, day(3, 2024), day(4))  # ends with the current window: not before it
    current = make_window(tmp_path, day(4, 2024), day(4), profile=False)
    make_window(tmp_path, day(5, 2024), day(5))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "profile.json").write_text("{}")
    old = (wanted / "profile.json").stat().st_mtime - 3600
    os.utime(wanted / "profile.json", (old, old))  # mtime must not matter
    found = find_previous_profile(tmp_path, str(current / "listings.parquet"))
    assert found == wanted / "profile.json"


def test_windows_with_the_same_end_prefer_the_latest_start(tmp_path: Path) -> None:
    make_window(tmp_path, day(1, 2024), day(2))
    later_start = make_window(tmp_path, day(1, 2025), day(2))
    current = make_window(tmp_path, day(3, 2024), day(3))
    found = find_previous_profile(str(tmp_path), str(current / "listings.parquet"))
    assert found == later_start / "profile.json"


def test_window_keys_with_microseconds_are_parsed(tmp_path: Path) -> None:
    earlier = make_window(tmp_path, day(1), day(2, microsecond=250))
    current = make_window(tmp_path, day(1), day(2, microsecond=500))
    assert find_previous_profile(tmp_path, str(current / "x.parquet")) == earlier / "profile.json"


def test_no_previous_window_gives_none(tmp_path: Path) -> None:
    current = make_window(tmp_path, day(1), day(2))
    make_window(tmp_path, day(2), day(3))
    assert find_previous_profile(tmp_path, str(current / "listings.parquet")) is None
    assert find_previous_profile(tmp_path / "absent", str(current / "listings.parquet")) is None


def test_a_snapshot_outside_a_window_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ActionRequired, match="window directory"):
        find_previous_profile(tmp_path, str(tmp_path / "window" / "listings.parquet"))
