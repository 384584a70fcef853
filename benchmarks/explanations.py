"""Explanations: do a listing's factors name the title words that truly move its price?

    python benchmarks/explanations.py [--rows 400000] [--test-rows 50000] [--seed 707]
    python benchmarks/explanations.py --data train.parquet --test-data test.parquet

Data: `--data` and `--test-data` files, else both drawn by the shared generator (`--generator`,
`make_listings.py`): `--rows` training listings of seed `--seed`, and `--test-rows` test
listings of seed `--test-seed` with ids from `--test-id-offset`. Both files go through the
pipeline's normalisation and validation rules. `fit_model` is fit on the training split of the
train file (`split_listings`); its test split is not used, the test file is.

The generator's title effects (its README and `make_listings.py`) are grouped by what they do
to log price (`EFFECTS`; each group's true sign is the sign of every phrase in it). A test
listing belongs to a group when its lowercased title matches the group's pattern (phrases that
share words with effectless tokens are left out: "set of 2" and "set of 4" are also bedding
sizes, "game bundle", "booster bundle", "sealed packs", "signed photo" and "leather belt" are
product nouns, "genuine leather" is a material, not "authentic"; 64GB has no effect).

A factor **names** the effect when it is a title, description or crossed factor whose quoted
term holds one of the effect's **key words**: the words (scikit-learn's tokens, 2+ characters)
of the phrase as written in that title, less the connectives in `CONNECTIVES`. So "parts" for
"for parts", "14k" or "gold" for "14k gold", "nwt" for "NWT", "new" or "tags" for "new with
tags", "lot" for "lot of 3", "x3" for "x3", "128gb" for "128GB", "128" or "gb" for "128 GB".
Its **rank** is its place among the listing's factors without "other" and "floor", from 1,
of the first factor that names the effect; the explanations are built with no cap on the number
of factors (`top` of the Explainer), so that every listing's full order is seen (the first
three are the same as with the served cap of eight). A listing counts once in a group however
many of its phrases the title holds; "as is" keeps both words.

Per group: the listings found, the share where a naming factor exists at all, the share where
it is among the first three, the share where additionally that factor's effect has the true
sign, the median rank (of listings with a naming factor), and, for the phrase as a whole, the
share where the log effects of all its naming factors add up to the true sign, and their median
sum ("net": "faux leather" is "faux" and "leather", a word that alone raises prices, so its first
naming factor can have the wrong sign while the two together have the right one).

Latency: `explain` of one listing (p50/p99 over 200 test listings, the served Explainer with its
default cap) and of one call with 100 listings. Prints a table, then one JSON object as the last
line: {"effects": [{effect, truth, sign, listings, named, top3, top3_signed, median_rank,
net_signed, net_median}], "latency_ms": {...}, "fit_seconds", "rows", "test_rows", ...}.
"""

import argparse
import json
import logging
import re
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import generated_listings
import numpy as np
import pandas as pd

from price_alchemy.model.explain import Explainer, Explanation
from price_alchemy.model.features import WORD, listing_columns
from price_alchemy.model.train import blend_summary, fit_model, split_listings
from price_alchemy.params import load_params
from price_alchemy.schema import LISTING_FIELDS

BATCH = 500  # listings per explain call while scoring
TIMED_LISTINGS = 200
CALL_LISTINGS = 100
NAMING_KINDS = ("title", "description", "crossed")
CONNECTIVES = {"for", "of", "with", "in", "not", "only", "brand", "pc", "one", "100"}
LOT_N = r"(?:[3-9]|1[0-5])"  # the generator's lots hold 3 to 15


@dataclass(frozen=True)
class Effect:
    name: str
    sign: int
    truth: str  # the generator's effect on log1p(price)
    pattern: re.Pattern


def _effect(name: str, sign: int, truth: str, pattern: str) -> Effect:
    return Effect(name, sign, truth, re.compile(pattern))


EFFECTS = (
    _effect("for parts / broken", -1, "-0.9",
            r"\bfor parts\b|\bparts only\b|\bbroken\b|\bnot working\b|\bas is\b|\bfor repair\b"),
    _effect("14k/10k/18k/solid gold", 1, "+0.6..+1.0", r"\b(?:10k|14k|18k|solid) gold\b"),
    _effect("sterling / 925 silver", 1, "+0.3..+0.35", r"\b(?:sterling|925) silver\b"),
    _effect("real diamond / moissanite", 1, "+0.45..+0.9", r"\breal diamond\b|\bmoissanite\b"),
    _effect("plated / costume / CZ", -1, "-0.05..-0.25",
            r"\b(?:gold|silver) plated\b|\bcostume\b|\bcubic zirconia\b"),
    _effect("cashmere / silk / wool", 1, "+0.15..+0.4", r"\bcashmere\b|\bsilk\b|\bwool\b"),
    _effect("leather / suede", 1, "+0.1..+0.35",
            r"(?<!faux )(?<!vegan )\bleather\b(?! belt)|\bsuede\b|\bcoated canvas\b"),
    _effect("faux / vegan leather", -1, "-0.05..-0.12", r"\b(?:faux|vegan) leather\b"),
    _effect("polyester / rayon / nylon", -1, "-0.05..-0.08", r"\bpolyester\b|\brayon\b|\bnylon\b"),
    _effect("NWT / new with tags", 1, "+0.16", r"\bb?nwt\b|\bnew w(?:ith|/) tags\b"),
    _effect("sealed / NIB / NIP", 1, "+0.16",
            r"\bsealed\b(?! packs)|\bb?nib\b|\bnew in box\b|\bnip\b"),
    _effect("authentic", 1, "+0.12/+0.25", r"\bauthentic\b|\bauth\b|\bgenuine\b(?! leather)"),
    _effect("lot of N (N >= 3)", 1, "+0.33 ln N",
            rf"\blot of {LOT_N}\b|\b{LOT_N} pc lot\b|\bset of (?:3|[5-9]|1[0-5])\b"
            rf"|\b{LOT_N} pack\b|\bx{LOT_N}\b|\b{LOT_N} for one price\b"),
    _effect("bundle", 1, "+0.38", r"(?<!game )(?<!booster )\bbundle\b"),
    _effect("capacity 8-32GB", -1, "-0.14..-0.42", r"\b(?:8|16|32) ?gb\b"),
    _effect("capacity 128GB-2TB", 1, "+0.14..+0.7", r"\b(?:128|256|512) ?gb\b|\b[12] ?tb\b"),
    _effect("rare / limited edition / HTF", 1, "+0.15..+0.2",
            r"\brare\b|\blimited edition\b|\bhtf\b"),
    _effect("signed", 1, "+0.3", r"\bsigned\b(?! photo)"),
    _effect("travel size / deluxe sample", -1, "-0.35/-0.45", r"\btravel size\b|\bdeluxe sample\b"),
    _effect("dupe / inspired / knockoff", -1, "-0.2..-0.4", r"\bdupe\b|\binspired\b|\bknockoff\b"),
)  # fmt: skip
TERM = re.compile(r'"([^"]*)"')


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def key_words(title: str) -> dict[int, set[str]]:
    """The effects a (lowercased) title holds, each with the key words of its phrases there."""
    found: dict[int, set[str]] = {}
    for index, effect in enumerate(EFFECTS):
        for match in effect.pattern.finditer(title):
            found.setdefault(index, set()).update(set(WORD.findall(match.group())) - CONNECTIVES)
    return found


def naming_factors(explanation: Explanation, words: set[str]) -> dict:
    """The rank (from 1) and log effect of the first factor naming one of `words` (None and 0
    without one), and the log effects of all such factors summed."""
    ranked = [f for f in explanation.factors if f.kind not in ("other", "floor")]
    found = {"rank": None, "log_effect": 0.0, "net": 0.0}
    for rank, factor in enumerate(ranked, start=1):
        term = TERM.search(factor.label) if factor.kind in NAMING_KINDS else None
        if term and words & set(WORD.findall(term.group(1).lower())):
            if found["rank"] is None:
                found |= {"rank": rank, "log_effect": factor.log_effect}
            found["net"] += factor.log_effect
    return found


def explain_hits(explainer: Explainer, test: pd.DataFrame) -> list[dict]:
    """One record per (listing, effect its title holds): the rank and sign of its naming
    factor."""
    hits = {i: key_words(str(title).lower()) for i, title in enumerate(test["name"])}
    rows = [i for i, found in hits.items() if found]
    print(f"{len(rows):,} of {len(test):,} test titles hold an effect phrase", flush=True)
    records, started = [], time.perf_counter()
    for n in range(0, len(rows), BATCH):
        batch = rows[n : n + BATCH]
        listings = test.iloc[batch][list(LISTING_FIELDS)].to_dict("records")
        for i, explanation in zip(batch, explainer.explain(listing_columns(listings)), strict=True):
            for effect, words in hits[i].items():
                records.append({"effect": effect} | naming_factors(explanation, words))
        done = min(n + BATCH, len(rows))
        print(f"  explained {done:,}/{len(rows):,} ({time.perf_counter() - started:.0f} s)",
              flush=True)  # fmt: skip
    return records


def summarise(records: list[dict]) -> list[dict]:
    table = pd.DataFrame(records, columns=["effect", "rank", "log_effect", "net"])
    rows = []
    for index, effect in enumerate(EFFECTS):
        group = table[table["effect"] == index]
        ranks = group["rank"].dropna()
        top3 = group["rank"].le(3)
        signed = top3 & (np.sign(group["log_effect"]) == effect.sign)
        n = len(group)
        rows.append({
            "effect": effect.name, "truth": effect.truth, "sign": effect.sign, "listings": n,
            "named": _share(len(ranks), n), "top3": _share(int(top3.sum()), n),
            "top3_signed": _share(int(signed.sum()), n),
            "median_rank": float(ranks.median()) if len(ranks) else None,
            "net_signed": _share(int((np.sign(group["net"]) == effect.sign).sum()), n),
            "net_median": round(float(group["net"].median()), 3) if n else None,
        })  # fmt: skip
    return rows


def _share(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def latency(explainer: Explainer, test: pd.DataFrame) -> dict:
    """Milliseconds of `explain`: one listing at a time, and one call of 100 listings."""
    listings = test[list(LISTING_FIELDS)].head(TIMED_LISTINGS).to_dict("records")
    explainer.explain(listing_columns(listings[:1]))  # warm up
    times = []
    for listing in listings:
        started = time.perf_counter()
        explainer.explain(listing_columns([listing]))
        times.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    explainer.explain(listing_columns(listings[:CALL_LISTINGS]))
    call_ms = (time.perf_counter() - started) * 1000
    return {
        "single_p50": round(statistics.median(times), 2),
        "single_p99": round(float(np.percentile(times, 99)), 2),
        f"call_{CALL_LISTINGS}": round(call_ms, 1),
        f"call_{CALL_LISTINGS}_per_listing": round(call_ms / CALL_LISTINGS, 2),
    }


def print_table(effects: list[dict], figures: dict) -> None:
    table = pd.DataFrame(effects).drop(columns="sign")
    for column in ("named", "top3", "top3_signed", "net_signed"):
        table[column] = table[column].map(lambda v: "-" if v is None else f"{v:.1%}")
    print(table.to_string(index=False))
    latency_ms = figures["latency_ms"]
    print(
        f"\nexplain latency: one listing p50 {latency_ms['single_p50']} ms, "
        f"p99 {latency_ms['single_p99']} ms; one call of {CALL_LISTINGS} listings "
        f"{latency_ms[f'call_{CALL_LISTINGS}']} ms; Explainer built in "
        f"{figures['explainer_seconds']} s"
    )
    print(
        f"fit {figures['fit_seconds']} s on {figures['fit_rows']:,} listings; "
        f"test {figures['test_rows']:,}; peak RSS {figures['peak_rss_mb']} MB"
    )
    print(f"blend: {figures['blend']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", type=Path, help="a params.yaml to merge over the defaults")
    generated_listings.add_arguments(parser, 400_000, 707, 50_000, 808)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    params = load_params(args.params)
    train, test = generated_listings.listings_and_test(args, params)
    fit_rows, _ = split_listings(train, params.split)
    print(f"fitting on the training split: {len(fit_rows):,} listings", flush=True)
    started = time.perf_counter()
    model = fit_model(fit_rows, params)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    served = Explainer(model)
    explainer_seconds = time.perf_counter() - started
    effects = summarise(explain_hits(Explainer(model, top=1_000_000), test))
    figures = {
        "effects": effects,
        "latency_ms": latency(served, test),
        "explainer_seconds": round(explainer_seconds, 2),
        "fit_seconds": round(fit_seconds, 1),
        "blend": {name: round(float(value), 3) for name, value in blend_summary(model).items()},
        "rows": len(train),
        "fit_rows": len(fit_rows),
        "test_rows": len(test),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    print_table(effects, figures)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
