"""Price ranges by split conformal prediction: calibrated on held-out listings, they hold about
the nominal share of realized prices on other listings."""

import numpy as np
import pytest

from price_alchemy.model.baseline import GroupMedianRegressor
from price_alchemy.model.price_range import PriceRangeModel, conformal_bound, range_coverage
from price_alchemy.model.train import split_listings
from price_alchemy.params import SplitParams


def test_conformal_bound_has_the_finite_sample_correction():
    residuals = np.arange(9, 0, -1, dtype=float)  # 9 residuals, in any order
    assert conformal_bound(residuals, 0.5, upper=True) == 5.0
    assert conformal_bound(residuals, 0.9, upper=True) == 9.0  # ceil(10 * 0.9) = 9th of 9
    assert conformal_bound(residuals, 0.0, upper=False) == 1.0


@pytest.mark.parametrize(
    ("n", "level", "upper", "rank"),
    [
        (10, 0.1, False, 1),  # (n + 1) * level = 1.1: the lower bound takes the 1st, not the 2nd
        (10, 0.9, True, 10),  # 9.9: the upper bound takes the 10th, not the 9th
        (19, 0.1, False, 2),  # exactly 2.0 either way
        (19, 0.9, True, 18),  # exactly 18.0
        (10, 1 - (1 - 0.8) / 2, True, 10),  # 9.9 computed in floats is still rank 10
        (9, 1 - (1 - 0.8) / 2, True, 9),  # 9.000000000000002 in floats is rank 9
        (3, 0.05, False, 1),  # too few residuals for the level: the extreme one
        (3, 0.95, True, 3),
    ],
)
def test_conformal_bounds_take_the_conservative_order_statistic(n, level, upper, rank):
    residuals = np.random.default_rng(n).permutation(np.arange(1.0, n + 1))
    assert conformal_bound(residuals, level, upper) == float(rank)


@pytest.fixture(scope="module")
def thirds(small_listings):
    frame = small_listings.to_pandas()
    rest, test = split_listings(frame, SplitParams(test_size=0.3, calibration_size=0.1, seed=1))
    train, calibration = split_listings(
        rest, SplitParams(test_size=0.4, calibration_size=0.1, seed=2)
    )
    return train, calibration, test


@pytest.mark.parametrize("coverage", [0.5, 0.8, 0.95])
def test_range_holds_about_the_nominal_share_on_unseen_listings(thirds, coverage):
    train, calibration, test = thirds
    estimator = GroupMedianRegressor().fit(train, train["price"])
    model = PriceRangeModel(estimator, coverage).calibrate(calibration)
    assert abs(range_coverage(model, test) - coverage) < 0.05


def test_range_brackets_the_price_and_widens_with_coverage(thirds):
    train, calibration, test = thirds
    estimator = GroupMedianRegressor().fit(train, train["price"])
    narrow = PriceRangeModel(estimator, 0.5).calibrate(calibration)
    wide = PriceRangeModel(estimator, 0.9).calibrate(calibration)
    price, low, high = wide.predict_range(test)
    assert (low <= price).all() and (price <= high).all() and (low > 0).all()
    _, narrow_low, narrow_high = narrow.predict_range(test)
    assert (low <= narrow_low).all() and (narrow_high <= high).all()
    assert np.array_equal(wide.predict(test), estimator.predict(test))


@pytest.mark.parametrize("coverage", [0.0, 1.0, 1.5])
def test_coverage_must_be_a_share(thirds, coverage):
    train, calibration, _ = thirds
    estimator = GroupMedianRegressor().fit(train, train["price"])
    with pytest.raises(ValueError, match="coverage"):
        PriceRangeModel(estimator, coverage).calibrate(calibration)
