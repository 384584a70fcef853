"""Drift measures on hand-made distributions and on generated markets with and without drift."""

import numpy as np
import pandas as pd
import pytest

from price_alchemy.demo.generator import generate_listings
from price_alchemy.monitoring.drift import (
    categorical_psi,
    feature_drift,
    numeric_psi,
    psi,
    unseen_values,
    vocabulary_shift,
)


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift():
    assert psi([0.5, 0.5], [0.5, 0.5]) == pytest.approx(0.0)
    small, large = psi([0.5, 0.5], [0.55, 0.45]), psi([0.5, 0.5], [0.9, 0.1])
    assert 0 < small < 0.1 < large
    assert np.isfinite(psi([0.5, 0.5], [1.0, 0.0]))  # an empty bin is floored, not infinite


def test_numeric_psi_sees_a_shifted_distribution():
    rng = np.random.default_rng(0)
    reference = pd.Series(rng.normal(0, 1, 20_000))
    same = pd.Series(rng.normal(0, 1, 5_000))
    shifted = pd.Series(rng.normal(0.5, 1, 5_000))
    assert numeric_psi(reference, same, 10) < 0.02
    assert numeric_psi(reference, shifted, 10) > 0.2


def test_numeric_psi_with_few_distinct_values():
    reference = pd.Series([1.0] * 900 + [2.0] * 100)
    assert numeric_psi(reference, pd.Series([1.0] * 90 + [2.0] * 10), 10) == pytest.approx(0.0)
    assert numeric_psi(reference, pd.Series([2.0] * 100), 10) > 1.0


def test_categorical_psi_pools_rare_and_new_values():
    reference = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 15 + ["d"] * 5)
    assert categorical_psi(reference, reference.sample(frac=1, random_state=1), 3) < 1e-9
    moved = pd.Series(["a"] * 50 + ["new"] * 50)  # "new" lands in the (other) bin with "d"
    assert categorical_psi(reference, moved, 3) > 0.5


def test_unseen_values_counts_rows_not_values():
    reference = pd.Series(["Nike", "Apple", None])
    current = pd.Series(["Nike", "Zara", "Zara", None, "Apple", "Gap"])
    found = unseen_values(reference, current)
    assert found["share"] == pytest.approx(3 / 6)
    assert found["rows"] == 3 and found["distinct"] == 2
    assert found["top"][0] == ["Zara", 2]


def test_vocabulary_shift_sees_new_words():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(50)]
    reference = pd.Series([" ".join(rng.choice(words, 4)) for _ in range(2_000)])
    same = pd.Series([" ".join(rng.choice(words, 4)) for _ in range(500)])
    new = pd.Series([" ".join([*rng.choice(words, 3), f"new{i}"]) for i in range(500)])
    assert abs(vocabulary_shift(reference, same)["shift"]) < 0.01
    assert vocabulary_shift(reference, new)["shift"] == pytest.approx(0.25, abs=0.02)


@pytest.fixture(scope="module")
def markets() -> dict[str, pd.DataFrame]:
    return {
        "reference": generate_listings(8_000, seed=1).to_pandas(),
        "same": generate_listings(2_000, seed=2).to_pandas(),
        "drifted": generate_listings(2_000, seed=3, drift=0.6).to_pandas(),
    }


def test_generated_market_without_drift_is_stable(markets):
    drifts = feature_drift(markets["reference"], markets["same"])
    assert max(d.psi for d in drifts) < 0.05
    assert (
        unseen_values(markets["reference"]["category_name"], markets["same"]["category_name"])[
            "share"
        ]
        < 0.01
    )


def test_generated_market_with_drift_moves(markets):
    reference, drifted = markets["reference"], markets["drifted"]
    by_name = {d.feature: d for d in feature_drift(reference, drifted)}
    assert by_name["log_price"].current_mean > by_name["log_price"].reference_mean + 0.08
    assert by_name["log_price"].ks_pvalue < 1e-3
    assert unseen_values(reference["category_name"], drifted["category_name"])["share"] > 0.08
    assert unseen_values(reference["brand_name"], drifted["brand_name"])["share"] > 0.08
    assert vocabulary_shift(reference["name"], drifted["name"])["shift"] > 0.03
