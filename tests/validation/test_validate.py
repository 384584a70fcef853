"""Tests for validation.validate: row rules, quarantine reasons, text cleaning, batch-level
failures (the frame itself and drift against the previous snapshot's profile), the profile and the
report files, and finding the previous snapshot."""

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from price_alchemy.data.extract import window_key
from price_alchemy.demo.generator import generate_listings
from price_alchemy.params import ValidationParams
from price_alchemy.validation.profile import DRIFT_CHECKS, build_profile, find_previous_profile
from price_alchemy.validation.validate import (
    REQUIRED_COLUMNS,
    ValidationFailed,
    assess_snapshot,
    split_valid_rows,
    validate_snapshot,
)
from tests.validation.test_profile import day

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


# --- every corruption of the issue's list, on realistic listings ---------------------------------
REAL = ValidationParams(max_bad_share=0.05, price_cap=100000.0)
EMOJI = "😍🔥"
URL = "https://www.jane-shop.com/item/482913"
SEPARATORS = (" > ", ">", "|", "\\", ";", " >> ", "-")
EXPECTED_REASON = {
    "price_zero": "price: greater_than(0)",
    "price_negative": "price: greater_than(0)",
    "price_absurd": "price: less_than(100000.0)",
    "name_null": "name: not_nullable",
    "name_empty": "name: str_contains('\\S')",
    "condition_out_of_range": "item_condition_id: isin([1, 2, 3, 4, 5])",
    "shipping_invalid": "shipping: isin([0, 1])",
    "duplicate_train_id": "train_id: field_uniqueness",
    "category_bad_separator": "category_name: bad_separator",
}
FREE_TEXT = ("description_html_url_emoji", "description_20k_chars")
CORRUPTIONS_OF_THE_ISSUE = [
    ("price_zero", 0.0),
    ("price_negative", -5.0),
    ("price_negative", -250.0),
    ("price_absurd", 1e7),
    ("name_null", None),
    ("name_empty", ""),
    ("name_empty", "   "),
    *[("condition_out_of_range", value) for value in (0, 6, 7, -1, 9, 10)],
    ("shipping_invalid", 2),
    ("duplicate_train_id", 0),  # the variant is the clean row whose id is copied
    ("duplicate_train_id", 1),
    *[("category_bad_separator", separator) for separator in SEPARATORS],
    *[("description_html_url_emoji", i) for i in range(3)],
    *[("description_20k_chars", i) for i in range(2)],
]


def html_description(plain: str) -> str:
    return (
        f'<p>{plain} {EMOJI}</p>\n<br/><b>More at</b> <a href="{URL}">{URL}</a>'
        f" &amp; follow me! {EMOJI}"
    )


def long_description(plain: str) -> str:
    plain = plain + " "
    return (plain * (20000 // len(plain) + 1))[:20000]


def corruption(frame: pd.DataFrame, row: int, kind: str, variant) -> tuple[str, object]:
    """(column, new value) that gives `row` the corruption `kind`."""
    if kind.startswith("price"):
        return "price", variant
    if kind.startswith("name"):
        return "name", variant
    if kind == "condition_out_of_range":
        return "item_condition_id", variant
    if kind == "shipping_invalid":
        return "shipping", variant
    if kind == "duplicate_train_id":
        return "train_id", frame.loc[variant, "train_id"]
    if kind == "category_bad_separator":
        category = frame.loc[row, "category_name"]
        category = category if isinstance(category, str) else "Women/Tops & Blouses/T-Shirts"
        return "category_name", category.replace("/", variant)
    plain = frame.loc[row, "item_description"]
    maker = html_description if kind == "description_html_url_emoji" else long_description
    return "item_description", maker(plain)


@pytest.fixture(scope="module")
def dirty(small_listings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Realistic listings with every corruption of the issue's list, each variant on its own row
    (rows 10, 20, ...), and a table of what was done: row, kind, twin (the clean row whose id a
    duplicate copied) and the original description."""
    frame = small_listings.to_pandas()
    records = []
    for i, (kind, variant) in enumerate(CORRUPTIONS_OF_THE_ISSUE):
        row = 10 * (i + 1)
        twin = variant if kind == "duplicate_train_id" else None
        records.append(
            {"row": row, "kind": kind, "twin": twin, "plain": frame.loc[row, "item_description"]}
        )
        column, value = corruption(frame, row, kind, variant)
        frame.loc[row, column] = value
    return frame, pd.DataFrame(records)


def rows_of(done: pd.DataFrame, kinds) -> set[int]:
    return set(done.loc[done["kind"].isin(kinds), "row"])


def test_every_bad_corruption_is_quarantined_with_its_reason(dirty) -> None:
    frame, done = dirty
    _, quarantined = split_valid_rows(frame, REAL)
    for record in done[~done["kind"].isin(FREE_TEXT)].itertuples():
        assert record.row in quarantined.index, record
        assert EXPECTED_REASON[record.kind] in quarantined.loc[record.row, "reasons"], record
    for twin in done["twin"].dropna().astype(int):
        assert quarantined.loc[twin, "reasons"] == "train_id: field_uniqueness"


def test_bad_separators_also_fail_the_category_format(dirty) -> None:
    frame, done = dirty
    _, quarantined = split_valid_rows(frame, REAL)
    for row in rows_of(done, ["category_bad_separator"]):
        assert "category_name: str_matches" in quarantined.loc[row, "reasons"]


def test_no_clean_row_is_quarantined_except_a_twin(dirty) -> None:
    frame, done = dirty
    valid, quarantined = split_valid_rows(frame, REAL)
    bad = rows_of(done, EXPECTED_REASON)
    twins = set(done["twin"].dropna().astype(int))
    assert set(quarantined.index) == bad | twins
    assert len(valid) + len(quarantined) == len(frame)
    kept_ids = set(frame.drop(index=sorted(bad | twins))["train_id"])
    assert set(valid["train_id"]) == kept_ids


def test_quarantine_keeps_the_original_values_as_text(dirty) -> None:
    frame, done = dirty
    _, quarantined = split_valid_rows(frame, REAL)
    row = int(done.loc[done["kind"] == "price_absurd", "row"].iloc[0])
    assert quarantined.loc[row, "price"] == "10000000.0"
    assert quarantined.loc[row, "train_id"] == str(frame.loc[row, "train_id"])
    assert quarantined.loc[row, "name"] == frame.loc[row, "name"]
    assert set(REQUIRED_COLUMNS) | {"reasons"} == set(quarantined.columns)
    assert all(str(quarantined[c].dtype) == "string" for c in REQUIRED_COLUMNS)


def test_free_text_corruptions_are_kept_and_cleaned(dirty) -> None:
    frame, done = dirty
    valid, _ = split_valid_rows(frame, REAL)
    by_id = valid.set_index("train_id")["item_description"]
    for record in done[done["kind"].isin(FREE_TEXT)].itertuples():
        cleaned = by_id[frame.loc[record.row, "train_id"]]
        if record.kind == "description_html_url_emoji":
            assert cleaned == f"{record.plain} {EMOJI} More at & follow me! {EMOJI}"
        else:
            original = frame.loc[record.row, "item_description"]
            assert len(original) == 20000
            assert cleaned == original[: REAL.description_max_chars].rstrip()


def test_clean_rows_keep_their_text_unchanged(dirty, small_listings) -> None:
    frame, done = dirty
    valid, _ = split_valid_rows(frame, REAL)
    original = small_listings.to_pandas().set_index("train_id")
    kept = valid.set_index("train_id")
    touched = set(frame.loc[sorted(rows_of(done, FREE_TEXT)), "train_id"])
    untouched = kept.drop(index=sorted(touched))
    for column in ("name", "item_description", "category_name", "brand_name"):
        pd.testing.assert_series_equal(
            untouched[column], original.loc[untouched.index, column], check_dtype=False
        )


def test_counts_reconcile(tmp_path: Path, dirty) -> None:
    frame, done = dirty
    result = validate_snapshot(write_snapshot(tmp_path, frame), REAL)
    bad, twins = rows_of(done, EXPECTED_REASON), done["twin"].dropna()
    assert result.rows_in == len(frame) == result.rows_passed + result.rows_quarantined
    assert result.rows_quarantined == len(bad) + len(twins)
    expected = done[done["kind"].isin(EXPECTED_REASON)]["kind"].map(EXPECTED_REASON)
    counts = expected.value_counts().to_dict()
    counts["train_id: field_uniqueness"] += len(twins)
    for reason, n in counts.items():
        assert result.reason_counts[reason] == n, reason
    html_rows = len(rows_of(done, ["description_html_url_emoji"]))
    long_rows = len(rows_of(done, ["description_20k_chars"]))
    assert result.cleaning_counts == {
        "html": html_rows,
        "url": html_rows,
        "control_chars": html_rows,
        "truncated": long_rows,
    }
    assert result.rows_cleaned == html_rows + long_rows


@pytest.mark.parametrize("seed", range(8))
def test_rows_in_equals_passed_plus_quarantined_with_free_text(seed: int, small_listings) -> None:
    rng = np.random.default_rng(seed)
    frame = small_listings.to_pandas().head(300)
    picks = rng.choice(len(CORRUPTIONS_OF_THE_ISSUE), size=rng.integers(0, 40))
    rows = rng.choice(np.arange(2, 300), size=len(picks), replace=False)
    for row, pick in zip(rows, picks, strict=True):
        kind, variant = CORRUPTIONS_OF_THE_ISSUE[pick]
        column, value = corruption(frame, row, kind, variant)
        frame.loc[row, column] = value
    valid, quarantined = split_valid_rows(frame, REAL)
    assert len(valid) + len(quarantined) == len(frame)
    assert not set(valid["train_id"]) & {int(i) for i in quarantined["train_id"]}
    assert valid["item_description"].str.len().max() <= REAL.description_max_chars


# --- more row rules ------------------------------------------------------------------------------
def test_name_longer_than_the_cap_is_quarantined() -> None:
    params = ValidationParams(max_bad_share=1.0, price_cap=1000.0, name_max_chars=500)
    frame = with_value(good_frame(), BAD_ROW, "name", "x" * 501)
    frame = with_value(frame, 5, "name", "y" * 500)
    valid, quarantined = split_valid_rows(frame, params)
    assert quarantined_ids(quarantined) == [BAD_ROW]
    assert reasons_of(quarantined, BAD_ROW) == "name: max_length(500)"
    assert len(valid) == 9


def test_names_are_cleaned_and_counted(tmp_path: Path) -> None:
    frame = with_value(good_frame(), BAD_ROW, "name", "<b>Nike</b>\tshoes &amp; socks")
    frame = with_value(frame, 5, "name", "<br/>\n")  # nothing left: no title
    result = validate_snapshot(write_snapshot(tmp_path, frame), LENIENT)
    clean = pd.read_parquet(result.clean_uri).set_index("train_id")
    assert clean.loc[BAD_ROW, "name"] == "Nike shoes & socks"
    assert result.reason_counts == {"name: str_contains('\\S')": 1}
    assert result.cleaning_counts == {"html": 1, "url": 0, "control_chars": 1, "truncated": 0}
    assert result.rows_cleaned == 1


@pytest.mark.parametrize("separator", SEPARATORS)
def test_each_bad_separator_is_named(separator: str) -> None:
    category = "Women/Tops & Blouses/T-Shirts".replace("/", separator)
    frame = with_value(good_frame(), BAD_ROW, "category_name", category)
    _, quarantined = split_valid_rows(frame, PARAMS)
    reasons = reasons_of(quarantined, BAD_ROW).split("; ")
    assert reasons == ["category_name: str_matches(A/B/C)", "category_name: bad_separator"]


def test_a_foreign_separator_inside_a_deep_category_is_caught() -> None:
    frame = with_value(good_frame(), BAD_ROW, "category_name", "Electronics/Tablets/iPad>Tablet")
    _, quarantined = split_valid_rows(frame, PARAMS)
    assert reasons_of(quarantined, BAD_ROW) == "category_name: bad_separator"


@pytest.mark.parametrize("category", ["Women/ /Blouse", "Women/Tops/", "Women/Tops/  ", "/"])
def test_category_with_an_empty_level_fails(category: str) -> None:
    frame = with_value(good_frame(), BAD_ROW, "category_name", category)
    _, quarantined = split_valid_rows(frame, PARAMS)
    assert reasons_of(quarantined, BAD_ROW) == "category_name: str_matches(A/B/C)"


@pytest.mark.parametrize(
    "category",
    ["Women/Tops & Blouses/T-Shirts", "Kids/Girls 2T-5T/Dresses", "Men/Tops/Button-Front"],
)
def test_hyphens_inside_levels_are_fine(category: str) -> None:
    frame = with_value(good_frame(), BAD_ROW, "category_name", category)
    assert split_valid_rows(frame, PARAMS)[1].empty


# --- batch checks on the frame itself ------------------------------------------------------------
@pytest.mark.parametrize(
    ("renamed", "hint"),
    [
        ({"item_condition_id": "item_condition"}, "item_condition_id (renamed to item_condition?)"),
        ({"price": "Price"}, "price (renamed to Price?)"),
        ({"shipping": "ship_flag", "name": "title"}, "name, shipping"),
    ],
)
def test_missing_column_names_a_likely_rename(renamed: dict, hint: str) -> None:
    with pytest.raises(ValidationFailed, match=r"columns check failed: missing columns: ") as err:
        split_valid_rows(good_frame().rename(columns=renamed), PARAMS)
    assert f"missing columns: {hint}" in str(err.value)


def test_report_is_written_when_columns_are_missing(tmp_path: Path) -> None:
    frame = good_frame().rename(columns={"item_condition_id": "item_condition"})
    uri = write_snapshot(tmp_path, frame)
    with pytest.raises(ValidationFailed, match=r"renamed to item_condition\?") as err:
        validate_snapshot(uri, PARAMS)
    report_path = Path(uri).with_name("report.json")
    assert str(report_path) in str(err.value)
    report = json.loads(report_path.read_text())
    assert report["status"] == "failed" and report["rows_in"] == 10
    assert report["rows_passed"] is None and report["clean_uri"] is None
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert statuses["columns"] == "failed" and statuses["bad_share"] == "skipped"
    assert Path(uri).with_name("report.html").exists()
    assert not Path(uri).with_name("clean.parquet").exists()


def test_report_is_written_when_the_snapshot_is_empty(tmp_path: Path) -> None:
    uri = write_snapshot(tmp_path, good_frame().iloc[0:0])
    with pytest.raises(ValidationFailed, match="not_empty check failed: the snapshot has no rows"):
        validate_snapshot(uri, PARAMS)
    report = json.loads(Path(uri).with_name("report.json").read_text())
    assert [c["status"] for c in report["checks"] if c["name"] == "not_empty"] == ["failed"]


def test_report_is_written_when_too_many_rows_are_bad(tmp_path: Path) -> None:
    uri = write_snapshot(tmp_path, good_frame().assign(shipping=7))
    with pytest.raises(ValidationFailed, match="bad_share check failed"):
        validate_snapshot(uri, PARAMS)
    report = json.loads(Path(uri).with_name("report.json").read_text())
    assert report["status"] == "failed"
    assert (report["rows_in"], report["rows_passed"], report["rows_quarantined"]) == (10, 0, 10)
    bad_share = next(check for check in report["checks"] if check["name"] == "bad_share")
    assert bad_share["numbers"]["share"] == 1.0 and bad_share["numbers"]["limit"] == 0.05
    assert len(report["quarantine_sample"]) == 10
    assert report["profile_uri"] is None
    assert not Path(uri).with_name("profile.json").exists()


# --- outputs -------------------------------------------------------------------------------------
def test_validate_snapshot_writes_report_and_profile(tmp_path: Path) -> None:
    frame = with_value(good_frame(), BAD_ROW, "shipping", 2)
    frame = with_value(frame, 4, "item_description", "nice\n<i>bag</i>")
    uri = write_snapshot(tmp_path, frame)
    result = validate_snapshot(uri, LENIENT)
    as_dict = result.to_dict()
    for key in (
        "clean_uri quarantine_uri report_json_uri report_html_uri profile_uri rows_in rows_passed"
        " rows_quarantined rows_cleaned reason_counts cleaning_counts checks"
    ).split():
        assert key in as_dict, key
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert {tuple(c) for c in as_dict["checks"]} == {("name", "status", "detail", "numbers")}
    for key, name in [("report_json_uri", "report.json"), ("report_html_uri", "report.html")]:
        assert Path(as_dict[key]) == Path(uri).with_name(name) and Path(as_dict[key]).exists()
    assert result.rows_cleaned == 1 and result.cleaning_counts["html"] == 1
    report = json.loads(Path(result.report_json_uri).read_text())
    assert report["status"] == "passed"
    assert {k: report[k] for k in as_dict} == as_dict
    profile = json.loads(Path(result.profile_uri).read_text())
    assert profile["rows"] == 9
    assert profile["categories"]["values"] == ["Women/Tops & Blouses/Blouse"]
    assert profile["brands"]["top"] == [["Nike", 9]]
    assert len(profile["price_log1p"]["quantiles"]) == 101


def test_drift_checks_are_skipped_without_a_previous_profile() -> None:
    outcome = assess_snapshot(good_frame(), PARAMS)
    statuses = {check.name: check.status for check in outcome.checks}
    assert {name: statuses[name] for name in DRIFT_CHECKS} == dict.fromkeys(DRIFT_CHECKS, "skipped")
    assert statuses["columns"] == statuses["not_empty"] == statuses["bad_share"] == "passed"


def test_a_failed_rerun_removes_the_stale_profile(tmp_path: Path) -> None:
    uri = write_snapshot(tmp_path, good_frame())
    assert Path(validate_snapshot(uri, PARAMS).profile_uri).exists()
    write_snapshot(tmp_path, good_frame().assign(price=-1.0))
    with pytest.raises(ValidationFailed):
        validate_snapshot(uri, PARAMS)
    assert not Path(uri).with_name("profile.json").exists()


def test_no_profile_when_no_row_passes(tmp_path: Path) -> None:
    """A snapshot without clean rows is no baseline for the next one."""
    result = validate_snapshot(write_snapshot(tmp_path, good_frame().assign(price=-1.0)), LENIENT)
    assert (result.rows_passed, result.rows_quarantined) == (0, 10)
    assert result.profile_uri is None
    assert not (tmp_path / "window" / "profile.json").exists()


def test_ratio_bounds_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="min_row_ratio"):
        ValidationParams(max_bad_share=0.1, price_cap=10.0, min_row_ratio=3.0, max_row_ratio=2.0)


# --- batch checks against the previous snapshot --------------------------------------------------
END = datetime(2026, 1, 1)
TRENDING = (
    "Electronics/Smart Wearables/Smart Rings",
    "Kids/Toys/Blind Box Figures",
    "Vintage & Collectibles/Trading Cards/Graded Slabs",
)


def listings(seed: int, rows: int = 4000) -> pd.DataFrame:
    return generate_listings(rows, seed=seed, end=END, days=300).to_pandas()


def drifted(frame: pd.DataFrame, category_share: float, brand_share: float, log_shift: float):
    """`frame` with `category_share` of its rows moved to categories never seen before,
    `brand_share` of other rows given brands never seen before, and log1p(price) shifted."""
    frame, rng = frame.copy(), np.random.default_rng(0)
    rows = rng.permutation(len(frame))
    n_category, n_brand = int(category_share * len(frame)), int(brand_share * len(frame))
    new_category, new_brand = rows[:n_category], rows[n_category : n_category + n_brand]
    frame.loc[new_category, "category_name"] = rng.choice(TRENDING, size=n_category)
    frame.loc[new_brand, "brand_name"] = [f"Trendbrand {i % 160}" for i in range(n_brand)]
    frame["price"] = np.expm1(np.log1p(frame["price"]) + log_shift)
    return frame


@pytest.fixture(scope="module")
def previous_profile(tmp_path_factory) -> Path:
    """The profile.json of a validated snapshot of 4,000 realistic listings."""
    root = tmp_path_factory.mktemp("previous")
    return Path(validate_snapshot(write_snapshot(root, listings(3)), REAL).profile_uri)


def drift_checks(result_or_checks) -> dict[str, str]:
    return {c["name"]: c["status"] for c in result_or_checks if c["name"] in DRIFT_CHECKS}


def test_ordinary_market_drift_passes(tmp_path: Path, previous_profile: Path) -> None:
    frame = drifted(listings(4), category_share=0.12, brand_share=0.18, log_shift=0.08)
    result = validate_snapshot(write_snapshot(tmp_path, frame), REAL, previous_profile)
    assert drift_checks(result.checks) == dict.fromkeys(DRIFT_CHECKS, "passed")
    numbers = {c["name"]: c["numbers"] for c in result.checks}
    assert 0.12 <= numbers["unseen_categories"]["share"] < 0.15
    assert 0.18 <= numbers["unseen_brands"]["share"] < 0.22
    assert 0.0 < numbers["price_median_shift"]["shift"] < 0.2


def test_stronger_drift_still_passes(tmp_path: Path, previous_profile: Path) -> None:
    frame = drifted(listings(5), category_share=0.15, brand_share=0.25, log_shift=0.15)
    result = validate_snapshot(write_snapshot(tmp_path, frame), REAL, previous_profile)
    assert drift_checks(result.checks) == dict.fromkeys(DRIFT_CHECKS, "passed")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda f: drifted(f, category_share=0.5, brand_share=0.0, log_shift=0.0),
            ["unseen_categories check failed: 2000 of 4000 rows (50.0%)", "limit 25.0%"],
        ),
        (
            lambda f: drifted(f, category_share=0.0, brand_share=1.0, log_shift=0.0),
            ["unseen_brands check failed: 4000 of 4000 rows (100.0%)", "limit 35.0%"],
        ),
        (
            lambda f: f.assign(price=f["price"] * 10),
            [
                "price_median_shift check failed: median log1p(price) moved +2.",
                "limit 0.3",
                "price_ks check failed: KS distance",
                "limit 0.2",
            ],
        ),
        (
            lambda f: f.head(1000),
            [
                "row_count_ratio check failed: 1000 clean rows vs 4000 before: ratio 0.250",
                "allowed [0.5, 2]",
            ],
        ),
        (
            lambda f: pd.concat([f, f, f], ignore_index=True).assign(train_id=np.arange(12000)),
            ["row_count_ratio check failed: 12000 clean rows vs 4000 before: ratio 3.000"],
        ),
    ],
    ids=["half-unseen-categories", "all-new-brands", "prices-x10", "quarter-rows", "triple-rows"],
)
def test_wholesale_change_fails_with_the_numbers(
    tmp_path: Path, previous_profile: Path, change, expected: list[str]
) -> None:
    uri = write_snapshot(tmp_path, change(listings(4)))
    with pytest.raises(ValidationFailed) as raised:
        validate_snapshot(uri, REAL, previous_profile)
    for text in expected:
        assert text in str(raised.value), (text, str(raised.value))
    report = json.loads(Path(uri).with_name("report.json").read_text())
    assert report["status"] == "failed"
    assert report["previous_profile_uri"] == str(previous_profile)


def test_unseen_share_at_the_limit_passes_and_above_fails() -> None:
    previous = build_profile(good_frame(100), top_n=5)
    params = ValidationParams(max_bad_share=0.0, price_cap=1000.0, max_unseen_category_share=0.25)
    at_limit = good_frame(100)
    at_limit.loc[:24, "category_name"] = "New/Trend/Leaf"
    above = at_limit.copy()
    above.loc[25, "category_name"] = "New/Trend/Other"
    statuses = [
        {c.name: c.status for c in assess_snapshot(frame, params, previous).checks}
        for frame in (at_limit, above)
    ]
    assert statuses[0]["unseen_categories"] == "passed"
    assert statuses[1]["unseen_categories"] == "failed"


def test_null_categories_and_brands_count_as_seen() -> None:
    previous = build_profile(good_frame(), top_n=5)
    frame = good_frame().assign(category_name=None, brand_name=None)
    checks = {c.name: c for c in assess_snapshot(frame, PARAMS, previous).checks}
    assert checks["unseen_categories"].numbers["share"] == 0.0
    assert checks["unseen_brands"].status == "passed"


def test_a_previous_profile_without_rows_skips_what_it_cannot_compare() -> None:
    previous = build_profile(good_frame().iloc[0:0], top_n=5)
    checks = {c.name: c.status for c in assess_snapshot(good_frame(), PARAMS, previous).checks}
    assert checks["row_count_ratio"] == checks["price_ks"] == "skipped"
    assert checks["price_median_shift"] == "skipped"
    assert checks["unseen_categories"] == "failed"  # every category is new against no rows


# --- finding the previous snapshot ---------------------------------------------------------------
def test_two_runs_in_a_row_compare_with_each_other(tmp_path: Path) -> None:
    """The flow of two DAG runs: validate a window, then find it from the next one."""
    first = write_snapshot_in(tmp_path, day(1, 2024), day(1), listings(3))
    validate_snapshot(first, REAL)
    second = write_snapshot_in(tmp_path, day(2, 2024), day(2), listings(4))
    previous = find_previous_profile(tmp_path, second)
    assert previous == Path(first).with_name("profile.json")
    result = validate_snapshot(second, REAL, previous_profile=previous)
    assert drift_checks(result.checks) == dict.fromkeys(DRIFT_CHECKS, "passed")


def write_snapshot_in(root: Path, start: datetime, end: datetime, frame: pd.DataFrame) -> str:
    path = root / window_key(start, end) / "listings.parquet"
    path.parent.mkdir(parents=True)
    frame.to_parquet(path, index=False)
    return str(path)
