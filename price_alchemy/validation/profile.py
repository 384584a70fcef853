"""Snapshot profile: summarise the clean rows of a validated snapshot and judge the next batch
against that summary. `build_profile` returns the dict written as `profile.json` (the row count,
log1p(price) quantiles with their empirical CDF, every distinct category and brand with the most
common counted); the drift checks return one `CheckResult` each (row count ratio, median shift and
KS distance of log1p(price), shares of rows in unseen categories and brands), skipped when there is
no previous profile or no clean row; `find_previous_profile` returns the `profile.json` of the
window that ends latest before the current one, or None. `CheckResult` and its constructors live
here so that `price_alchemy.validation.validate` shares them without an import cycle.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from price_alchemy.errors import ActionRequired
from price_alchemy.params import ValidationParams

PROFILE_NAME = "profile.json"
QUANTILES = np.linspace(0.0, 1.0, 101)
DRIFT_CHECKS = (
    "row_count_ratio",
    "price_median_shift",
    "price_ks",
    "unseen_categories",
    "unseen_brands",
)


@dataclass(frozen=True)
class CheckResult:
    """One batch check: `status` is "passed", "failed" or "skipped"; `detail` says why in words
    and `numbers` holds the measured values and limits."""

    name: str
    status: str
    detail: str
    numbers: dict = field(default_factory=dict)


def check_passed(name: str, detail: str, **numbers) -> CheckResult:
    return CheckResult(name, "passed", detail, numbers)


def check_failed(name: str, detail: str, **numbers) -> CheckResult:
    return CheckResult(name, "failed", detail, numbers)


def check_judged(name: str, ok: bool, detail: str, **numbers) -> CheckResult:
    return CheckResult(name, "passed" if ok else "failed", detail, numbers)


def checks_skipped(names: tuple[str, ...], why: str) -> list[CheckResult]:
    return [CheckResult(name, "skipped", why) for name in names]


# --- the profile of a validated snapshot ----------------------------------------------------------
def build_profile(valid: pd.DataFrame, top_n: int) -> dict:
    """A compact summary of clean rows for the next snapshot to compare with: the row count,
    log1p(price) quantiles, and every distinct category and brand (with the top `top_n` counted)."""
    return {
        "rows": len(valid),
        "price_log1p": _price_profile(valid["price"]),
        "categories": _values_profile(valid["category_name"], top_n),
        "brands": _values_profile(valid["brand_name"], top_n),
    }


def _price_profile(price: pd.Series) -> dict | None:
    """Mean, std, median, 101 quantiles of log1p(price) and the empirical CDF at each quantile."""
    if price.empty:
        return None
    log_price = np.sort(np.log1p(price.to_numpy(dtype=float)))
    quantiles = np.round(np.quantile(log_price, QUANTILES), 6)
    cdf = np.searchsorted(log_price, quantiles, side="right") / len(log_price)
    return {
        "mean": round(float(log_price.mean()), 6),
        "std": round(float(log_price.std()), 6),
        "median": round(float(np.median(log_price)), 6),
        "quantiles": quantiles.tolist(),
        "cdf": [round(float(p), 6) for p in cdf],
    }


def _values_profile(values: pd.Series, top_n: int) -> dict:
    counts = values.value_counts()
    return {
        "distinct": len(counts),
        "null_rows": int(values.isna().sum()),
        "top": [[str(value), int(n)] for value, n in counts.head(top_n).items()],
        "values": sorted(str(value) for value in counts.index),
    }


# --- checks against the previous snapshot's profile -----------------------------------------------
def _row_count_check(rows: int, before: dict, params: ValidationParams) -> CheckResult:
    if not before.get("rows"):
        return checks_skipped(("row_count_ratio",), "the previous snapshot had no clean rows")[0]
    ratio = rows / before["rows"]
    low, high = params.min_row_ratio, params.max_row_ratio
    return check_judged(
        "row_count_ratio",
        low <= ratio <= high,
        f"{rows} clean rows vs {before['rows']} before: ratio {ratio:.3f},"
        f" allowed [{low:g}, {high:g}]",
        rows=rows,
        rows_before=before["rows"],
        ratio=ratio,
        min_ratio=low,
        max_ratio=high,
    )


def _price_checks(price: pd.Series, before: dict, params: ValidationParams) -> list[CheckResult]:
    """The median shift and the KS distance of log1p(price) from the previous profile's; the KS
    distance is measured at the previous snapshot's 101 quantiles."""
    previous = before.get("price_log1p")
    if not previous:
        return checks_skipped(
            ("price_median_shift", "price_ks"), "no prices in the previous profile"
        )
    log_price = np.sort(np.log1p(price.to_numpy(dtype=float)))
    median, limit = float(np.median(log_price)), params.max_median_log_price_shift
    shift = median - previous["median"]
    now = np.searchsorted(log_price, previous["quantiles"], side="right") / len(log_price)
    ks, ks_limit = float(np.max(np.abs(now - np.asarray(previous["cdf"])))), params.max_price_ks
    return [
        check_judged(
            "price_median_shift",
            abs(shift) <= limit,
            f"median log1p(price) moved {shift:+.3f} ({previous['median']:.3f} -> {median:.3f},"
            f" prices x{np.exp(shift):.2f}); limit {limit:g}",
            shift=shift,
            median=median,
            median_before=previous["median"],
            limit=limit,
        ),
        check_judged(
            "price_ks",
            ks <= ks_limit,
            f"KS distance of log1p(price) to the previous snapshot {ks:.3f}; limit {ks_limit:g}",
            ks=ks,
            limit=ks_limit,
        ),
    ]


def _unseen_check(name: str, values: pd.Series, before: dict | None, limit: float) -> CheckResult:
    """The share of rows whose (non-null) value the previous profile does not list."""
    if not before or before.get("values") is None:
        return checks_skipped((name,), "the previous profile lists no values")[0]
    unseen = values.notna() & ~values.isin(before["values"])
    rows, share = int(unseen.sum()), float(unseen.mean())
    new = values[unseen].value_counts()
    top = ", ".join(f"{value} ({n})" for value, n in new.head(3).items()) or "none"
    return check_judged(
        name,
        share <= limit,
        f"{rows} of {len(values)} rows ({share:.1%}) have a value the previous snapshot lacks"
        f" ({len(new)} new values; most common: {top}); limit {limit:.1%}",
        rows=rows,
        share=share,
        new_values=len(new),
        limit=limit,
    )


def drift_checks(
    valid: pd.DataFrame, before: dict | None, params: ValidationParams
) -> list[CheckResult]:
    if before is None:
        return checks_skipped(DRIFT_CHECKS, "no previous snapshot profile to compare with")
    if valid.empty:
        return checks_skipped(DRIFT_CHECKS, "no clean rows to compare")
    return [
        _row_count_check(len(valid), before, params),
        *_price_checks(valid["price"], before, params),
        _unseen_check(
            "unseen_categories",
            valid["category_name"],
            before.get("categories"),
            params.max_unseen_category_share,
        ),
        _unseen_check(
            "unseen_brands",
            valid["brand_name"],
            before.get("brands"),
            params.max_unseen_brand_share,
        ),
    ]


# --- finding the previous snapshot ---------------------------------------------------------------
def _parse_stamp(text: str) -> datetime | None:
    for layout in ("%Y%m%dT%H%M%S.%f", "%Y%m%dT%H%M%S"):
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    return None


def parse_window_key(key: str) -> tuple[datetime, datetime] | None:
    """(start, end) of a directory name made by `extract.window_key`, or None if it is not one."""
    start, _, end = key.partition("_")
    first, last = _parse_stamp(start), _parse_stamp(end)
    return None if first is None or last is None else (first, last)


def find_previous_profile(snapshots_dir: Path | str, current_snapshot_uri: str) -> Path | None:
    """The `profile.json` of the snapshot whose window ends latest strictly before the current
    window's end (ties: the latest start), or None when there is none."""
    current = parse_window_key(Path(current_snapshot_uri).parent.name)
    if current is None:
        raise ActionRequired(
            f"{current_snapshot_uri} is not inside a <start>_<end> window directory: validate"
            " a snapshot that `price-alchemy extract` wrote"
        )
    found = []
    for profile in Path(snapshots_dir).glob(f"*/{PROFILE_NAME}"):
        window = parse_window_key(profile.parent.name)
        if window is not None and window[1] < current[1]:
            found.append(((window[1], window[0]), profile))
    return max(found)[1] if found else None


def read_profile(previous_profile: Path | str | None) -> dict | None:
    return None if previous_profile is None else json.loads(Path(previous_profile).read_text())
