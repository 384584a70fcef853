"""Tests for model.diagnostics: every artifact is written, the category table's numbers
match hand-computed ones, optional artifacts are skipped, and bad inputs are refused."""

import math

import numpy as np
import pandas as pd
import pytest

from price_alchemy.model.diagnostics import category_errors, write_diagnostics

E1 = math.e - 1  # log1p(E1) == 1
E2 = math.e**2 - 1  # log1p(E2) == 2
PNG = b"\x89PNG\r\n\x1a\n"
ALWAYS = {
    "predicted_vs_actual.png",
    "residuals_by_category.png",
    "category_errors.csv",
    "category_errors.html",
}


def _example() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Three Women rows, two Electronics rows and one without a category."""
    listings = pd.DataFrame(
        {
            "price": [E1, E1, E1, 3.0, 1.0, 1.0],
            "category_name": [
                "Women/Tops/Blouses",
                "Women/Shoes",
                "Women",
                "Electronics/Phones",
                "Electronics/Audio/Headphones",
                None,
            ],
        }
    )
    predicted = np.array([E2, E1, E1, 1.0, 3.0, 1.0])
    baseline = np.array([0.0, 0.0, 0.0, 3.0, 1.0, 3.0])
    return listings, predicted, baseline


def _trials(losses, statuses) -> pd.DataFrame:
    return pd.DataFrame({"trial": range(len(losses)), "loss": losses, "status": statuses})


def test_category_errors_hand_computed() -> None:
    table = category_errors(*_example())
    assert " ".join(table.columns) == "category rows rmsle baseline_rmsle mae bias median_price"
    assert list(table["category"]) == ["Women", "Electronics", "(none)", "(all)"]
    assert list(table["rows"]) == [3, 2, 1, 6]
    women, electronics, none, _ = (row for _, row in table.iterrows())
    # Women: log residuals (1, 0, 0); baseline predicts $0, residuals (-1, -1, -1)
    assert women["rmsle"] == pytest.approx(math.sqrt(1 / 3))
    assert women["baseline_rmsle"] == pytest.approx(1.0)
    assert women["mae"] == pytest.approx((E2 - E1) / 3)
    assert women["bias"] == pytest.approx(1 / 3)
    assert women["median_price"] == pytest.approx(E1)
    # Electronics: $3 -> $1 and $1 -> $3, log residuals (-log 2, +log 2); baseline exact
    assert electronics["rmsle"] == pytest.approx(math.log(2))
    assert electronics["baseline_rmsle"] == pytest.approx(0.0)
    assert electronics["mae"] == pytest.approx(2.0)
    assert electronics["bias"] == pytest.approx(0.0)
    assert electronics["median_price"] == pytest.approx(2.0)
    # No category: exact; baseline $3 for $1, log residual log 2
    assert none["rmsle"] == pytest.approx(0.0)
    assert none["baseline_rmsle"] == pytest.approx(math.log(2))
    assert none["mae"] == pytest.approx(0.0)


def test_category_errors_all_row_covers_every_listing() -> None:
    listings, predicted, baseline = _example()
    all_row = category_errors(listings, predicted, baseline).iloc[-1]
    assert all_row["category"] == "(all)"
    assert all_row["rmsle"] == pytest.approx(math.sqrt((1 + 2 * math.log(2) ** 2) / 6))
    assert all_row["baseline_rmsle"] == pytest.approx(math.sqrt((3 + math.log(2) ** 2) / 6))
    residuals = np.log1p(predicted) - np.log1p(listings["price"].to_numpy())
    assert all_row["bias"] == pytest.approx(residuals.mean())
    assert all_row["mae"] == pytest.approx(np.abs(predicted - listings["price"]).mean())
    assert all_row["median_price"] == pytest.approx(listings["price"].median())


def test_category_errors_missing_or_blank_category_is_none() -> None:
    listings = pd.DataFrame(
        {"price": [5.0, 5.0, 5.0, 5.0], "category_name": [np.nan, "", None, "Kids/Toys"]}
    )
    table = category_errors(listings, np.full(4, 5.0), np.full(4, 5.0))
    assert list(table["category"]) == ["(none)", "Kids", "(all)"]
    assert list(table["rows"]) == [3, 1, 4]


def test_write_diagnostics_writes_every_artifact(tmp_path) -> None:
    listings, predicted, baseline = _example()
    importance = pd.Series({"name_tfidf": 3.0, "brand": 10.0, "shipping": 0.0})
    trials = _trials([0.6, 0.5, np.nan, 0.55], ["ok", "ok", "fail", "ok"])
    out_dir = tmp_path / "nested" / "diagnostics"
    paths = write_diagnostics(out_dir, listings, predicted, baseline, importance, trials)

    names = ALWAYS | {"feature_importance.png", "feature_importance.csv", "hyperopt_loss.png"}
    assert {p.name for p in paths} == names
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(names)
    for path in paths:
        assert path.parent == out_dir and path.stat().st_size > 0
        if path.suffix == ".png":
            assert path.read_bytes().startswith(PNG), path.name

    errors = pd.read_csv(out_dir / "category_errors.csv")
    expected = category_errors(listings, predicted, baseline)
    pd.testing.assert_frame_equal(errors, expected, check_dtype=False)

    features = pd.read_csv(out_dir / "feature_importance.csv")
    assert list(features.columns) == ["feature", "importance"]
    assert list(features["feature"]) == ["brand", "name_tfidf", "shipping"]


def test_category_errors_html_is_a_self_contained_page(tmp_path) -> None:
    listings, predicted, baseline = _example()
    listings.loc[0, "category_name"] = "A&B <Vintage>/Tops"
    write_diagnostics(tmp_path, listings, predicted, baseline)
    page = (tmp_path / "category_errors.html").read_text()
    assert page.startswith("<!doctype html>")
    assert "<title>" in page and "<table" in page and "bias" in page
    assert "A&amp;B &lt;Vintage&gt;" in page and "<Vintage>" not in page
    assert "(all)" in page and "(none)" in page
    assert "src=" not in page and "href=" not in page and "http" not in page


@pytest.mark.parametrize(
    "importance, trials",
    [
        (None, None),
        (pd.Series(dtype=float), pd.DataFrame(columns=["trial", "loss", "status"])),
    ],
)
def test_optional_artifacts_skipped(tmp_path, importance, trials) -> None:
    paths = write_diagnostics(tmp_path, *_example(), importance=importance, trials=trials)
    assert {p.name for p in paths} == ALWAYS
    assert {p.name for p in tmp_path.iterdir()} == ALWAYS


def test_feature_importance_keeps_top_30_descending(tmp_path) -> None:
    importance = pd.Series({f"f{i:02d}": float(i) for i in range(40)})
    write_diagnostics(tmp_path, *_example(), importance=importance)
    features = pd.read_csv(tmp_path / "feature_importance.csv")
    assert len(features) == 30
    assert list(features["feature"]) == [f"f{i:02d}" for i in range(39, 9, -1)]
    assert features["importance"].is_monotonic_decreasing


@pytest.mark.parametrize(
    "losses, statuses",
    [
        ([np.nan, 0.7, np.nan, 0.4, 0.5], ["fail", "ok", "fail", "ok", "ok"]),
        ([np.nan, np.nan], ["fail", "fail"]),
        ([0.3], ["ok"]),
    ],
    ids=["some-failed", "all-failed", "one-trial"],
)
def test_hyperopt_plot_survives_failed_trials(tmp_path, losses, statuses) -> None:
    paths = write_diagnostics(tmp_path, *_example(), trials=_trials(losses, statuses))
    assert tmp_path / "hyperopt_loss.png" in paths
    assert (tmp_path / "hyperopt_loss.png").read_bytes().startswith(PNG)


def test_single_listing_renders(tmp_path) -> None:
    listings = pd.DataFrame({"price": [10.0], "category_name": ["Men/Shirts"]})
    paths = write_diagnostics(tmp_path, listings, np.array([10.0]), np.array([12.0]))
    assert all(p.read_bytes().startswith(PNG) for p in paths if p.suffix == ".png")
    assert list(category_errors(listings, [10.0], [12.0])["category"]) == ["Men", "(all)"]


@pytest.mark.parametrize(
    "predicted, baseline",
    [(np.ones(5), np.ones(6)), (np.ones(6), np.ones(7)), (np.ones(2), np.ones(2))],
)
def test_mismatched_lengths_are_refused(tmp_path, predicted, baseline) -> None:
    listings, _, _ = _example()
    with pytest.raises(ValueError, match="lengths differ"):
        write_diagnostics(tmp_path, listings, predicted, baseline)
    with pytest.raises(ValueError, match="lengths differ"):
        category_errors(listings, predicted, baseline)
    assert not any(tmp_path.iterdir())


def test_empty_listings_are_refused(tmp_path) -> None:
    empty = pd.DataFrame({"price": pd.Series(dtype=float), "category_name": pd.Series(dtype=str)})
    with pytest.raises(ValueError, match="empty"):
        write_diagnostics(tmp_path, empty, np.array([]), np.array([]))
    with pytest.raises(ValueError, match="empty"):
        category_errors(empty, np.array([]), np.array([]))
