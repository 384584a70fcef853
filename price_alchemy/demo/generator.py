"""Synthetic Mercari-style listings for demos, tests and pipeline smoke runs, drawn fast and
deterministically. `generate_listings` draws rows with its own `seed` from the fixed world of
price_alchemy.demo.world (category tree, brands with price tiers, title and description
vocabulary, built once from WORLD_SEED and world.yaml). The log price of a row is a leaf base
plus brand tier, condition, text-token effects (lots, bundles, "NWT", storage capacity,
materials, "for parts", "authentic"), a shipping effect and heteroscedastic noise; prices are
rounded to whole dollars and clipped to [3, 2000]. Every row-level step is vectorised: numpy
draws index arrays into string vocabularies and pyarrow.compute joins the pieces, so a million
rows take seconds and no Python loop runs per row. Nothing is read or built at import time.

`drift` in [0, 1] moves the market, for drift-detection demos: about 0.2 * drift of the rows fall
into trending leaves that do not exist at drift 0 (smart rings, air fryers, graded cards, ...),
most of their branded rows and 0.25 * drift of the other branded rows carry trending brands that
do not exist at drift 0 either, and every latent log1p(price) rises by 0.15 * drift. The extra
numbers are drawn only when drift > 0, so drift 0 gives the very rows of the undrifted market.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from price_alchemy.demo.world import CAPACITIES, MAX_N, TIERS, WORLD_SEED, Slot, World, load_world
from price_alchemy.schema import (
    ACTIVE_LISTING_SCHEMA,
    LISTING_FIELDS,
    LISTING_SCHEMA,
    NO_DESCRIPTION,
)

__all__ = ["WORLD_SEED", "generate_listings"]

_CHUNK_ROWS = 250_000
_US_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1)
_DOW_WEIGHTS = np.array([1.0, 0.95, 0.95, 0.97, 1.04, 1.25, 1.3])  # Monday .. Sunday

# --- effect sizes on log1p(price) and token rates ------------------------------------------------
# (brand tier effects are built into the world by demo.world, material effects are in the YAML)
_UNBRANDED_EFFECT = -0.1
_COND_P = np.array([44.0, 25.0, 29.0, 2.3, 0.2]) / 100.5
_COND_EFFECT = np.array([0.08, 0.0, -0.08, -0.22, -0.45])
_LOT_PER_LOG_N = 0.33
_BUNDLE_EFFECT = 0.35
_NEW_EFFECT = 0.15
_GB_PER_DOUBLING = 0.14
_BROKEN_EFFECT = -0.9
_AUTHENTIC_EFFECT = 0.12
_SHIPPING_EFFECT = -0.1
_CAPACITY_P = np.array([0.08, 0.17, 0.3, 0.25, 0.15, 0.05])  # of each of CAPACITIES
_BROKEN_P = np.array([0.001, 0.005, 0.015, 0.12, 0.5])  # by condition 1..5
_AUTHENTIC_P = np.array([0.3, 0.08, 0.01, 0.01, 0.0])  # by tier, last = unbranded
_MULTI_P = (0.018, 0.010, 0.022)  # lot of N, set of N, bundle (before the kind multiplier)
_SHIP_INTERCEPT = -0.2
_SHIP_SLOPE = 1.4
# drift: share of rows in trending leaves and of other branded rows with a trending brand (per
# unit of drift), share of trending-leaf rows with a trending brand, inflation of log1p(price)
_TREND_LEAF_SHARE = 0.2
_TREND_BRAND_SHARE = 0.25
_TREND_LEAF_BRAND_P = 0.85
_INFLATION = 0.15


# --- rows ----------------------------------------------------------------------------------------
def _trend_leaf(
    world: World, rng: np.random.Generator, leaf: np.ndarray, drift: float
) -> tuple[np.ndarray, np.ndarray]:
    """About _TREND_LEAF_SHARE * drift of the rows moved to a trending leaf; (leaf, trending)."""
    n = leaf.shape[0]
    trending = np.less(rng.random(n), _TREND_LEAF_SHARE * drift)
    trend_leaf = world.trend_leaf_choice.draw(rng, np.zeros(n, dtype=np.int64))
    return np.where(trending, trend_leaf, leaf), trending


def _draw_item(
    world: World, rng: np.random.Generator, n: int, drift: float
) -> dict[str, np.ndarray]:
    """What is sold: leaf, condition, noun, colour and whether the category is missing."""
    leaf = world.leaf_choice.draw(rng, np.zeros(n, dtype=np.int64))
    trending = np.zeros(n, dtype=bool)
    if drift > 0:
        leaf, trending = _trend_leaf(world, rng, leaf, drift)
    kind = world.leaf_kind[leaf]
    noun_offset = (rng.random(n) * world.noun_count[leaf]).astype(np.int64)
    has_colour = rng.random(n) < world.kind_table["colour_p"][kind]
    return {
        "leaf": leaf,
        "trending": trending,
        "top": world.leaf_top[leaf],
        "kind": kind,
        "cond": rng.choice(5, size=n, p=_COND_P) + 1,
        "noun": world.noun_start[leaf] + noun_offset,
        "colour": np.where(has_colour, rng.integers(0, world.colour_count, n), -1),
        "no_category": rng.random(n) < 0.005,
    }


def _trend_brand(
    world: World, rng: np.random.Generator, rows: dict, brand: np.ndarray, drift: float
) -> np.ndarray:
    """A trending brand at home in the row's top (making its kind, if one does) instead of the
    usual one: for _TREND_LEAF_BRAND_P of trending-leaf rows, _TREND_BRAND_SHARE * drift of the
    others."""
    group = rows["top"] * world.kind_count + rows["kind"]
    trend_brand = world.trend_brand_choice.draw(rng, group)
    p = np.where(rows["trending"], _TREND_LEAF_BRAND_P, _TREND_BRAND_SHARE * drift)
    return np.where(rng.random(brand.shape[0]) < p, trend_brand, brand)


def _draw_brand(
    world: World, rng: np.random.Generator, rows: dict, drift: float
) -> dict[str, np.ndarray]:
    """brand_state 0: brand_name shown, 1: brand_name missing but brand in the title (its
    effect applies), 2: unbranded."""
    n = rows["top"].shape[0]
    brand = world.brand_choice.draw(rng, rows["top"] * world.kind_count + rows["kind"])
    if drift > 0:
        brand = _trend_brand(world, rng, rows, brand, drift)
    missing = rng.random(n) < world.top_missing[rows["top"]]
    in_title = rng.random(n) < 1.0 / 3.0
    state = np.where(missing, np.where(in_title, 1, 2), 0)
    tier = np.where(state == 2, len(TIERS), world.brand_tier[brand])
    return {"brand": brand, "brand_state": state, "tier": tier}


def _draw_multi(world: World, rng: np.random.Generator, rows: dict) -> dict[str, np.ndarray]:
    """Lot of N (1), set of N (2), bundle (3) or none (0), with N and the wording group."""
    n = rows["kind"].shape[0]
    rates = np.cumsum(_MULTI_P) * world.kind_table["multi"][rows["kind"]][:, None]
    hit = rng.random(n)[:, None] < rates
    multi = np.where(hit[:, -1], hit.argmax(axis=1) + 1, 0)
    count = np.minimum(rng.geometric(0.35, n) + 1, MAX_N)
    group = np.where(multi == 1, count - 2, np.where(multi == 2, count - 2 + MAX_N - 1, 0))
    group = np.where(multi == 3, 2 * (MAX_N - 1), group)
    return {"multi": multi, "multi_n": count, "multi_group": group}


def _draw_tokens(world: World, rng: np.random.Generator, rows: dict) -> dict[str, np.ndarray]:
    """The price-moving facts: new/sealed, capacity, material, broken, authentic."""
    kt, kind, cond, n = world.kind_table, rows["kind"], rows["cond"], rows["kind"].shape[0]
    new_p = np.where(cond == 1, 0.25, np.where(cond == 2, 0.04, 0.0))
    gb = np.where(kt["capacity"][kind], rng.choice(len(CAPACITIES), size=n, p=_CAPACITY_P), -1)
    mat_group = kt["material"][kind]
    material = world.material_choice.draw(rng, np.maximum(mat_group, 0))
    has_material = (mat_group >= 0) & (rng.random(n) < kt["material_p"][kind])
    broken_p = np.minimum(_BROKEN_P[cond - 1] * kt["broken"][kind], 0.8)
    return {
        "new": rng.random(n) < new_p,
        "gb": gb,
        "material": np.where(has_material, material, -1),
        "broken": rng.random(n) < broken_p,
        "authentic": rng.random(n) < _AUTHENTIC_P[rows["tier"]],
    } | _draw_multi(world, rng, rows)


def _draw_placement(rng: np.random.Generator, rows: dict) -> dict[str, np.ndarray]:
    """Where each price-moving token is written: bit 1 title, bit 2 description."""
    n = rows["kind"].shape[0]
    no_desc = rng.random(n) < 0.06
    out = {"no_desc": no_desc}
    for token in ("multi", "new", "gb", "material", "broken", "authentic"):
        where = rng.choice(np.array([1, 2, 3]), size=n, p=[0.5, 0.25, 0.25])
        out[f"{token}_at"] = np.where(no_desc, 1, where)
    out["multi_at"] = np.where(rng.random(n) < 0.6, 4, 0) | out["multi_at"]  # bit 4: prefix
    return out


def _text_effect(world: World, rows: dict) -> np.ndarray:
    multi, gb, material = rows["multi"], rows["gb"], rows["material"]
    effect = np.where((multi == 1) | (multi == 2), _LOT_PER_LOG_N * np.log(rows["multi_n"]), 0.0)
    effect += np.where(multi == 3, _BUNDLE_EFFECT, 0.0)
    effect += _NEW_EFFECT * rows["new"]
    capacities = np.log2(np.array(CAPACITIES) / 64.0)
    effect += np.where(gb >= 0, _GB_PER_DOUBLING * capacities[np.maximum(gb, 0)], 0.0)
    effect += np.where(material >= 0, world.material_effect[np.maximum(material, 0)], 0.0)
    effect += _BROKEN_EFFECT * rows["broken"] + _AUTHENTIC_EFFECT * rows["authentic"]
    return effect


def _draw_price(
    world: World, rng: np.random.Generator, rows: dict, drift: float
) -> dict[str, np.ndarray]:
    """log1p(price) = leaf + brand + condition + text + inflation + shipping + noise; whole
    dollars."""
    n, cond = rows["leaf"].shape[0], rows["cond"]
    brand = np.where(rows["brand_state"] == 2, _UNBRANDED_EFFECT, world.brand_effect[rows["brand"]])
    sigma = world.leaf_sigma[rows["leaf"]] * np.where(cond >= 4, 1.25, 1.0)
    latent = (
        world.leaf_base[rows["leaf"]]
        + brand
        + _COND_EFFECT[cond - 1]
        + _text_effect(world, rows)
        + _INFLATION * drift
        + sigma * rng.standard_normal(n)
    )
    ship_p = 1.0 / (1.0 + np.exp(_SHIP_SLOPE * (latent - 3.0) - _SHIP_INTERCEPT))
    shipping = (rng.random(n) < ship_p).astype(np.int64)
    price = np.rint(np.expm1(latent + _SHIPPING_EFFECT * shipping))
    to_five = (price > 20) & (rng.random(n) < 0.5)
    price = np.where(to_five, np.rint(price / 5.0) * 5.0, price)
    return {"shipping": shipping, "price": np.clip(price, 3.0, 2000.0)}


def _draw_rows(
    world: World, rng: np.random.Generator, n: int, drift: float
) -> dict[str, np.ndarray]:
    rows = _draw_item(world, rng, n, drift)
    rows |= _draw_brand(world, rng, rows, drift)
    rows |= _draw_tokens(world, rng, rows)
    rows |= _draw_placement(rng, rows)
    return rows | _draw_price(world, rng, rows, drift)


# --- text ----------------------------------------------------------------------------------------
def _join(pieces: Sequence[tuple[Slot, np.ndarray]]) -> pa.Array:
    """Concatenate one vocabulary entry per slot and row; entries carry their own spacing."""
    arrays = [slot.strings.take(pa.array(idx, pa.int64())) for slot, idx in pieces]
    return pc.utf8_rtrim_whitespace(pc.binary_join_element_wise(*arrays, ""))


def _brand_variant(rng: np.random.Generator, state: np.ndarray) -> np.ndarray:
    """Brand spelling in the title: as is, lower or upper case (hidden brands vary more)."""
    u = rng.random(state.shape[0])
    shown = np.where(u < 0.9, 0, 1)
    hidden = np.where(u < 0.55, 0, np.where(u < 0.8, 1, 2))
    return np.where(state == 1, hidden, shown)


def _title(world: World, rng: np.random.Generator, rows: dict) -> pa.Array:
    s, n, kt, kind = world.slots, rows["kind"].shape[0], world.kind_table, rows["kind"]
    zero, every = np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
    new_group, multi_at, state = kt["new"][kind], rows["multi_at"], rows["brand_state"]
    at = {k: (rows[f"{k}_at"] & 1) > 0 for k in ("new", "gb", "material", "broken", "authentic")}
    new_pre = rng.random(n) < 0.5
    brand_shown = (state == 1) | ((state == 0) & (rng.random(n) < 0.75))
    size_group = kt["size"][kind]
    has_size = (size_group >= 0) & (rng.random(n) < kt["size_p"][kind])
    multi, gb, material = rows["multi_group"], rows["gb"], rows["material"]
    return _join(
        [
            (s["multi"], s["multi"].pick(rng, multi, (rows["multi"] > 0) & ((multi_at & 5) == 5))),
            (s["auth"], s["auth"].pick(rng, zero, rows["authentic"] & at["authentic"])),
            (s["new_pre"], s["new_pre"].pick(rng, new_group, rows["new"] & at["new"] & new_pre)),
            (s["brand"], s["brand"].at(rows["brand"], _brand_variant(rng, state), brand_shown)),
            (s["adj"], s["adj"].pick(rng, zero, rng.random(n) < 0.25)),
            (
                s["colour"],
                s["colour"].pick(rng, np.maximum(rows["colour"], 0), rows["colour"] >= 0),
            ),
            (
                s["material"],
                s["material"].pick(rng, np.maximum(material, 0), (material >= 0) & at["material"]),
            ),
            (s["noun"], s["noun"].pick(rng, rows["noun"], every)),
            (s["cap"], s["cap"].pick(rng, np.maximum(gb, 0), (gb >= 0) & at["gb"])),
            (s["size"], s["size"].pick(rng, np.maximum(size_group, 0), has_size)),
            (s["multi"], s["multi"].pick(rng, multi, (rows["multi"] > 0) & ((multi_at & 5) == 1))),
            (s["new_suf"], s["new_suf"].pick(rng, new_group, rows["new"] & at["new"] & ~new_pre)),
            (s["broken"], s["broken"].pick(rng, zero, rows["broken"] & at["broken"])),
        ]
    )


def _intro(world: World, rng: np.random.Generator, rows: dict, has: np.ndarray) -> list:
    """'Selling my Nike leggings in black.' style opening sentence pieces."""
    s, n, zero = world.slots, has.shape[0], np.zeros(has.shape[0], dtype=np.int64)
    with_brand = has & (rows["brand_state"] < 2) & (rng.random(n) < 0.6)
    with_colour = has & (rows["colour"] >= 0) & (rng.random(n) < 0.5)
    colour = s["d_colour"].pick(rng, np.maximum(rows["colour"], 0), with_colour)
    return [
        (s["d_open"], s["d_open"].pick(rng, zero, has)),
        (s["d_brand"], s["d_brand"].pick(rng, rows["brand"], with_brand)),
        (s["d_noun"], s["d_noun"].pick(rng, rows["noun"], has)),
        (s["d_in"], s["d_in"].at(zero, zero, with_colour)),
        (s["d_colour"], colour),
        (s["d_end"], s["d_end"].pick(rng, zero, has)),
    ]


def _token_sentences(world: World, rng: np.random.Generator, rows: dict) -> list:
    s, n, kt = world.slots, rows["kind"].shape[0], world.kind_table
    zero = np.zeros(n, dtype=np.int64)

    def in_desc(token: str) -> np.ndarray:
        return (rows[f"{token}_at"] & 2) > 0

    return [
        (
            s["d_multi"],
            s["d_multi"].pick(rng, rows["multi_group"], (rows["multi"] > 0) & in_desc("multi")),
        ),
        (s["d_new"], s["d_new"].pick(rng, kt["new"][rows["kind"]], rows["new"] & in_desc("new"))),
        (
            s["d_cap"],
            s["d_cap"].pick(rng, np.maximum(rows["gb"], 0), (rows["gb"] >= 0) & in_desc("gb")),
        ),
        (
            s["d_material"],
            s["d_material"].pick(
                rng, np.maximum(rows["material"], 0), (rows["material"] >= 0) & in_desc("material")
            ),
        ),
        (s["d_broken"], s["d_broken"].pick(rng, zero, rows["broken"] & in_desc("broken"))),
        (s["d_auth"], s["d_auth"].pick(rng, zero, rows["authentic"] & in_desc("authentic"))),
    ]


def _description(world: World, rng: np.random.Generator, rows: dict) -> pa.Array:
    s, n, kind = world.slots, rows["kind"].shape[0], rows["kind"]
    zero = np.zeros(n, dtype=np.int64)
    has_cond = rng.random(n) < 0.7
    has_intro = ~has_cond | (rng.random(n) < 0.5)
    text = _join(
        [
            (s["d_cond"], s["d_cond"].pick(rng, rows["cond"] - 1, has_cond)),
            *_intro(world, rng, rows, has_intro),
            *_token_sentences(world, rng, rows),
            (s["d_fill"], s["d_fill"].pick(rng, kind, rng.random(n) < 0.5)),
            (s["d_generic"], s["d_generic"].pick(rng, zero, rng.random(n) < 0.45)),
            (s["d_generic"], s["d_generic"].pick(rng, zero, rng.random(n) < 0.15)),
            (s["d_rm"], s["d_rm"].pick(rng, zero, rng.random(n) < 0.08)),
            (s["d_ship"], s["d_ship"].pick(rng, rows["shipping"], rng.random(n) < 0.2)),
        ]
    )
    return pc.if_else(pa.array(rows["no_desc"]), pa.scalar(NO_DESCRIPTION, pa.string()), text)


# --- assembly ------------------------------------------------------------------------------------
def _chunk(
    world: World, rng: np.random.Generator, ids: np.ndarray, ts: np.ndarray, drift: float
) -> pa.Table:
    rows = _draw_rows(world, rng, ids.shape[0], drift)
    category = world.leaf_names.take(pa.array(rows["leaf"], mask=rows["no_category"]))
    brand = world.brand_names.take(pa.array(rows["brand"], mask=rows["brand_state"] != 0))
    columns = [
        pa.array(ids, pa.int64()),
        _title(world, rng, rows),
        pa.array(rows["cond"], pa.int64()),
        category,
        brand,
        pa.array(rows["price"], pa.float64()),
        pa.array(rows["shipping"], pa.int64()),
        _description(world, rng, rows),
        pa.array(ts, pa.timestamp("us")),
    ]
    return pa.Table.from_arrays(columns, schema=LISTING_SCHEMA)


def _default_end() -> datetime:
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day)


def _to_naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _created_at(rng: np.random.Generator, rows: int, end: datetime, days: int) -> np.ndarray:
    """Sorted microsecond timestamps in [end - days, end), busier on weekends."""
    start_us = (end - timedelta(days=days) - _EPOCH) // timedelta(microseconds=1)
    day_start = start_us + np.arange(days, dtype=np.int64) * _US_PER_DAY
    weekday = (day_start // _US_PER_DAY + 3) % 7  # 1970-01-01 was a Thursday
    weights = _DOW_WEIGHTS[weekday]
    day = rng.choice(days, size=rows, p=weights / weights.sum())
    ts = day_start[day] + rng.integers(0, _US_PER_DAY, size=rows, dtype=np.int64)
    ts.sort()
    return ts


def generate_listings(
    rows: int,
    seed: int = 0,
    end: datetime | None = None,
    days: int = 365,
    id_offset: int = 0,
    drift: float = 0.0,
) -> pa.Table:
    """`rows` synthetic listings in the Mercari schema (columns LISTING_SCHEMA), as a pyarrow Table.

    created_at (naive UTC, microseconds) lies in [end - days, end), sorted ascending, so
    train_id = id_offset + row index increases with time; `end` defaults to today's midnight
    UTC. `drift` in [0, 1] moves the market (trending leaves and brands, inflation; see the
    module docstring); 0 is today's market. The table is a pure function of (rows, seed, end,
    days, id_offset, drift): the world is fixed by WORLD_SEED and the rows are drawn from `seed`,
    which with drift alone decides the content (id_offset only shifts the ids), so use distinct
    seeds for batches that should differ.
    """
    if rows < 0 or days < 1 or id_offset < 0:
        raise ValueError(
            f"need rows >= 0, days >= 1, id_offset >= 0; got {rows}, {days}, {id_offset}"
        )
    if not 0.0 <= drift <= 1.0:
        raise ValueError(f"need 0 <= drift <= 1; got {drift}")
    world, rng = load_world(), np.random.default_rng(seed)
    end = _to_naive_utc(end) if end is not None else _default_end()
    ts = _created_at(rng, rows, end, days)
    ids = np.arange(id_offset, id_offset + rows, dtype=np.int64)
    chunks = [
        _chunk(world, rng, ids[i : i + _CHUNK_ROWS], ts[i : i + _CHUNK_ROWS], drift)
        for i in range(0, rows, _CHUNK_ROWS)
    ]
    return pa.concat_tables(chunks) if chunks else LISTING_SCHEMA.empty_table()


ACTIVE_DAYS = 30  # live listings were listed within this many days before `end`
MARKUP_SD = 0.3  # sd of the log of a seller's listed price over the market's price


def active_listings(rows: int, seed: int = 0, end: datetime | None = None) -> pa.Table:
    """`rows` live listings of the demo market (columns ACTIVE_LISTING_SCHEMA): drawn as
    `generate_listings(rows, seed, end, ACTIVE_DAYS)` draws listings, with ids `live-<n>`,
    listed at the market's price times the seller's own markup (log-normal, sd MARKUP_SD)
    since their `created_at`."""
    listings = generate_listings(rows, seed=seed, end=end, days=ACTIVE_DAYS)
    markup = np.exp(np.random.default_rng([seed, 1]).normal(0.0, MARKUP_SD, rows))
    listed = np.round(listings["price"].to_numpy() * markup, 2)
    columns = {
        "listing_id": [f"live-{i}" for i in listings["train_id"].to_pylist()],
        **{name: listings[name] for name in LISTING_FIELDS},
        "listed_price": listed,
        "listed_at": listings["created_at"],
    }
    return pa.table(columns, schema=ACTIVE_LISTING_SCHEMA)
