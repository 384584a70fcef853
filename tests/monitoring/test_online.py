"""The interval that decides an experiment holds at every look: monitoring judges the same
experiment daily, and stopping at the first look whose 95% interval excludes 0 would decide
wrongly far more often than 5% of the time."""

import numpy as np
import pandas as pd
import pytest

from price_alchemy.monitoring.online import anytime_factor, rmsle_difference

LOOKS = np.arange(200, 20_001, 200)  # sold listings per arm at each look


def _ever_decided(reach, seed: int = 0, experiments: int = 2000) -> float:
    """The share of experiments with two equally good models in which some look's interval
    (the mean difference +- `reach(n)` standard errors) excludes 0."""
    rng = np.random.default_rng(seed)  # each look's new observations sum to N(0, their count)
    sums = np.cumsum(rng.normal(size=(experiments, len(LOOKS))) * np.sqrt(200), axis=1)
    means = sums / LOOKS
    errors = 1 / np.sqrt(LOOKS)
    return float((np.abs(means) > reach(LOOKS) * errors).any(axis=1).mean())


def test_the_every_look_interval_keeps_the_error_near_five_percent():
    """Where stopping at the first look whose 95% interval excludes 0 is wrong in over 20% of
    experiments between equal models."""
    factors = np.vectorize(lambda n: anytime_factor(int(n), planned=2000))
    assert _ever_decided(lambda n: 1.96) > 0.2
    assert _ever_decided(factors) <= 0.06


def test_the_factor_is_narrowest_near_the_planned_listings():
    at = {n: anytime_factor(n, planned=2000) for n in (200, 2000, 50_000)}
    assert at[2000] < at[200] and at[2000] < at[50_000]
    assert 2.5 < at[2000] < 3.5


def test_the_report_gives_both_intervals():
    rng = np.random.default_rng(3)
    sold = rng.uniform(5, 200, 2000)
    arms = np.where(np.arange(2000) % 2 == 0, "champion", "challenger")
    pairs = pd.DataFrame(
        {
            "listing_id": [f"m-{i}" for i in range(2000)],
            "arm": arms,
            "served": 1,
            "price": sold * np.exp(rng.normal(0, 0.3, 2000)),
            "sold_price": sold,
        }
    )
    found = rmsle_difference(pairs)
    assert found["anytime_low"] < found["low"] <= found["difference"]
    assert found["difference"] <= found["high"] < found["anytime_high"]
    width = found["anytime_high"] - found["anytime_low"]
    assert width / (found["high"] - found["low"]) == pytest.approx(
        anytime_factor(1000, 2000) / 1.96, rel=0.15
    )
