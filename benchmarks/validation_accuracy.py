"""Check validation against known corruptions: load, extract and validate a file made by
`../shared/datasets/make_listings.py --dirty F`, then compare every row's fate with the
generator's `<file>.dirty.json`.

    python benchmarks/validation_accuracy.py --data listings.tsv

Expected: each bad price, name, condition, shipping, category or duplicated id is quarantined
with a reason naming its column; free-text faults (HTML/URL/emoji, 20k characters) are kept and
cleaned; no clean row is quarantined except the twin of a duplicated id. Prints a table per
corruption kind, then one JSON object as the last line; exits 1 on any mismatch.
"""

import argparse
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import pandas as pd

EXPECTED_COLUMN = {
    "price_zero": "price",
    "price_negative": "price",
    "price_absurd": "price",
    "name_null": "name",
    "name_empty": "name",
    "condition_out_of_range": "item_condition_id",
    "shipping_invalid": "shipping",
    "duplicate_train_id": "train_id",
    "category_bad_separator": "category_name",
}
KEPT = ("description_html_url_emoji", "description_20k_chars")
WINDOW = (datetime(2000, 1, 1), datetime(2100, 1, 1))


def run_pipeline(source: Path, home: Path) -> dict:
    from price_alchemy.pipeline import data_stages
    from price_alchemy.settings import Settings

    settings = Settings(home=home)
    data_stages.run_load(source, WINDOW[0], True, settings)
    snapshot = data_stages.run_extract(*WINDOW, settings=settings)
    return data_stages.run_validate(snapshot.uri, settings)


def _kept_and_clean(record: dict, clean: pd.DataFrame, cap: int) -> bool:
    rows = clean[clean["train_id"] == record["train_id"]]
    if len(rows) != 1:
        return False
    text = rows["item_description"].iloc[0] or ""
    return len(text) <= cap and "<" not in text and "http" not in text


def judge(records: list[dict], result: dict, cap: int) -> dict[str, dict[str, int]]:
    """Per corruption kind: rows as expected and rows not."""
    quarantine = pd.read_parquet(result.quarantine_uri)
    reasons = dict(zip(quarantine["train_id"].astype(int), quarantine["reasons"], strict=True))
    clean = pd.read_parquet(result.clean_uri, columns=["train_id", "item_description"])
    table: dict[str, dict[str, int]] = {}
    for record in records:
        kind = record["reasons"][0]
        if kind in KEPT:
            good = _kept_and_clean(record, clean, cap)
        else:
            good = f"{EXPECTED_COLUMN[kind]}:" in reasons.get(record["train_id"], "")
        counts = table.setdefault(kind, {"ok": 0, "wrong": 0})
        counts["ok" if good else "wrong"] += 1
    return table


def clean_rows_quarantined(records: list[dict], result: dict) -> int:
    """Quarantined rows that were neither corrupted nor the twin of a duplicated id."""
    quarantine = pd.read_parquet(result.quarantine_uri, columns=["train_id"])
    allowed = {r["train_id"] for r in records if r["reasons"][0] not in KEPT}
    return int((~quarantine["train_id"].astype(int).isin(allowed)).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a make_listings.py output")
    args = parser.parse_args()
    records = json.loads(Path(f"{args.data}.dirty.json").read_text())["records"]
    from price_alchemy.params import load_params

    cap = load_params().validation.description_max_chars
    with tempfile.TemporaryDirectory() as home:
        result = run_pipeline(args.data, Path(home))
        table = judge(records, result, cap)
        wrongly_quarantined = clean_rows_quarantined(records, result)
    print(f"{'corruption':<28} {'as expected':>12} {'not':>5}")
    for kind, counts in sorted(table.items()):
        print(f"{kind:<28} {counts['ok']:>12} {counts['wrong']:>5}")
    reconciled = result.rows_in == result.rows_passed + result.rows_quarantined
    print(f"clean rows quarantined: {wrongly_quarantined}; counts reconcile: {reconciled}")
    keys = ("rows_in", "rows_passed", "rows_quarantined", "rows_cleaned", "cleaning_counts")
    summary = {key: result[key] for key in keys}
    print(
        json.dumps(
            summary
            | {
                "by_corruption": table,
                "clean_rows_quarantined": wrongly_quarantined,
                "reconciled": reconciled,
            }
        )
    )
    bad = any(c["wrong"] for c in table.values()) or wrongly_quarantined or not reconciled
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
