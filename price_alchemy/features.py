"""Features: turn listing fields into one sparse float32 matrix, inside the served pipeline.

`prepare_listings` fills gaps and builds the text and categorical columns (the brand joins the
title; the description is read with the title and category; the category splits into its three
levels; the brand and each title word cross the category, since a brand's premium and what a
word such as "case" says about the price differ by category).
`build_preprocessor` returns the sklearn steps that first fill missing brands from titles
(`brand_inference`), then do this, then TF-IDF the texts (word 1-2-grams, optionally character
n-grams of the title) and one-hot the categories, so training and serving share exactly one
transformation. The matrix is sparse float32 from end to end.
"""

import re

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from price_alchemy.brand_inference import BrandFromTitle
from price_alchemy.params import FeatureParams

LISTING_FIELDS = (
    "name",
    "item_condition_id",
    "category_name",
    "brand_name",
    "shipping",
    "item_description",
)
CATEGORICAL_COLUMNS = (
    "brand",
    "category_top",
    "category_mid",
    "category_leaf",
    "condition",
    "shipping_paid",
    "brand_category",
)
NO_DESCRIPTION = "No description yet"
CROSS_SEPARATOR = "\t"
WORD = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].astype("object").where(frame[column].notna(), "").astype(str)


def prepare_listings(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns from raw listing fields (missing values become empty)."""
    name, brand = _text(frame, "name"), _text(frame, "brand_name")
    category = _text(frame, "category_name")
    description = _text(frame, "item_description").replace(NO_DESCRIPTION, "")
    levels = category.str.split("/", n=2, expand=True).reindex(columns=[0, 1, 2])
    return pd.DataFrame(
        {
            "title_text": brand + " " + name,
            "description_text": name + " " + category + " " + description,
            "category_title": category + CROSS_SEPARATOR + name,
            "brand": brand,
            "category_top": levels[0].fillna("").to_numpy(),
            "category_mid": levels[1].fillna("").to_numpy(),
            "category_leaf": category,
            "condition": frame["item_condition_id"].astype(str).to_numpy(),
            "shipping_paid": frame["shipping"].astype(str).to_numpy(),
            "brand_category": (brand + "|" + category).where(brand != "", "").to_numpy(),
        },
        index=frame.index,
    )


def category_words(document: str) -> list[str]:
    """Analyzer for `category_title`: each title word prefixed by the listing's category."""
    category, _, title = document.partition(CROSS_SEPARATOR)
    return [f"{category}|{word}" for word in WORD.findall(title.lower())]


def as_sparse_float32(matrix) -> sp.csr_matrix:
    """The feature matrix as CSR float32 (ColumnTransformer densifies when nothing is zero)."""
    return sp.csr_matrix(matrix, dtype=np.float32)


def _tfidf(max_features: int, params: FeatureParams) -> TfidfVectorizer:
    return TfidfVectorizer(
        max_features=max_features,
        ngram_range=(1, params.ngram_max),
        min_df=params.min_df,
        sublinear_tf=True,
        dtype=np.float32,
    )


def _cross_tfidf(params: FeatureParams) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=category_words,
        max_features=params.category_title_max_features,
        min_df=params.category_title_min_df,
        sublinear_tf=True,
        dtype=np.float32,
    )


def _char_tfidf(params: FeatureParams) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 4),
        max_features=params.char_max_features,
        min_df=params.min_df,
        sublinear_tf=True,
        dtype=np.float32,
    )


def _column_steps(params: FeatureParams) -> list[tuple]:
    steps = [
        ("title", _tfidf(params.name_max_features, params), "title_text"),
        ("description", _tfidf(params.description_max_features, params), "description_text"),
        (
            "categorical",
            OneHotEncoder(handle_unknown="ignore", min_frequency=params.min_df, dtype=np.float32),
            list(CATEGORICAL_COLUMNS),
        ),
    ]
    if params.category_title_max_features:
        steps.append(("category_title", _cross_tfidf(params), "category_title"))
    if params.char_max_features:
        steps.append(("title_chars", _char_tfidf(params), "title_text"))
    return steps


def build_preprocessor(params: FeatureParams) -> Pipeline:
    """Listing fields -> sparse float32 matrix: TF-IDF on texts, one-hot on categories."""
    columns = ColumnTransformer(_column_steps(params), sparse_threshold=1.0)
    return Pipeline(
        [
            ("brand", BrandFromTitle(min_count=params.brand_min_count)),
            ("prepare", FunctionTransformer(prepare_listings)),
            ("columns", columns),
            ("sparse", FunctionTransformer(as_sparse_float32, accept_sparse=True)),
        ]
    )
