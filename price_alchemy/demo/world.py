"""The fixed world that price_alchemy.demo.generator draws synthetic listings from: a three-level
category tree with skewed popularity, real and made-up brands with price tiers and home
categories, and the string vocabularies of titles and descriptions. The words and tables live in
world.yaml next to this module; `load_world` reads them on first use, adds what WORLD_SEED
decides (leaf noise levels, made-up brands, brand weights and effects) and caches the result as
numpy and pyarrow arrays ready for vectorised drawing, so every process sees the same world and
nothing is read or built at import time. The market that drift moves to (trending leaves and
brands of the YAML's `drift` section, with noise from a generator seeded DRIFT_SEED) is appended
after the base leaves, nouns and brands, so the base world and its drift-0 listings stay the same.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

WORLD_SEED = 20_171_121
DRIFT_SEED = WORLD_SEED + 1  # the trending part of the world, drawn apart from the base
TIERS = ("luxury", "premium", "mid", "budget")  # brand price tiers; unbranded is len(TIERS)
CAPACITIES = (16, 32, 64, 128, 256, 512)  # storage sizes in GB
MAX_N = 12  # the most items in a lot or a set
_TABLES_FILE = Path(__file__).with_name("world.yaml")
_TIER_EFFECT = np.array([1.4, 0.5, 0.0, -0.3])  # on log1p(price), by tier
_GENERATED_BRANDS = 230
_GENERATED_TIER_P = np.array([0.02, 0.15, 0.45, 0.38])

_Tables = dict[str, Any]


@dataclass(frozen=True)
class Slot:
    """A string vocabulary: entry 0 is "", group g owns entries starts[g] .. starts[g]+counts[g]."""

    strings: pa.Array
    starts: np.ndarray
    counts: np.ndarray

    def pick(self, rng: np.random.Generator, group: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Uniformly one entry of each row's group where mask holds, else entry 0 ("")."""
        offset = (rng.random(group.shape[0]) * self.counts[group]).astype(np.int64)
        return np.where(mask, self.starts[group] + offset, 0)

    def at(self, group: np.ndarray, variant: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Entry `variant` of each row's group where mask holds, else entry 0 ("")."""
        return np.where(mask, self.starts[group] + variant, 0)


@dataclass(frozen=True)
class Grouped:
    """Weighted choice of a value within each row's group, vectorised with one searchsorted."""

    cum: np.ndarray  # group g's cumulative probabilities, shifted by g
    values: np.ndarray

    def draw(self, rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
        u = np.minimum(rng.random(group.shape[0]), 1.0 - 1e-9)
        return self.values[np.searchsorted(self.cum, group + u, side="right")]


@dataclass(frozen=True)
class World:
    """Everything fixed by WORLD_SEED: category tree, brands, effects and vocabularies. The
    per-leaf and per-brand arrays and the noun and brand slots end with the trending entries;
    leaf_choice and brand_choice draw base ones only, the trend_ choosers trending ones only."""

    leaf_names: pa.Array
    leaf_top: np.ndarray
    leaf_kind: np.ndarray
    leaf_base: np.ndarray
    leaf_sigma: np.ndarray
    leaf_choice: Grouped
    noun_start: np.ndarray
    noun_count: np.ndarray
    top_missing: np.ndarray
    brand_names: pa.Array
    brand_tier: np.ndarray
    brand_effect: np.ndarray
    brand_choice: Grouped
    trend_leaf_choice: Grouped
    trend_brand_choice: Grouped
    kind_count: int
    kind_table: dict[str, np.ndarray]
    colour_count: int
    material_choice: Grouped
    material_effect: np.ndarray
    slots: dict[str, Slot]


@functools.cache
def _tables() -> _Tables:
    """The contents of world.yaml, read once."""
    return yaml.safe_load(_TABLES_FILE.read_text(encoding="utf-8"))


def _slot(groups: Sequence[Sequence[str]], end: str = " ") -> Slot:
    """A Slot whose group g holds the variants groups[g], each followed by `end`."""
    flat, starts, counts = [""], [], []
    for variants in groups:
        starts.append(len(flat))
        counts.append(len(variants))
        flat.extend(v + end for v in variants)
    return Slot(pa.array(flat, pa.string()), np.array(starts), np.array(counts))


def _grouped(groups: Sequence[tuple[Sequence[int], Sequence[float] | np.ndarray]]) -> Grouped:
    """A Grouped from (values, weights) per group; every group needs at least one value."""
    cums: list[np.ndarray] = []
    values: list[int] = []
    for group, (vals, weights) in enumerate(groups):
        p = np.cumsum(np.asarray(weights, dtype=float))
        p /= p[-1]
        p[-1] = 1.0
        cums.append(group + p)
        values.extend(vals)
    return Grouped(np.concatenate(cums), np.array(values, dtype=np.int64))


# --- category tree, brands, kinds and materials --------------------------------------------------
def _category_arrays(t: _Tables, rng: np.random.Generator) -> dict:
    """Leaf names, tops, kinds, bases, noise levels, popularity and noun ranges."""
    leaves, tops, kind_names = t["leaves"], t["tops"], list(t["kinds"])
    top_codes = [code for code, *_ in tops]
    top = np.array([top_codes.index(leaf[0]) for leaf in leaves])
    weight = np.array([float(leaf[5]) for leaf in leaves])
    top_share = np.array([float(share) for _, _, share, _ in tops])
    leaf_p = top_share[top] * weight / np.bincount(top, weights=weight)[top]
    counts = np.array([len(leaf[6]) for leaf in leaves])
    return {
        "leaf_names": pa.array(
            [f"{tops[i][1]}/{leaf[1]}/{leaf[2]}" for i, leaf in zip(top, leaves, strict=True)],
            pa.string(),
        ),
        "leaf_top": top,
        "leaf_kind": np.array([kind_names.index(leaf[3]) for leaf in leaves]),
        "leaf_base": np.array([float(leaf[4]) for leaf in leaves]),
        "leaf_sigma": rng.uniform(0.27, 0.43, len(leaves)),
        "leaf_choice": _grouped([(range(len(leaves)), leaf_p)]),
        "noun_start": np.concatenate([[0], np.cumsum(counts)[:-1]]),
        "noun_count": counts,
        "nouns": [noun for leaf in leaves for noun in leaf[6]],
    }


def _generated_brands(
    t: _Tables, rng: np.random.Generator, taken: set[str]
) -> list[tuple[str, int, str]]:
    """Made-up brands: (name, tier index, home top codes), mostly mid and budget, any kind."""
    first, second = t["brand_syllables"]["first"], t["brand_syllables"]["second"]
    top_codes = "".join(code for code, *_ in t["tops"])
    top_p = np.sqrt([float(share) for _, _, share, _ in t["tops"]])
    top_p /= top_p.sum()
    brands: list[tuple[str, int, str]] = []
    while len(brands) < _GENERATED_BRANDS:
        parts = rng.choice(first), rng.choice(second), rng.choice(t["brand_suffixes"])
        extra = rng.choice(second) if rng.random() < 0.3 else ""
        name = f"{parts[0]}{parts[1]}{extra}{parts[2]}"
        if name in taken:
            continue
        taken.add(name)
        homes = rng.choice(len(top_codes), size=1 + int(rng.random() < 0.3), replace=False, p=top_p)
        tier = int(rng.choice(len(TIERS), p=_GENERATED_TIER_P))
        brands.append((name, tier, "".join(top_codes[h] for h in homes)))
    return brands


def _brand_groups(
    t: _Tables, homes: list[str], makes: list[set[str]], weight: np.ndarray
) -> Grouped:
    """Brand chooser per (top, kind) group = top * kind count + kind: brands at home in the top
    that make the kind (made-up brands make every kind), else any brand of the top."""
    groups = []
    for code, *_ in t["tops"]:
        in_top = [i for i, h in enumerate(homes) if code in h]
        for kind in t["kinds"]:
            members = [i for i in in_top if not makes[i] or kind in makes[i]] or in_top
            groups.append((members, weight[members]))
    return _grouped(groups)


def _brand_arrays(t: _Tables, rng: np.random.Generator) -> dict:
    """Brand names, tiers, price effects and a per-(top, kind) weighted brand chooser."""
    real = t["real_brands"]
    brands = [(name, TIERS.index(tier), homes) for name, tier, homes, _ in real]
    brands += _generated_brands(t, rng, {b[0] for b in brands})
    makes = [set(kinds) for *_, kinds in real] + [set()] * (len(brands) - len(real))
    tier = np.array([b[1] for b in brands])
    weight = np.concatenate(
        [rng.lognormal(2.4, 0.8, len(real)), rng.lognormal(0.0, 0.9, len(brands) - len(real))]
    )
    weight *= np.where(tier == 0, 0.4, 1.0)
    weight *= np.where(np.isin([b[0] for b in brands], t["popular_brands"]), 3.0, 1.0)
    return {
        "brand_names": pa.array([b[0] for b in brands], pa.string()),
        "brand_tier": tier,
        "brand_effect": _TIER_EFFECT[tier] + rng.normal(0.0, 0.12, len(brands)),
        "brand_choice": _brand_groups(t, [b[2] for b in brands], makes, weight),
        "brand_variants": [(b[0], b[0].lower(), b[0].upper()) for b in brands],
    }


# --- the drifted market -------------------------------------------------------------------------
def _appended(base: dict, extra: dict) -> dict:
    """base with extra's arrays and lists appended to base's of the same keys."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, pa.Array):
            out[key] = pa.concat_arrays([base[key], value])
        elif isinstance(value, list):
            out[key] = base[key] + value
        else:
            out[key] = np.concatenate([base[key], value])
    return out


def _trend_categories(t: _Tables, rng: np.random.Generator, cat: dict) -> dict:
    """cat with the trending leaves appended, and a chooser among them by their popularity."""
    leaves, base = t["drift"]["leaves"], len(cat["leaf_top"])
    trend = _category_arrays(t | {"leaves": leaves}, rng)
    del trend["leaf_choice"]  # by top share; trending leaves are drawn by their own weights
    trend["noun_start"] += len(cat["nouns"])
    chooser = _grouped([(range(base, base + len(leaves)), [float(f[5]) for f in leaves])])
    return _appended(cat, trend) | {"trend_leaf_choice": chooser}


def _trend_brands(t: _Tables, rng: np.random.Generator, brands: dict) -> dict:
    """brands with the trending brands appended, and a per-(top, kind) chooser among them."""
    trend, base = t["drift"]["brands"], len(brands["brand_tier"])
    tier = np.array([TIERS.index(tier) for _, tier, _, _ in trend])
    homes, makes = [b[2] for b in trend], [set(b[3]) for b in trend]
    chooser = _brand_groups(t, homes, makes, rng.lognormal(0.0, 0.5, len(trend)))
    extra = {
        "brand_names": pa.array([b[0] for b in trend], pa.string()),
        "brand_tier": tier,
        "brand_effect": _TIER_EFFECT[tier] + rng.normal(0.0, 0.12, len(trend)),
        "brand_variants": [(b[0], b[0].lower(), b[0].upper()) for b in trend],
    }
    trend_choice = Grouped(chooser.cum, chooser.values + base)
    return _appended(brands, extra) | {"trend_brand_choice": trend_choice}


def _kind_table(t: _Tables) -> dict[str, np.ndarray]:
    """Per-kind attributes as arrays indexed by kind number (-1: no size / material group)."""
    kinds = list(t["kinds"].values())
    news = list(t["tokens"]["new"])

    def rates(key: str) -> np.ndarray:
        return np.array([k[key] for k in kinds], dtype=float)

    def group(key: str, names: list[str]) -> np.ndarray:
        return np.array([names.index(k[key]) if k[key] else -1 for k in kinds])

    return {
        "size": group("size", list(t["sizes"])),
        "size_p": rates("size_p"),
        "material": group("material", list(t["materials"])),
        "material_p": rates("material_p"),
        "colour_p": rates("colour_p"),
        "new": np.array([news.index(k["new"]) for k in kinds]),
        "capacity": np.array([bool(k["capacity"]) for k in kinds]),
        "multi": rates("multi"),
        "broken": rates("broken"),
    }


def _material_arrays(t: _Tables) -> dict:
    """Flat material list (names, effects) and a per-group weighted chooser."""
    names: list[str] = []
    effects: list[float] = []
    groups = []
    for entries in t["materials"].values():
        ids = range(len(names), len(names) + len(entries))
        groups.append((ids, [float(weight) for *_, weight in entries]))
        names.extend(name for name, *_ in entries)
        effects.extend(float(effect) for _, effect, _ in entries)
    return {
        "materials": names,
        "material_effect": np.array(effects),
        "material_choice": _grouped(groups),
    }


# --- vocabularies --------------------------------------------------------------------------------
def _filled(templates: Sequence[str], values: Sequence[Any], key: str) -> list[tuple[str, ...]]:
    """One group per value: every template with {key} replaced by that value."""
    return [tuple(tpl.format_map({key: value}) for tpl in templates) for value in values]


def _multi_groups(tokens: _Tables, form: str) -> list[tuple[str, ...]]:
    """Wording of lot / set / bundle: groups 0..10 lot of N, 11..21 set of N, 22 bundle."""
    ns = range(2, MAX_N + 1)
    lots = _filled(tokens["lot"][form], ns, "n")
    sets = _filled(tokens["set"][form], ns, "n")
    return lots + sets + [tuple(tokens["bundle"][form])]


def _case_variants(word: str) -> tuple[str, ...]:
    """A lower-case word and its capitalised form; acronyms ("HTF", "EUC") as they are."""
    return (word, word.capitalize()) if word.islower() else (word,)


def _title_slots(t: _Tables, cat: dict, brands: dict, mats: dict) -> dict[str, Slot]:
    """The vocabularies of titles, one slot per position a title may fill."""
    tokens, news = t["tokens"], t["tokens"]["new"].values()
    return {
        "multi": _slot(_multi_groups(tokens, "title")),
        "auth": _slot([tokens["authentic"]["title"]]),
        "new_pre": _slot([new["title_prefix"] for new in news]),
        "brand": _slot(brands["brand_variants"]),
        "adj": _slot([[v for a in t["adjectives"] for v in _case_variants(a)]]),
        "colour": _slot([(c, c.capitalize()) for c in t["colours"]]),
        "material": _slot([(m, m.title()) for m in mats["materials"]]),
        "noun": _slot([(n, n.title()) for n in cat["nouns"]]),
        "cap": _slot(_filled(tokens["capacity"]["title"], CAPACITIES, "gb")),
        "size": _slot(list(t["sizes"].values())),
        "new_suf": _slot([new["title_suffix"] for new in news]),
        "broken": _slot([tokens["broken"]["title"]]),
    }


def _description_slots(t: _Tables, cat: dict, brands: dict, mats: dict) -> dict[str, Slot]:
    """The vocabularies of descriptions ("d_" slots), in the order sentences are joined."""
    tokens = t["tokens"]
    return {
        "d_cond": _slot(t["condition_phrases"]),
        "d_open": _slot([t["openers"]]),
        "d_brand": _slot([(b[0],) for b in brands["brand_variants"]]),
        "d_noun": _slot([(n,) for n in cat["nouns"]], end=""),
        "d_in": _slot([(" in",)]),
        "d_colour": _slot([(c,) for c in t["colours"]], end=""),
        "d_end": _slot([(".", "!")]),
        "d_multi": _slot(_multi_groups(tokens, "description")),
        "d_new": _slot([new["description"] for new in tokens["new"].values()]),
        "d_cap": _slot(_filled(tokens["capacity"]["description"], CAPACITIES, "gb")),
        "d_material": _slot(_filled(tokens["material"]["description"], mats["materials"], "m")),
        "d_broken": _slot([tokens["broken"]["description"]]),
        "d_auth": _slot([tokens["authentic"]["description"]]),
        "d_fill": _slot([t["fillers"][kind] for kind in t["kinds"]]),
        "d_generic": _slot([t["generic_fillers"]]),
        "d_rm": _slot([t["rm_sentences"]]),
        "d_ship": _slot(t["shipping_sentences"]),
    }


@functools.cache
def load_world() -> World:
    """The fixed synthetic world, built on first use from world.yaml and WORLD_SEED."""
    t, rng = _tables(), np.random.default_rng(WORLD_SEED)
    cat, brands, mats = _category_arrays(t, rng), _brand_arrays(t, rng), _material_arrays(t)
    drift_rng = np.random.default_rng(DRIFT_SEED)
    cat, brands = _trend_categories(t, drift_rng, cat), _trend_brands(t, drift_rng, brands)
    slots = _title_slots(t, cat, brands, mats) | _description_slots(t, cat, brands, mats)
    drop = {"nouns", "brand_variants", "materials"}
    fields = {k: v for part in (cat, brands, mats) for k, v in part.items() if k not in drop}
    return World(
        top_missing=np.array([float(missing) for *_, missing in t["tops"]]),
        kind_count=len(t["kinds"]),
        kind_table=_kind_table(t),
        colour_count=len(t["colours"]),
        slots=slots,
        **fields,
    )
