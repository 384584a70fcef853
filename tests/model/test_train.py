"""Tests for price_alchemy.model.train: the seeded split, the price floor and the fitted model."""

import numpy as np
import pandas as pd
import pytest

from price_alchemy.errors import ActionRequired
from price_alchemy.model.baseline import GroupMedianRegressor
from price_alchemy.model.metrics import rmsle
from price_alchemy.model.train import (
    MIN_PRICE,
    build_model,
    fit_model,
    hash_split,
    split_listings,
    to_price,
)
from price_alchemy.params import SplitParams, load_params
from price_alchemy.schema import LISTING_FIELDS


def frame_of(n: int) -> pd.DataFrame:
    return pd.DataFrame({"train_id": np.arange(n), "price": np.arange(n, dtype=float) + 1.0})


def test_split_is_deterministic_for_a_seed() -> None:
    frame, params = frame_of(100), SplitParams(test_size=0.2, calibration_size=0.1, seed=7)
    first, second = split_listings(frame, params), split_listings(frame, params)
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])
    other = split_listings(frame, SplitParams(test_size=0.2, calibration_size=0.1, seed=8))
    assert set(other[1]["train_id"]) != set(first[1]["train_id"])


def test_split_is_disjoint_covers_all_rows_and_near_the_test_size() -> None:
    frame = frame_of(10_000)
    train, test = split_listings(frame, SplitParams(test_size=0.2, calibration_size=0.1, seed=1))
    train_ids, test_ids = set(train["train_id"]), set(test["train_id"])
    assert not train_ids & test_ids
    assert train_ids | test_ids == set(frame["train_id"])
    assert 0.18 < len(test) / len(frame) < 0.22
    assert list(test.index) == list(range(len(test)))


def test_a_listing_stays_on_its_side_whatever_else_the_window_holds() -> None:
    params = SplitParams(test_size=0.1, calibration_size=0.1, seed=3)
    _, whole_test = split_listings(frame_of(5000), params)
    _, part_test = split_listings(frame_of(5000).iloc[1000:4000], params)
    expected = set(whole_test["train_id"]) & set(range(1000, 4000))
    assert set(part_test["train_id"]) == expected


def test_split_keeps_rows_intact() -> None:
    train, test = split_listings(
        frame_of(300), SplitParams(test_size=0.1, calibration_size=0.1, seed=3)
    )
    both = pd.concat([train, test])
    assert (both["price"] == both["train_id"] + 1.0).all()


@pytest.mark.parametrize("rows", [0, 1, 9, 20])
def test_split_rejects_too_few_rows_on_either_side(rows: int) -> None:
    with pytest.raises(ActionRequired, match="too few listings"):
        split_listings(frame_of(rows), SplitParams(test_size=0.1, calibration_size=0.1, seed=0))


def test_to_price_inverts_log1p() -> None:
    prices = np.array([1.0, 2.5, 10.0, 1999.0])
    np.testing.assert_allclose(to_price(np.log1p(prices)), prices)


def test_to_price_floors_at_min_price() -> None:
    floored = to_price(np.array([-10.0, 0.0, np.log1p(0.5), np.log1p(MIN_PRICE)]))
    np.testing.assert_allclose(floored, [MIN_PRICE] * 4)
    assert to_price(np.array([np.log1p(3.0)]))[0] == pytest.approx(3.0)


def test_build_model_uses_params(settings) -> None:
    params = load_params(settings.params_file)
    blend = build_model(params).regressor.named_steps["blend"]
    members = dict(blend.members)
    trees = members["lgbm"].trees
    assert (trees.n_estimators, trees.learning_rate, trees.num_leaves) == (60, 0.2, 31)
    assert members["lgbm"].top_k == 2000 and members["lgbm"].folds == params.model.linear_folds
    assert members["linear"].alpha == members["lgbm"].linear.alpha == params.linear.alpha
    assert blend.validation_size == 0.15
    assert blend.min_validation_rows == params.blend.min_validation_rows


def test_fit_model_predicts_positive_finite_prices_and_beats_baseline(
    settings, small_listings
) -> None:
    params = load_params(settings.params_file)
    train, test = split_listings(small_listings.to_pandas(), params.split)
    model = fit_model(train, params)
    predicted = model.predict(test[list(LISTING_FIELDS)])
    assert predicted.shape == (len(test),)
    assert np.isfinite(predicted).all()
    assert (predicted >= MIN_PRICE).all()

    baseline = GroupMedianRegressor(min_group_size=params.baseline.min_group_size)
    baseline.fit(train, train["price"])
    model_rmsle = rmsle(test["price"], predicted)
    baseline_rmsle = rmsle(test["price"], baseline.predict(test))
    assert model_rmsle < baseline_rmsle, (model_rmsle, baseline_rmsle)

    one = test[list(LISTING_FIELDS)].iloc[[0]].copy()
    one[["brand_name", "category_name", "item_description"]] = None
    (price,) = model.predict(one)  # a single listing with every optional field missing
    assert np.isfinite(price) and price >= MIN_PRICE


@pytest.mark.parametrize(
    ("ids", "share", "seed", "in_test"),
    [
        (range(40), 0.2, 42, [7, 10, 15, 17, 26, 28, 37, 39]),
        (range(40), 0.2, 43, [5, 10, 16, 19, 23, 27, 30, 31, 32, 35, 36]),
        (
            [10**12 + 7, 2**40, 123456789, 5, 99999, 31337, 271828, 314159, 4242, 777, 1, 2, 3]
            + [4, 6, 7, 8, 9, 10, 11],
            0.5,
            0,
            [2**40, 5, 31337, 4242, 10, 11],
        ),
    ],
)
def test_the_hash_split_of_known_ids_never_moves(ids, share, seed, in_test):
    """Pinned: a change here would compare new models with champions on rows they trained on,
    and reshuffle every registered model's held-out split."""
    frame = pd.DataFrame({"train_id": list(ids), "price": 1.0})
    train, test = hash_split(frame, share, seed)
    assert test["train_id"].tolist() == in_test
    assert sorted(train["train_id"].tolist() + in_test) == sorted(ids)
