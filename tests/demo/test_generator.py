"""Tests for price_alchemy.demo.generator and its world (price_alchemy.demo.world and
world.yaml): schema, determinism, pinned output, time window, the realism spec and drift."""

import hashlib
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from price_alchemy.cli import app
from price_alchemy.data.backends import open_warehouse
from price_alchemy.demo import world as demo_world
from price_alchemy.demo.generator import WORLD_SEED, generate_listings
from price_alchemy.schema import LISTING_SCHEMA

END = datetime(2024, 6, 1)
EXPECTED_TYPES = {
    "train_id": pa.int64(),
    "name": pa.string(),
    "item_condition_id": pa.int64(),
    "category_name": pa.string(),
    "brand_name": pa.string(),
    "price": pa.float64(),
    "shipping": pa.int64(),
    "item_description": pa.string(),
    "created_at": pa.timestamp("us"),
}


@pytest.fixture(scope="module")
def small() -> pa.Table:
    return generate_listings(5_000, seed=11, end=END, days=120, id_offset=1_000)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """A larger sample for the statistical checks, with log price and the within-leaf residual."""
    df = generate_listings(40_000, seed=3, end=END).to_pandas()
    df["log_price"] = np.log1p(df["price"])
    leaf_mean = df.groupby("category_name", dropna=False)["log_price"].transform("mean")
    df["residual"] = df["log_price"] - leaf_mean
    df["text"] = (df["name"] + " " + df["item_description"]).str.lower()
    return df


def _residual_gap(df: pd.DataFrame, pattern: str) -> tuple[float, int]:
    """Mean within-leaf log-price residual of rows whose text matches, minus the rest's."""
    hit = df["text"].str.contains(pattern, regex=True)
    return df.loc[hit, "residual"].mean() - df.loc[~hit, "residual"].mean(), int(hit.sum())


def test_columns_and_types(small: pa.Table) -> None:
    assert tuple(small.column_names) == tuple(LISTING_SCHEMA.names)
    assert {f.name: f.type for f in small.schema} == EXPECTED_TYPES
    assert small.num_rows == 5_000
    ids = small.column("train_id").to_numpy()
    assert ids[0] == 1_000 and np.array_equal(ids, np.arange(1_000, 6_000))
    for column in (
        "train_id",
        "name",
        "item_condition_id",
        "price",
        "shipping",
        "item_description",
        "created_at",
    ):
        assert small.column(column).null_count == 0, column
    assert set(small.column("shipping").to_numpy()) <= {0, 1}


def test_empty_and_invalid_arguments() -> None:
    empty = generate_listings(0, end=END)
    assert empty.num_rows == 0 and tuple(empty.column_names) == tuple(LISTING_SCHEMA.names)
    with pytest.raises(ValueError):
        generate_listings(-1)
    with pytest.raises(ValueError):
        generate_listings(10, days=0)


def test_deterministic(small: pa.Table) -> None:
    again = generate_listings(5_000, seed=11, end=END, days=120, id_offset=1_000)
    assert again.equals(small)
    other = generate_listings(5_000, seed=12, end=END, days=120, id_offset=1_000)
    assert not other.equals(small)
    assert not other.column("name").equals(small.column("name"))
    assert not np.array_equal(other.column("price").to_numpy(), small.column("price").to_numpy())


def test_output_is_pinned() -> None:
    """The world (WORLD_SEED, world.yaml) and the row draws are fixed: any change to a
    table's entries or order, or to the drawing code, changes this hash. Update it only when the
    synthetic data is meant to change."""
    assert WORLD_SEED == 20_171_121
    table = generate_listings(5_000, seed=0, end=datetime(2025, 6, 1))
    digest = hashlib.sha256(table.to_pandas().to_csv().encode()).hexdigest()
    assert digest == "ce19b8facef8778fc9999ea11bd6dc0b5e28a438cd82f93b6fdea0632b81596a"


def test_world_is_built_on_first_use_only() -> None:
    script = (
        "import price_alchemy.demo.generator as d, price_alchemy.demo.world as w\n"
        "before = w._tables.cache_info().currsize, w.load_world.cache_info().currsize\n"
        "d.generate_listings(3); d.generate_listings(3)\n"
        "print(*before, w._tables.cache_info().misses, w.load_world.cache_info().misses)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["0", "0", "1", "1"]  # nothing at import, then built once


def test_world_tables_refer_to_each_other() -> None:
    tables = demo_world._tables()
    tops, kinds = {t[0] for t in tables["tops"]}, tables["kinds"]
    assert abs(sum(t[2] for t in tables["tops"]) - 1.0) < 1e-9
    for top, _mid, _leaf, kind, base, weight, nouns in tables["leaves"]:
        assert top in tops and kind in kinds and base > 0 and weight > 0 and nouns
    for kind in kinds.values():
        assert kind["size"] is None or kind["size"] in tables["sizes"]
        assert kind["material"] is None or kind["material"] in tables["materials"]
        assert kind["new"] in tables["tokens"]["new"]
    assert list(tables["fillers"]) == list(kinds)
    for _name, tier, homes, makes in tables["real_brands"]:
        assert tier in demo_world.TIERS and set(homes) <= tops and set(makes) <= set(kinds)
    names = {b[0] for b in tables["real_brands"]}
    assert set(tables["popular_brands"]) <= names
    assert len(tables["condition_phrases"]) == 5 and len(tables["shipping_sentences"]) == 2


def test_created_at_window_sorted_and_weekly(small: pa.Table) -> None:
    ts = small.column("created_at").to_numpy()
    assert ts.min() >= np.datetime64(END - timedelta(days=120))
    assert ts.max() < np.datetime64(END)
    assert np.all(np.diff(ts.astype(np.int64)) >= 0)
    days = pd.Series(pd.to_datetime(ts).normalize()).value_counts()
    weekend = days.index.day_of_week >= 5
    assert days[weekend].mean() > 1.1 * days[~weekend].mean()


def test_default_end_is_todays_utc_midnight() -> None:
    ts = generate_listings(200, seed=1, days=2).column("created_at").to_numpy()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    assert ts.max() < np.datetime64(today)
    assert ts.min() >= np.datetime64(today - timedelta(days=3))


def test_condition_shares(frame: pd.DataFrame) -> None:
    shares = frame["item_condition_id"].value_counts(normalize=True).sort_index()
    assert list(shares.index) == [1, 2, 3, 4, 5]
    expected = [0.44, 0.25, 0.29, 0.023, 0.002]
    for got, want in zip(shares, expected, strict=True):
        assert abs(got - want) < max(0.02, want * 0.5), (got, want)
    medians = frame.groupby("item_condition_id")["log_price"].mean()
    assert medians[1] > medians[3] > medians[5]


def test_brand_missing_share(frame: pd.DataFrame) -> None:
    assert 0.35 <= frame["brand_name"].isna().mean() <= 0.45
    assert frame["brand_name"].nunique() >= 150


def test_price_distribution(frame: pd.DataFrame) -> None:
    price = frame["price"]
    assert price.min() >= 3 and price.max() <= 2000
    assert np.all(price == np.round(price))
    assert 13 <= price.median() <= 22
    assert price.quantile(0.99) / price.median() > 5
    assert 2.8 <= frame["log_price"].mean() <= 3.2
    assert 0.6 <= frame["log_price"].std() <= 0.9
    assert 0.38 <= frame["shipping"].mean() <= 0.52
    by_shipping = frame.groupby("shipping")["price"].median()
    assert by_shipping[1] < by_shipping[0]


def test_categories_have_three_levels(frame: pd.DataFrame) -> None:
    category = frame["category_name"]
    assert 0.001 < category.isna().mean() < 0.015
    levels = category.dropna().str.split("/")
    assert (levels.str.len() == 3).all()
    tops = levels.str[0].value_counts(normalize=True)
    assert 8 <= len(tops) <= 12
    assert tops.index[0] == "Women" and 0.33 < tops["Women"] < 0.5
    assert 60 <= category.nunique() <= 120
    leaf_medians = frame.groupby("category_name")["price"].median()
    assert leaf_medians.min() < 12 and leaf_medians.max() > 80


def test_descriptions(frame: pd.DataFrame) -> None:
    description = frame["item_description"]
    assert 0.04 < (description == "No description yet").mean() < 0.08
    assert description.str.contains("[rm]", regex=False).mean() > 0.02
    assert (description.str.len() > 0).all() and (frame["name"].str.len() > 0).all()


def test_brand_in_title_when_brand_name_missing(frame: pd.DataFrame) -> None:
    names = [b for b in frame["brand_name"].dropna().unique() if len(b) >= 5]
    brands = re.compile("|".join(re.escape(b.lower()) for b in names))
    missing = frame[frame["brand_name"].isna()]
    share = missing["name"].str.lower().str.contains(brands).mean()
    assert 0.15 < share < 0.5
    shown = missing["name"].str.contains(brands)  # same case as the brand_name spelling
    lower_or_upper = missing["name"].str.lower().str.contains(brands) & ~shown
    assert lower_or_upper.sum() > 0


@pytest.mark.parametrize(
    ("pattern", "low", "high"),
    [
        (r"\bfor parts\b|\bbroken\b|\bas is\b", -1.3, -0.6),
        (r"\blot of \d+|\bset of \d+", 0.2, 0.6),
        (r"\bbundle\b", 0.2, 0.5),
        (r"\bnwt\b|new with tags|\bsealed\b", 0.1, 0.4),
        (r"14k gold", 0.5, 1.2),
        (r"sterling silver", 0.15, 0.6),
        (r"genuine leather", 0.15, 0.5),
        (r"faux leather", -0.35, -0.02),
        (r"authentic", 0.1, 1.0),
    ],
)
def test_price_moving_words(frame: pd.DataFrame, pattern: str, low: float, high: float) -> None:
    gap, hits = _residual_gap(frame, pattern)
    assert hits >= 30, hits
    assert low < gap < high, gap


def test_neutral_words_do_not_move_price(frame: pd.DataFrame) -> None:
    gap, hits = _residual_gap(frame, r"\[rm\]")
    assert hits > 500 and abs(gap) < 0.08


def test_capacity_raises_price(frame: pd.DataFrame) -> None:
    capacity = frame["text"].str.extract(r"\b(\d+) ?gb\b")[0].astype(float)
    rows = capacity.notna() & frame["category_name"].notna()
    assert rows.sum() > 300
    slope = np.polyfit(np.log2(capacity[rows]), frame.loc[rows, "residual"], 1)[0]
    assert 0.07 < slope < 0.25


def test_price_moving_words_at_fixed_leaf(frame: pd.DataFrame) -> None:
    leggings = frame[frame["category_name"] == "Women/Athletic Apparel/Pants, Tights, Leggings"]
    multi = leggings["text"].str.contains(r"\blot of \d+|\bset of \d+|\bbundle\b")
    assert multi.sum() > 20
    assert leggings.loc[multi, "price"].median() > leggings.loc[~multi, "price"].median()


def test_large_generation() -> None:
    table = generate_listings(200_000, seed=5, end=END, id_offset=10)
    assert table.num_rows == 200_000
    ids = table.column("train_id").to_numpy()
    assert ids[0] == 10 and ids[-1] == 200_009
    assert table.column("price").to_numpy().min() >= 3


# --- drift ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def market() -> pd.DataFrame:
    """A big drift-0 sample: the categories and brands of today's market."""
    return generate_listings(100_000, seed=21, end=END).to_pandas()


def _unseen(values: pd.Series, reference: pd.Series) -> float:
    """Share of the non-null values that never occur in reference."""
    values = values.dropna()
    return float((~values.isin(set(reference.dropna()))).mean())


def test_drift_must_be_within_zero_and_one() -> None:
    for drift in (-0.01, 1.01, float("nan")):
        with pytest.raises(ValueError, match="drift"):
            generate_listings(10, end=END, drift=drift)
    assert generate_listings(10, end=END, drift=0.0).equals(generate_listings(10, end=END))


def test_drift_world_tables() -> None:
    tables, world = demo_world._tables(), demo_world.load_world()
    tops, kinds = {t[0] for t in tables["tops"]}, tables["kinds"]
    for top, _mid, _leaf, kind, base, weight, nouns in tables["drift"]["leaves"]:
        assert top in tops and kind in kinds and base > 0 and weight > 0 and nouns
    homes = set()
    for _name, tier, brand_homes, makes in tables["drift"]["brands"]:
        assert tier in demo_world.TIERS and set(brand_homes) <= tops and set(makes) <= set(kinds)
        homes |= set(brand_homes)
    assert homes == tops  # every top has a trending brand at home
    trend_leaves, trend_brands = len(tables["drift"]["leaves"]), len(tables["drift"]["brands"])
    leaves, brands = world.leaf_names.to_pylist(), world.brand_names.to_pylist()
    assert not set(leaves[-trend_leaves:]) & set(leaves[:-trend_leaves])
    assert not set(brands[-trend_brands:]) & set(brands[:-trend_brands])


def test_drift_moves_the_market(market: pd.DataFrame) -> None:
    drifted = generate_listings(4_000, seed=31, end=END, drift=0.6).to_pandas()
    today = generate_listings(4_000, seed=32, end=END).to_pandas()
    assert 0.08 <= _unseen(drifted["category_name"], market["category_name"]) <= 0.16
    assert _unseen(today["category_name"], market["category_name"]) < 0.002
    assert _unseen(drifted["brand_name"], market["brand_name"]) > 0.15
    assert _unseen(today["brand_name"], market["brand_name"]) < 0.01
    shift = np.median(np.log1p(drifted["price"])) - np.median(np.log1p(today["price"]))
    assert 0.05 <= shift <= 0.2, shift
    new_brands = set(drifted["brand_name"].dropna()) - set(market["brand_name"].dropna())
    in_title = drifted["name"].str.contains("|".join(re.escape(b) for b in new_brands))
    assert in_title.mean() > 0.05


def test_drift_is_deterministic() -> None:
    first = generate_listings(3_000, seed=8, end=END, drift=0.6)
    assert generate_listings(3_000, seed=8, end=END, drift=0.6).equals(first)
    assert not generate_listings(3_000, seed=8, end=END, drift=0.5).equals(first)


def test_demo_data_command_drift(settings) -> None:
    runner = CliRunner()
    args = ["demo-data", "--rows", "300", "--seed", "4", "--end", "2024-06-01", "--drift", "0.6"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "drift 0.6" in result.output
    batches = open_warehouse(settings).read_window(datetime(2000, 1, 1), END)
    loaded = pa.Table.from_batches(list(batches)).sort_by("train_id")
    expected = generate_listings(300, seed=4, end=END, drift=0.6)
    assert loaded.column("name").to_pylist() == expected.column("name").to_pylist()
    assert runner.invoke(app, ["demo-data", "--rows", "300", "--drift", "1.5"]).exit_code == 2
