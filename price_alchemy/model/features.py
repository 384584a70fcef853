"""Features: turn listing fields into one sparse float32 matrix, inside the served pipeline.

`prepare_listings` fills gaps and builds the text and categorical columns (the brand joins the
title; the description is read with the title and category; the category splits into its three
levels; the brand and each title word cross the category, since a brand's premium and what a
word such as "case" says about the price differ by category).
`build_preprocessor` returns the sklearn steps that first fill missing brands from titles
(`brand_inference`), then do this, then mark brands listed away from their home categories
(`brand_home`), then TF-IDF the texts (word 1-2-grams, optionally character
n-grams of the title), mark which words the listing's text holds at all, and one-hot the
categories, so training and serving share exactly one transformation. The matrix is sparse
float32 from end to end.

Why both TF-IDF and word indicators: a TF-IDF row is l2-normalised, so a word's value shrinks as
the text around it grows, while a word such as "broken" or "sealed" moves a price by about the
same amount in a short description as in a long one. The linear model sees that constant effect
only through 0/1 columns. They are weighted down (`word_indicator_weight`), which makes the
linear model's penalty on them heavier (by 1/weight²), so they carry only what the TF-IDF
cannot.
"""

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from price_alchemy.model import brand_home
from price_alchemy.model.brand_home import BrandHomes
from price_alchemy.model.brand_inference import BrandFromTitle
from price_alchemy.model.column_values import Columns, column_list, select, table_like, text_column
from price_alchemy.params import FeatureParams
from price_alchemy.schema import LISTING_FIELDS, NO_DESCRIPTION

PREPARED_CATEGORICAL = (  # built by prepare_listings
    "brand",
    "category_top",
    "category_mid",
    "category_leaf",
    "condition",
    "shipping_paid",
    "brand_category",
)
CATEGORICAL_COLUMNS = PREPARED_CATEGORICAL + brand_home.COLUMNS
CROSS_SEPARATOR = "\t"
TOKEN_SEPARATOR = "\x1f"
WORD = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern


def listing_columns(rows: Sequence[dict]) -> Columns:
    """The listing fields of `rows` (one dict per listing) as a dict of column lists, the
    served model's input (see `column_values`)."""
    return {field: [row[field] for row in rows] for field in LISTING_FIELDS}


def prepare_listings(frame: pd.DataFrame | Columns) -> pd.DataFrame | Columns:
    """The model's input columns from raw listing fields (missing values become empty),
    built with plain Python string operations over lists (see `column_values`), as the same
    kind of table as `frame`."""
    name, brand = text_column(frame, "name"), text_column(frame, "brand_name")
    category = text_column(frame, "category_name")
    description = [
        "" if text == NO_DESCRIPTION else text for text in text_column(frame, "item_description")
    ]
    levels = [path.split("/", 2) + ["", ""] for path in category]
    columns = {
        "title_text": [f"{b} {n}" for b, n in zip(brand, name, strict=True)],
        "description_text": [
            f"{n} {c} {d}" for n, c, d in zip(name, category, description, strict=True)
        ],
        "category_title": [f"{c}{CROSS_SEPARATOR}{n}" for c, n in zip(category, name, strict=True)],
        "brand": brand,
        "category_top": [parts[0] for parts in levels],
        "category_mid": [parts[1] for parts in levels],
        "category_leaf": category,
        "condition": [str(value) for value in column_list(frame, "item_condition_id")],
        "shipping_paid": [str(value) for value in column_list(frame, "shipping")],
        "brand_category": [f"{b}|{c}" if b else "" for b, c in zip(brand, category, strict=True)],
    }
    return table_like(frame, columns)


def category_words(document: str) -> list[str]:
    """Analyzer for `category_title`: each title word prefixed by the listing's category."""
    category, _, title = document.partition(CROSS_SEPARATOR)
    return [f"{category}|{word}" for word in WORD.findall(title.lower())]


def categorical_tokens(frame: pd.DataFrame | Columns) -> list[str]:
    """Each row's categorical values as one document of `column=value` tokens."""
    names = list(frame)
    values = zip(*(column_list(frame, column) for column in names), strict=True)
    return [
        TOKEN_SEPARATOR.join(f"{n}={v}" for n, v in zip(names, row, strict=True)) for row in values
    ]


def split_tokens(document: str) -> list[str]:
    """Analyzer for `categorical_tokens` documents."""
    return document.split(TOKEN_SEPARATOR)


def _one_hot(params: FeatureParams) -> Pipeline:
    """One-hot encoding of the categorical columns (values seen in fewer than `min_df`
    listings, and unseen ones, get no column) as a vocabulary lookup: per call it costs the
    rows' tokens, not the number of categories, which keeps single-listing serving fast."""
    return Pipeline(
        [
            ("tokens", FunctionTransformer(categorical_tokens, feature_names_out="one-to-one")),
            (
                "one_hot",
                CountVectorizer(
                    analyzer=split_tokens, binary=True, min_df=params.min_df, dtype=np.float32
                ),
            ),
        ]
    )


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


def weighted(X: sp.csr_matrix, weight: float) -> sp.csr_matrix:
    """`X` times `weight` (a smaller weight makes the linear model's penalty on it heavier)."""
    return X * np.float32(weight)


def _word_indicators(params: FeatureParams) -> Pipeline:
    counts = CountVectorizer(
        binary=True,
        min_df=params.min_df,
        max_features=params.word_indicator_max_features,
        dtype=np.float32,
    )
    weight = FunctionTransformer(
        weighted, kw_args={"weight": params.word_indicator_weight}, feature_names_out="one-to-one"
    )
    return Pipeline([("counts", counts), ("weight", weight)])


def _column_steps(params: FeatureParams) -> list[tuple]:
    steps = [
        ("title", _tfidf(params.name_max_features, params), "title_text"),
        ("description", _tfidf(params.description_max_features, params), "description_text"),
        ("categorical", _one_hot(params), list(CATEGORICAL_COLUMNS)),
    ]
    if params.word_indicator_max_features:
        steps.append(("description_words", _word_indicators(params), "description_text"))
    if params.category_title_max_features:
        steps.append(("category_title", _cross_tfidf(params), "category_title"))
    if params.char_max_features:
        steps.append(("title_chars", _char_tfidf(params), "title_text"))
    return steps


class ColumnUnion(TransformerMixin, BaseEstimator):
    """Each (name, transformer, columns) on its columns of a DataFrame or a dict of column lists,
    outputs side by side as one sparse float32 matrix: what sklearn's ColumnTransformer does for
    this pipeline, without its per-call input validation, which costs milliseconds on a
    single-listing request, and without requiring a DataFrame."""

    def __init__(self, transformers: list[tuple]) -> None:
        self.transformers = transformers

    def fit(self, X: pd.DataFrame | Columns, y=None) -> "ColumnUnion":
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: pd.DataFrame | Columns, y=None) -> sp.csr_matrix:
        self.transformers_ = [(name, clone(step), cols) for name, step, cols in self.transformers]
        return _hstack(
            [step.fit_transform(select(X, cols)) for _, step, cols in self.transformers_]
        )

    def transform(self, X: pd.DataFrame | Columns) -> sp.csr_matrix:
        return self.transform_with([step.transform for _, step, _ in self.transformers_], X)

    def transform_with(self, transforms: list, X: pd.DataFrame | Columns) -> sp.csr_matrix:
        """`transform` with each step's transform done by the function at its place."""
        blocks = zip(transforms, self.transformers_, strict=True)
        return _hstack([transform(select(X, cols)) for transform, (_, _, cols) in blocks])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        names = [
            f"{name}__{feature}"
            for name, step, _ in self.transformers_
            for feature in step.get_feature_names_out()
        ]
        return np.asarray(names, dtype=object)


def as_sparse_float32(matrix) -> sp.csr_matrix:
    """The feature matrix as CSR float32: the last step of pipelines trained before
    `ColumnUnion`, kept so that registered models of those versions still load and serve."""
    return sp.csr_matrix(matrix, dtype=np.float32)


def _hstack(blocks: list) -> sp.csr_matrix:
    return sp.hstack(blocks, format="csr", dtype=np.float32)


def build_preprocessor(params: FeatureParams) -> Pipeline:
    """Listing fields -> sparse float32 matrix: TF-IDF on texts, one-hot on categories."""
    return Pipeline(
        [
            ("brand", BrandFromTitle(min_count=params.brand_min_count)),
            ("prepare", FunctionTransformer(prepare_listings)),
            ("brand_home", BrandHomes(params.brand_away_min_share, params.brand_min_count)),
            ("columns", ColumnUnion(_column_steps(params))),
        ]
    )
