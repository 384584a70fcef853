"""Price ranges by split conformal prediction: calibrated on held-out listings, they hold about
the nominal share of realized prices on other listings."""

import numpy as np
import pytest

from price_alchemy.baseline import GroupMedianRegressor
from price_alchemy.params import SplitParams
from price_alchemy.price_range import PriceRangeModel, _conformal_quantile, range_coverage
from price_alchemy.train import split_listings


def test_conformal_quantile_has_the_finite_sample_correction():
    residuals = np.arange(1, 10, dtype=float)  # 9 residuals
    assert _conformal_quantile(residuals, 0.5) == 5.0
    assert _conformal_quantile(residuals, 0.9) == 9.0  # ceil(10 * 0.9) = 9th of 9
    assert _conformal_quantile(residuals, 0.0) == 1.0


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
