"""Model comparison (benchmark and notebook): every row fit and scored on the same listings."""

import numpy as np
import pytest

from price_alchemy.model.compare import ROWS, compare_models, cross_validate, mean_comparison
from price_alchemy.model.train import split_listings
from price_alchemy.params import load_params


@pytest.fixture(scope="module")
def comparison(small_listings, tmp_path_factory):
    from tests.support.listings import SMALL_PARAMS

    params_file = tmp_path_factory.mktemp("compare") / "params.yaml"
    params_file.write_text(SMALL_PARAMS)
    params = load_params(params_file)
    train, test = split_listings(small_listings.to_pandas(), params.split)
    return compare_models(train, test, params), params


def test_every_row_is_scored_and_the_blend_beats_the_baseline(comparison):
    result, _ = comparison
    assert list(result.scores.index) == list(ROWS)
    assert list(result.scores.columns) == ["rmsle", "mae", "r2"]
    assert np.isfinite(result.scores.to_numpy()).all()
    rmsle = result.scores["rmsle"]
    assert rmsle["blend"] < rmsle["baseline"]
    assert rmsle["blend"] <= min(rmsle["linear"], rmsle["lgbm"]) + 0.01
    assert 0.6 < result.coverage < 0.95
    assert result.fit_seconds > 0 and result.train_rows + result.test_rows == 4000


def test_mean_comparison_averages_scores(comparison):
    result, _ = comparison
    doubled = mean_comparison([result, result])
    np.testing.assert_allclose(doubled.scores.to_numpy(), result.scores.to_numpy())
    assert doubled.test_rows == 2 * result.test_rows


def test_cross_validation_needs_two_folds(comparison, small_listings):
    _, params = comparison
    with pytest.raises(ValueError, match="at least 2 folds"):
        cross_validate(small_listings.to_pandas(), params, 1)
