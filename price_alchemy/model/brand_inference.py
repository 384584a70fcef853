"""Brand inference: fill a listing's missing brand from a brand named in its title.

Many sellers leave the brand field empty but write the brand into the title ("nike air max
..."). `BrandFromTitle` learns the brands seen at least `min_count` times in the training
listings and, for a listing without a brand, takes the longest known brand whose words appear
consecutively in its title (case-insensitive). A filled brand then feeds the brand one-hot and
the brand x category cross like a brand the seller typed.
"""

from typing import cast

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer

from price_alchemy.model.column_values import Columns, as_text, column_list, with_columns

TOKEN_PATTERN = r"(?u)\b\w+\b"
MAX_BRAND_WORDS = 4


def brand_keys(counts: pd.Series) -> dict[str, str]:
    """Lower-cased word sequence -> brand; where brands share a sequence the most frequent wins."""
    words = CountVectorizer(token_pattern=TOKEN_PATTERN).build_analyzer()
    keys: dict[str, str] = {}
    for brand in counts.sort_values(ascending=True, kind="stable").index:
        key = " ".join(words(brand))
        if key and len(key.split()) <= MAX_BRAND_WORDS:
            keys[key] = brand
    return keys


class BrandFromTitle(TransformerMixin, BaseEstimator):
    """Fills `brand_name` where missing from the longest known brand found in `name`."""

    def __init__(self, min_count: int = 3) -> None:
        self.min_count = min_count

    def fit(self, frame: pd.DataFrame, y=None) -> "BrandFromTitle":
        counts = frame["brand_name"].dropna().value_counts()
        keys = brand_keys(counts[counts >= self.min_count])
        self.brands_ = np.array(list(keys.values()), dtype=object)
        self.key_lengths_ = np.array([len(key) for key in keys], dtype=np.float32)
        self.matcher_ = CountVectorizer(
            token_pattern=TOKEN_PATTERN,
            ngram_range=(1, MAX_BRAND_WORDS),
            vocabulary=list(keys) or ["\x00"],
            binary=True,
            dtype=np.float32,
        )
        return self

    def infer(self, titles) -> np.ndarray:
        """The brand each title (a sequence; missing ones match nothing) names, longest
        match first, or None."""
        if not len(self.brands_):
            return np.full(len(titles), None, dtype=object)
        hits = self.matcher_.transform(as_text(titles)).tocsr()
        scored = hits.multiply(self.key_lengths_).tocsr()
        best = np.asarray(scored.argmax(axis=1)).ravel()
        found = np.asarray(scored.getnnz(axis=1)) > 0
        return cast(np.ndarray, np.where(found, self.brands_[best], None))

    def transform(self, frame: pd.DataFrame | Columns) -> pd.DataFrame | Columns:
        """`frame` (a DataFrame or a dict of column lists) with blank brands filled where the
        title names one, as Python lists rather than pandas string operations (see
        `column_values`)."""
        filled = list(column_list(frame, "brand_name"))
        missing = [row for row, brand in enumerate(as_text(filled)) if not brand.strip()]
        if not missing:
            return frame
        names = column_list(frame, "name")
        for row, brand in zip(missing, self.infer([names[i] for i in missing]), strict=True):
            filled[row] = brand
        return with_columns(frame, {"brand_name": filled})
