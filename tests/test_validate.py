"""Tests for price_alchemy.validate: row rules, quarantine reasons and batch-level failures."""

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from price_alchemy.params import ValidationParams
from price_alchemy.validate import (
    REQUIRED_COLUMNS,
    ValidationFailed,
    split_valid_rows,
    validate_snapshot,
)

PARAMS = ValidationParams(max_bad_share=0.05, price_cap=1000.0)
LENIENT = ValidationParams(max_bad_share=1.0, price_cap=1000.0)
BAD_ROW = 3


def good_frame(n: int = 10) -> pd.DataFrame:
    """`n` valid listings typed like a snapshot read from Parquet."""
    return pd.DataFrame(
        {
            "train_id": np.arange(n, dtype="int64"),
            "name": [f"item {i}" for i in range(n)],
            "item_condition_id": np.array([1 + i % 5 for i in range(n)], dtype="int64"),
            "category_name": ["Women/Tops & Blouses/Blouse"] * n,
            "brand_name": ["Nike"] * n,
            "price": np.linspace(5.0, 50.0, n),
            "shipping": np.array([i % 2 for i in range(n)], dtype="int64"),
            "item_description": ["good condition"] * n,
            "created_at": pd.Series(
                [datetime(2025, 3, 1) + timedelta(hours=i) for i in range(n)],
                dtype="datetime64[us]",
            ),
        }
    )


def with_value(frame: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    frame = frame.copy()
    if column in ("item_condition_id", "shipping", "train_id", "price"):
        frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return frame


def quarantined_ids(quarantined: pd.DataFrame) -> list[int]:
    return sorted(int(i) for i in quarantined["train_id"])


def reasons_of(quarantined: pd.DataFrame, train_id: int) -> str:
    matches = quarantined.loc[quarantined["train_id"] == str(train_id), "reasons"]
    assert len(matches) == 1, matches
    return matches.iloc[0]


def write_snapshot(tmp_path: Path, frame: pd.DataFrame) -> str:
    path = tmp_path / "window" / "listings.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return str(path)


# --- batch-level failures ------------------------------------------------------------------------
@pytest.mark.parametrize("column", ["price", "name", "created_at"])
def test_missing_column_is_named(column: str) -> None:
    with pytest.raises(ValidationFailed, match=f"missing columns: {column}"):
        split_valid_rows(good_frame().drop(columns=column), PARAMS)


def test_missing_column_mentions_unexpected_columns() -> None:
    frame = good_frame().rename(columns={"price": "cost"})
    with pytest.raises(ValidationFailed, match="unexpected columns present: cost"):
        split_valid_rows(frame, PARAMS)


def test_empty_frame_fails() -> None:
    with pytest.raises(ValidationFailed, match="no rows"):
        split_valid_rows(good_frame().iloc[0:0], PARAMS)


def test_empty_snapshot_fails(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="no rows"):
        validate_snapshot(write_snapshot(tmp_path, good_frame().iloc[0:0]), PARAMS)


# --- the happy path ------------------------------------------------------------------------------
def test_all_good_rows_pass_unchanged() -> None:
    frame = good_frame()
    valid, quarantined = split_valid_rows(frame, PARAMS)
    assert quarantined.empty
    assert list(valid.columns) == list(REQUIRED_COLUMNS)
    pd.testing.assert_frame_equal(valid, frame, check_dtype=False)


def test_extra_columns_are_dropped_and_index_reset() -> None:
    frame = good_frame().assign(extra="x")
    frame.index = frame.index + 100
    valid, quarantined = split_valid_rows(frame, PARAMS)
    assert list(valid.columns) == list(REQUIRED_COLUMNS)
    assert list(valid.index) == list(range(10)) and quarantined.empty


@pytest.mark.parametrize("column", ["brand_name", "item_description", "category_name"])
@pytest.mark.parametrize("missing", [None, np.nan])
def test_null_optional_columns_are_fine(column: str, missing) -> None:
    frame = good_frame()
    frame[column] = frame[column].astype(object)
    frame.loc[BAD_ROW, column] = missing
    valid, quarantined = split_valid_rows(frame, PARAMS)
    assert quarantined.empty
    assert len(valid) == 10
    assert valid[column].isna().sum() == 1 and pd.isna(valid.loc[BAD_ROW, column])


def test_category_with_more_than_three_levels_passes() -> None:
    frame = with_value(
        good_frame(), BAD_ROW, "category_name", "Electronics/Computers & Tablets/iPad/Tablet"
    )
    assert split_valid_rows(frame, PARAMS)[1].empty


# --- one rule at a time --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("item_condition_id", 0, "item_condition_id: isin"),
        ("item_condition_id", 6, "item_condition_id: isin"),
        ("item_condition_id", -1, "item_condition_id: isin"),
        ("item_condition_id", 2.5, "item_condition_id: isin"),
        ("shipping", 2, "shipping: isin"),
        ("shipping", -1, "shipping: isin"),
        ("price", 0.0, "price: greater_than(0)"),
        ("price", -5.0, "price: greater_than(0)"),
        ("price", 1000.0, "price: less_than(1000.0)"),
        ("price", 5000.0, "price: less_than(1000.0)"),
        ("price", None, "price: not_nullable"),
        ("train_id", 1.5, "train_id: whole_number"),
        ("name", None, "name: not_nullable"),
        ("name", "", "name: str_contains"),
        ("name", "   \t", "name: str_contains"),
        ("category_name", "Women>Tops>Blouse", "category_name: str_matches"),
        ("category_name", "Women/Tops", "category_name: str_matches"),
        ("category_name", "Women//Blouse", "category_name: str_matches"),
        ("category_name", "/Women/Tops/Blouse", "category_name: str_matches"),
        ("created_at", None, "created_at: not_nullable"),
    ],
)
def test_each_rule_quarantines_exactly_the_bad_row(column: str, value, reason: str) -> None:
    frame = with_value(good_frame(), BAD_ROW, column, value)
    valid, quarantined = split_valid_rows(frame, PARAMS)
    assert len(quarantined) == 1, quarantined
    assert len(valid) == 9
    row = quarantined.iloc[0]
    assert reason in row["reasons"], row["reasons"]
    assert sorted(valid["train_id"]) == [i for i in range(10) if i != BAD_ROW]


def test_price_just_below_cap_passes() -> None:
    frame = with_value(good_frame(), BAD_ROW, "price", 999.99)
    assert split_valid_rows(frame, PARAMS)[1].empty


def test_duplicated_train_id_quarantines_both_twins() -> None:
    frame = with_value(good_frame(), 7, "train_id", 2)
    valid, quarantined = split_valid_rows(frame, PARAMS)
    assert quarantined_ids(quarantined) == [2, 2]
    assert set(quarantined["reasons"]) == {"train_id: field_uniqueness"}
    assert sorted(valid["train_id"]) == [0, 1, 3, 4, 5, 6, 8, 9]
    assert sorted(quarantined["name"]) == ["item 2", "item 7"]


def test_wrong_types_are_quarantined_as_not_a_number() -> None:
    frame = good_frame().astype({"price": object, "item_condition_id": object})
    frame.loc[2, "price"] = "abc"
    frame.loc[5, "item_condition_id"] = "x"
    frame.loc[6, "price"] = "12.5"  # a number in a string is fine
    valid, quarantined = split_valid_rows(frame, PARAMS)
    assert quarantined_ids(quarantined) == [2, 5]
    assert "price: not a number" in reasons_of(quarantined, 2)
    assert "item_condition_id: not a number" in reasons_of(quarantined, 5)
    assert quarantined.loc[quarantined["train_id"] == "2", "price"].iloc[0] == "abc"
    assert len(valid) == 8
    assert valid["price"].dtype == "float64" and valid["item_condition_id"].dtype == "int64"


def test_unparseable_timestamp_is_quarantined() -> None:
    frame = good_frame().astype({"created_at": object})
    frame.loc[4, "created_at"] = "not a date"
    frame.loc[5, "created_at"] = "2025-03-02 10:00:00"
    _, quarantined = split_valid_rows(frame, PARAMS)
    assert quarantined_ids(quarantined) == [4]
    assert "created_at: not a timestamp" in reasons_of(quarantined, 4)


def test_row_with_several_faults_lists_all_of_them() -> None:
    frame = good_frame()
    frame = with_value(frame, BAD_ROW, "item_condition_id", 9)
    frame = with_value(frame, BAD_ROW, "shipping", 3)
    frame = with_value(frame, BAD_ROW, "price", -1.0)
    frame = with_value(frame, BAD_ROW, "category_name", "Women")
    valid, quarantined = split_valid_rows(frame, PARAMS)
    assert quarantined_ids(quarantined) == [BAD_ROW] and len(valid) == 9
    reasons = reasons_of(quarantined, BAD_ROW).split("; ")
    for expected in (
        "item_condition_id: isin",
        "shipping: isin",
        "price: greater_than",
        "category",
    ):
        assert any(r.startswith(expected) for r in reasons), (expected, reasons)
    assert len(reasons) == 4


# --- invariants ----------------------------------------------------------------------------------
CORRUPTIONS = [
    ("item_condition_id", 0),
    ("item_condition_id", 7),
    ("shipping", 5),
    ("price", 0.0),
    ("price", -3.0),
    ("price", 1e6),
    ("price", "abc"),
    ("name", None),
    ("name", "  "),
    ("category_name", "Women>Tops>Blouse"),
    ("category_name", "Women/Tops"),
]


@pytest.mark.parametrize("seed", range(12))
def test_rows_in_equals_passed_plus_quarantined(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = good_frame(40).astype(
        {"price": object, "item_condition_id": object, "shipping": object}
    )
    bad = sorted(rng.choice(40, size=rng.integers(0, 15), replace=False).tolist())
    for row in bad:
        for pick in rng.choice(len(CORRUPTIONS), size=rng.integers(1, 3), replace=False):
            column, value = CORRUPTIONS[pick]
            frame.loc[row, column] = value
    valid, quarantined = split_valid_rows(frame, PARAMS)
    assert len(valid) + len(quarantined) == len(frame)
    assert quarantined_ids(quarantined) == bad
    assert sorted(valid["train_id"]) == sorted(set(range(40)) - set(bad))
    assert quarantined["reasons"].str.len().gt(0).all()


def test_validate_snapshot_writes_clean_and_quarantine(tmp_path: Path) -> None:
    frame = with_value(good_frame(), BAD_ROW, "shipping", 2)
    uri = write_snapshot(tmp_path, frame)
    result = validate_snapshot(uri, LENIENT)
    assert (result.rows_in, result.rows_passed, result.rows_quarantined) == (10, 9, 1)
    assert result.rows_in == result.rows_passed + result.rows_quarantined
    assert result.reason_counts == {"shipping: isin([0, 1])": 1}
    assert Path(result.clean_uri) == Path(uri).with_name("clean.parquet")
    assert Path(result.quarantine_uri) == Path(uri).with_name("quarantine.parquet")
    clean = pd.read_parquet(result.clean_uri)
    assert len(clean) == 9
    assert clean["train_id"].dtype == "int64"
    assert clean["item_condition_id"].dtype == "int64"
    assert clean["shipping"].dtype == "int64"
    assert clean["price"].dtype == "float64"
    assert str(clean["created_at"].dtype).startswith("datetime64")
    quarantine = pd.read_parquet(result.quarantine_uri)
    assert {"train_id", "reasons"} <= set(quarantine.columns)
    assert quarantine["train_id"].tolist() == [str(BAD_ROW)]
    assert result.to_dict()["rows_quarantined"] == 1


def test_validate_snapshot_counts_reasons(tmp_path: Path) -> None:
    frame = with_value(good_frame(), 1, "shipping", 2)
    frame = with_value(frame, 2, "shipping", 3)
    frame = with_value(frame, 2, "price", -1.0)
    result = validate_snapshot(write_snapshot(tmp_path, frame), LENIENT)
    assert result.reason_counts == {"shipping: isin([0, 1])": 2, "price: greater_than(0)": 1}


def test_all_rows_bad_fails_with_share_and_limit(tmp_path: Path) -> None:
    frame = good_frame().assign(shipping=7)
    uri = write_snapshot(tmp_path, frame)
    with pytest.raises(ValidationFailed) as raised:
        validate_snapshot(uri, PARAMS)
    message = str(raised.value)
    assert "10 of 10 rows (100.0%)" in message
    assert "5.0% limit" in message
    assert "shipping: isin([0, 1]) (10)" in message
    quarantine = Path(uri).with_name("quarantine.parquet")
    assert str(quarantine) in message
    assert quarantine.exists()
    assert len(pd.read_parquet(quarantine)) == 10


def test_bad_share_at_the_limit_passes_and_above_fails(tmp_path: Path) -> None:
    params = ValidationParams(max_bad_share=0.1, price_cap=1000.0)
    one_bad = with_value(good_frame(), 1, "shipping", 2)
    result = validate_snapshot(write_snapshot(tmp_path / "a", one_bad), params)
    assert result.rows_quarantined == 1
    two_bad = with_value(one_bad, 2, "shipping", 2)
    with pytest.raises(ValidationFailed, match=r"20\.0%"):
        validate_snapshot(write_snapshot(tmp_path / "b", two_bad), params)


def test_validates_a_real_snapshot(tmp_path: Path, small_listings) -> None:
    uri = write_snapshot(tmp_path, small_listings.to_pandas())
    result = validate_snapshot(uri, ValidationParams(max_bad_share=0.05, price_cap=100000.0))
    assert result.rows_in == small_listings.num_rows
    assert result.rows_passed + result.rows_quarantined == result.rows_in
    assert result.rows_quarantined == 0


# --- bugs ----------------------------------------------------------------------------------------
def test_valid_output_keeps_fractional_prices() -> None:
    frame = good_frame()
    frame.loc[BAD_ROW, "price"] = 19.99
    valid, _ = split_valid_rows(frame, PARAMS)
    assert valid["price"].dtype == "float64"
    assert valid.loc[BAD_ROW, "price"] == pytest.approx(19.99)


def test_name_with_leading_space_passes() -> None:
    frame = with_value(good_frame(), BAD_ROW, "name", " Nike running shoes")
    valid, quarantined = split_valid_rows(frame, PARAMS)
    assert quarantined.empty
    assert len(valid) == 10
