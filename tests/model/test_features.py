"""Tests for price_alchemy.model.features: listing preparation and the sparse preprocessor."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from price_alchemy.model.features import (
    PREPARED_CATEGORICAL,
    build_preprocessor,
    category_words,
    prepare_listings,
)
from price_alchemy.params import FeatureParams, load_params
from price_alchemy.schema import LISTING_FIELDS

TINY = FeatureParams(
    name_max_features=50,
    description_max_features=50,
    ngram_max=2,
    min_df=1,
    category_title_min_df=1,
)


def raw(**overrides) -> pd.DataFrame:
    rows = {
        "name": ["Red dress", "Blue jeans", "Phone case", "Lipstick"],
        "item_condition_id": [1, 3, 2, 5],
        "category_name": [
            "Women/Dresses/Maxi",
            "Women/Jeans/Boot Cut",
            "Electronics/Cell Phones & Accessories/Cases, Covers & Skins",
            "Beauty/Makeup/Lips",
        ],
        "brand_name": ["Zara", "Levi's", "OtterBox", "MAC"],
        "shipping": [0, 1, 1, 0],
        "item_description": ["long maxi dress", "boot cut jeans", "fits phone", "red shade"],
    }
    rows.update(overrides)
    return pd.DataFrame(rows)


def test_prepare_builds_text_and_categorical_columns() -> None:
    prepared = prepare_listings(raw())
    assert list(prepared.columns) == [
        "title_text",
        "description_text",
        "category_title",
        *PREPARED_CATEGORICAL,
    ]
    first = prepared.iloc[0]
    assert first["title_text"] == "Zara Red dress"
    assert first["description_text"] == "Red dress Women/Dresses/Maxi long maxi dress"
    assert first["brand"] == "Zara"
    assert first["condition"] == "1"
    assert first["shipping_paid"] == "0"
    assert first["brand_category"] == "Zara|Women/Dresses/Maxi"
    assert category_words(first["category_title"]) == [
        "Women/Dresses/Maxi|red",
        "Women/Dresses/Maxi|dress",
    ]


def test_no_brand_means_no_brand_cross() -> None:
    prepared = prepare_listings(raw(brand_name=[None, "Levi's", "", "MAC"]))
    assert prepared["brand_category"].tolist()[::2] == ["", ""]


def test_category_split_into_levels() -> None:
    prepared = prepare_listings(raw())
    assert prepared["category_top"].tolist() == ["Women", "Women", "Electronics", "Beauty"]
    assert prepared["category_mid"].tolist() == [
        "Dresses",
        "Jeans",
        "Cell Phones & Accessories",
        "Makeup",
    ]
    # the leaf keeps the whole path: leaf names such as "Other" repeat across the tree
    assert prepared["category_leaf"].tolist() == raw()["category_name"].tolist()


def test_category_with_extra_levels_keeps_top_and_mid() -> None:
    category = "Electronics/Computers & Tablets/iPad/Tablet/eBook Readers"
    prepared = prepare_listings(raw(category_name=[category] * 4))
    assert set(prepared["category_top"]) == {"Electronics"}
    assert set(prepared["category_mid"]) == {"Computers & Tablets"}
    assert set(prepared["category_leaf"]) == {category}


@pytest.mark.parametrize("missing", [None, np.nan])
def test_missing_values_become_empty(missing) -> None:
    frame = raw(
        brand_name=[missing, "Levi's", missing, "MAC"],
        category_name=[missing, "Women/Jeans/Boot Cut", missing, "Beauty/Makeup/Lips"],
        item_description=[missing, "boot cut jeans", "No description yet", "red shade"],
    )
    prepared = prepare_listings(frame)
    assert prepared.loc[0, "brand"] == ""
    assert prepared.loc[0, "title_text"] == " Red dress"
    assert prepared.loc[0, "category_top"] == ""
    assert prepared.loc[0, "category_mid"] == ""
    assert prepared.loc[0, "category_leaf"] == ""
    assert prepared.loc[0, "description_text"].strip() == "Red dress"
    assert prepared.loc[2, "description_text"].strip() == "Phone case"
    assert prepared.loc[1, "category_top"] == "Women"
    assert prepared.loc[1, "description_text"] == "Blue jeans Women/Jeans/Boot Cut boot cut jeans"
    assert prepared.notna().all().all()
    text = " ".join(prepared.astype(str).to_numpy().ravel()).lower()
    assert "nan" not in text.split() and "none" not in text.split()
    assert "no description yet" not in text


def test_all_categories_missing() -> None:
    prepared = prepare_listings(raw(category_name=[None] * 4))
    for column in ("category_top", "category_mid", "category_leaf"):
        assert prepared[column].tolist() == [""] * 4


def test_no_description_only_replaced_when_exact() -> None:
    frame = raw(item_description=["No description yet", "No description yet, sorry", "", "x"])
    prepared = prepare_listings(frame)
    assert prepared.loc[0, "description_text"].strip() == "Red dress Women/Dresses/Maxi"
    assert prepared.loc[1, "description_text"].endswith("No description yet, sorry")


def test_prepare_keeps_the_index() -> None:
    frame = raw()
    frame.index = [10, 20, 30, 40]
    assert list(prepare_listings(frame).index) == [10, 20, 30, 40]


def test_preprocessor_output_is_sparse_float32() -> None:
    frame = raw()
    matrix = build_preprocessor(TINY).fit_transform(frame)
    assert sp.issparse(matrix)
    assert not isinstance(matrix, np.ndarray)
    assert matrix.dtype == np.float32
    assert matrix.shape[0] == len(frame)
    assert matrix.nnz > 0


def test_preprocessor_transform_one_row_is_sparse() -> None:
    preprocessor = build_preprocessor(TINY).fit(raw())
    one = raw().iloc[[2]]
    matrix = preprocessor.transform(one)
    assert sp.issparse(matrix) and matrix.dtype == np.float32
    assert matrix.shape == (1, preprocessor.transform(raw()).shape[1])


def test_preprocessor_handles_missing_and_unseen_values() -> None:
    preprocessor = build_preprocessor(TINY).fit(raw())
    unseen = raw(
        brand_name=[None, "NeverSeen", np.nan, "MAC"],
        category_name=[None, "Toys/New/Thing", np.nan, "Beauty/Makeup/Lips"],
        item_description=[None, "zzz", "No description yet", np.nan],
        item_condition_id=[4, 4, 4, 4],
    )
    matrix = preprocessor.transform(unseen)
    assert sp.issparse(matrix) and matrix.shape[0] == 4
    assert np.isfinite(matrix.data).all()


def test_preprocessor_on_realistic_listings(settings, small_listings) -> None:
    frame = small_listings.slice(0, 500).to_pandas()[list(LISTING_FIELDS)]
    params = load_params(settings.params_file).features
    matrix = build_preprocessor(params).fit_transform(frame)
    assert sp.issparse(matrix) and matrix.dtype == np.float32
    assert matrix.shape[0] == 500
    assert matrix.shape[1] <= params.name_max_features + params.description_max_features + 500
    assert matrix.nnz < 0.5 * matrix.shape[0] * matrix.shape[1]


def test_preprocessor_is_sparse_even_for_fully_dense_fit() -> None:
    frame = pd.concat([raw().iloc[[0]]] * 3, ignore_index=True)
    matrix = build_preprocessor(TINY).fit_transform(frame)
    assert sp.issparse(matrix)


def test_a_dict_of_column_lists_gives_what_the_dataframe_gives() -> None:
    """The API prices listings as a dict of column lists: the same columns, the same matrix."""
    frame = raw(
        brand_name=[None, "Levi's", "", "MAC"],
        item_description=[None, "boot cut jeans", "No description yet", "red shade"],
    )
    columns = {name: frame[name].tolist() for name in frame.columns}
    prepared = prepare_listings(columns)
    assert prepared == {name: values.tolist() for name, values in prepare_listings(frame).items()}
    preprocessor = build_preprocessor(TINY).fit(frame)
    assert (preprocessor.transform(columns) != preprocessor.transform(frame)).nnz == 0


def test_word_indicators_mark_each_word_once_at_its_weight_whatever_the_text_length() -> None:
    params = TINY.model_copy(
        update={"word_indicator_max_features": 50, "word_indicator_weight": 0.4}
    )
    short = raw(item_description=["broken", "boot cut jeans", "fits phone", "red shade"])
    long = short.assign(item_description=["broken " + "words of filler " * 20] + ["x"] * 3)
    values = {}
    for name, listings in (("short", short), ("long", long)):
        features = build_preprocessor(params).fit(listings)
        names = list(features.named_steps["columns"].get_feature_names_out())
        row = features.transform(listings[list(LISTING_FIELDS)]).toarray()[0]
        values[name] = [row[names.index(f"{block}__broken")] for block in BLOCKS]
    assert values["long"][0] < values["short"][0] / 2  # TF-IDF dilutes the word in a long text
    assert values["long"][1] == values["short"][1] == pytest.approx(0.4)  # the indicator does not


BLOCKS = ("description", "description_words")
