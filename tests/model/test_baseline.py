"""Tests for price_alchemy.model.baseline: the group-median rule with back-off."""

import math

import numpy as np
import pandas as pd
import pytest

from price_alchemy.model.baseline import GroupMedianRegressor

A = "Women/Tops & Blouses/Blouse"
B = "Women/Tops & Blouses/Tunic"
C = "Men/Shoes/Boots"
D = "Kids/Toys/Dolls"


def listing(category, condition: int = 1) -> dict:
    return {
        "name": "thing",
        "item_condition_id": condition,
        "category_name": category,
        "brand_name": None,
        "shipping": 0,
        "item_description": "",
    }


# (category, condition, price); 11 rows so every median below is a single middle value.
TRAIN = [
    (A, 1, 10.0),
    (A, 1, 20.0),
    (A, 1, 35.0),  # (A, 1): 3 rows, median 20
    (A, 2, 40.0),
    (A, 2, 50.0),  # (A, 2): 2 rows; A: 5 rows, median 35
    (B, 1, 100.0),
    (B, 1, 200.0),  # B: 2 rows; Women: 7 rows, median 40
    (C, 1, 500.0),
    (C, 1, 600.0),
    (C, 1, 700.0),  # (C, 1) and C: 3 rows, median 600
    (D, 1, 15.0),  # D and Kids: 1 row
]  # global: 10 15 20 35 40 [50] 100 200 500 600 700 -> median 50


@pytest.fixture
def train() -> pd.DataFrame:
    frame = pd.DataFrame([listing(c, k) for c, k, _ in TRAIN])
    return frame.assign(price=[p for *_, p in TRAIN])


def predict_one(model: GroupMedianRegressor, category, condition: int = 1) -> float:
    (value,) = model.predict(pd.DataFrame([listing(category, condition)]))
    return float(value)


@pytest.mark.parametrize(
    ("category", "condition", "expected"),
    [
        (A, 1, 20.0),  # finest group (category, condition) is big enough
        (A, 2, 35.0),  # (A, 2) has 2 < 3 rows -> the whole category
        (A, 5, 35.0),  # unseen condition -> the whole category
        (B, 1, 40.0),  # B has 2 < 3 rows -> the top-level category "Women"
        (C, 3, 600.0),  # unseen condition in a big enough category
        (D, 1, 50.0),  # D and "Kids" are too small -> global median
        ("Toys/Games/Puzzles", 1, 50.0),  # unseen category -> global median
        (None, 1, 50.0),  # missing category, never seen in training -> global median
    ],
)
def test_back_off(train: pd.DataFrame, category, condition: int, expected: float) -> None:
    model = GroupMedianRegressor(min_group_size=3).fit(train, train["price"])
    assert predict_one(model, category, condition) == pytest.approx(expected)


def test_global_median(train: pd.DataFrame) -> None:
    model = GroupMedianRegressor(min_group_size=3).fit(train, train["price"])
    assert model.global_median_ == pytest.approx(math.log1p(50.0))


def test_min_group_size_one_uses_finest_groups(train: pd.DataFrame) -> None:
    model = GroupMedianRegressor(min_group_size=1).fit(train, train["price"])
    assert predict_one(model, D) == pytest.approx(15.0)
    assert predict_one(model, B) == pytest.approx(math.sqrt(101 * 201) - 1)  # median of logs
    assert predict_one(model, A, 2) == pytest.approx(math.sqrt(41 * 51) - 1)


def test_large_min_group_size_falls_back_to_global(train: pd.DataFrame) -> None:
    model = GroupMedianRegressor(min_group_size=100).fit(train, train["price"].to_numpy())
    predictions = model.predict(pd.DataFrame([listing(A), listing(C), listing(D)]))
    np.testing.assert_allclose(predictions, [50.0, 50.0, 50.0])


def test_predict_keeps_row_order_and_non_default_index(train: pd.DataFrame) -> None:
    model = GroupMedianRegressor(min_group_size=3).fit(train, list(train["price"]))
    frame = pd.DataFrame([listing(C), listing("Toys/X/Y"), listing(A)], index=[7, 3, 5])
    np.testing.assert_allclose(model.predict(frame), [600.0, 50.0, 20.0])


def test_fit_on_shuffled_index(train: pd.DataFrame) -> None:
    shuffled = train.sample(frac=1.0, random_state=0)
    shuffled.index = range(100, 100 + len(shuffled))
    model = GroupMedianRegressor(min_group_size=3).fit(shuffled, shuffled["price"])
    assert predict_one(model, A) == pytest.approx(20.0)
    assert predict_one(model, B) == pytest.approx(40.0)


def test_predictions_on_realistic_listings_are_positive(small_listings) -> None:
    frame = small_listings.to_pandas()
    model = GroupMedianRegressor().fit(frame, frame["price"])
    predictions = model.predict(frame)
    assert predictions.shape == (len(frame),)
    assert np.isfinite(predictions).all() and (predictions > 0).all()


def test_a_brand_with_enough_listings_gets_its_own_median(train):
    branded = pd.DataFrame([listing(A, 1) | {"brand_name": "Gucci"}] * 3).assign(
        price=[300.0, 400.0, 500.0]
    )
    model = GroupMedianRegressor(min_group_size=3).fit(
        pd.concat([train, branded], ignore_index=True),
        pd.concat([train["price"], branded["price"]], ignore_index=True),
    )
    gucci = pd.DataFrame([listing(A, 1) | {"brand_name": "Gucci"}])
    unbranded = pd.DataFrame([listing(A, 1)])
    unknown = pd.DataFrame([listing(A, 1) | {"brand_name": "Unknown Brand"}])
    assert model.predict(gucci)[0] == pytest.approx(400.0)
    assert model.predict(unbranded)[0] == pytest.approx(20.0)  # the unbranded (A, 1) rows
    assert 20.0 < model.predict(unknown)[0] < 400.0  # backs off to all of (A, condition 1)
