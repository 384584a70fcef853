"""Monitoring's judgement on its own (`assess_window`): each threshold is one check, a crossed
one is a reason to retrain in words, and a champion that scored 0 at training does not divide
by zero."""

import math

import pytest

from price_alchemy.demo.generator import generate_listings
from price_alchemy.monitoring.checks import assess_window, error_ratio
from price_alchemy.params import load_params


@pytest.fixture(scope="module")
def reference():
    return generate_listings(3000, seed=1).to_pandas()


@pytest.fixture(scope="module")
def params():
    return load_params().monitoring


def _assess(reference, window, params, predicted=None, training_rmsle=0.5, served=None):
    predicted = window["price"].to_numpy() if predicted is None else predicted
    return assess_window(reference, window, predicted, training_rmsle, params, served)


def _failed(found: dict) -> set[str]:
    return {check["name"] for check in found["checks"] if check["status"] == "failed"}


def test_a_window_of_the_same_market_crosses_no_threshold(reference, params):
    window = generate_listings(1500, seed=2).to_pandas()
    found = _assess(reference, window, params, window["price"].to_numpy() * 1.5)
    assert found["retrain"] is False and found["reasons"] == [] and _failed(found) == set()
    assert found["rows"] == 1500 and found["reference_rows"] == 3000 and "served" not in found
    names = {check["name"] for check in found["checks"]}
    assert {"unseen_category", "unseen_brand", "vocabulary_shift", "rmsle_ratio"} <= names
    assert found["model"]["window_rmsle"] == pytest.approx(math.log(1.5), abs=0.05)


def test_a_drifted_market_is_a_reason_to_retrain_in_words(reference, params):
    window = generate_listings(1500, seed=3, drift=1.0).to_pandas()
    found = _assess(reference, window, params)
    assert found["retrain"] is True
    assert {"unseen_category", "unseen_brand"} <= _failed(found)
    assert any("category the champion never saw in training" in r for r in found["reasons"])
    assert len(found["reasons"]) == len(_failed(found))


def test_a_worse_champion_is_a_reason_to_retrain(reference, params):
    window = generate_listings(1500, seed=2).to_pandas()
    found = _assess(reference, window, params, window["price"].to_numpy() * 3, 0.3)
    assert _failed(found) == {"rmsle_ratio"}
    assert found["model"]["ratio"] == pytest.approx(math.log(3) / 0.3, rel=0.05)
    assert "champion RMSLE" in found["reasons"][0]


def test_a_perfect_training_score_gives_an_infinite_ratio_not_an_error(reference, params):
    window = generate_listings(500, seed=2).to_pandas()
    found = _assess(reference, window, params, window["price"].to_numpy() * 2, 0.0)
    assert found["model"]["ratio"] == math.inf and "rmsle_ratio" in _failed(found)
    perfect = _assess(reference, window, params, None, 0.0)
    assert perfect["model"]["ratio"] == 1.0 and "rmsle_ratio" not in _failed(perfect)


@pytest.mark.parametrize(
    ("window", "training", "ratio"), [(0.4, 0.2, 2.0), (0.0, 0.0, 1.0), (0.1, 0.0, math.inf)]
)
def test_error_ratio(window, training, ratio):
    assert error_ratio(window, training) == ratio


def test_the_served_listings_are_judged_on_their_own(reference, params):
    window = generate_listings(1500, seed=2).to_pandas()
    served = generate_listings(800, seed=4, drift=1.0).to_pandas()
    found = _assess(reference, window, params, served=served)
    assert found["served"]["rows"] == 800
    failed = _failed(found)
    assert {"served_unseen_category", "served_unseen_brand"} <= failed
    assert "unseen_category" not in failed  # the window's new listings did not move
    assert any(r.startswith("served listings: ") for r in found["reasons"])
