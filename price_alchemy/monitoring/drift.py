"""Drift measures: how far a window of listings moved from the listings a model was trained on.

Pure functions over two frames of listings (reference: the champion's training split; current:
the window being watched): the population stability index (PSI) and the two-sample
Kolmogorov-Smirnov test per monitored feature, the share of rows whose category or brand the
reference never saw, and the shift of the title vocabulary (the share of title words the
reference vocabulary lacks, against the same share within the reference itself).
"""

import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from price_alchemy.schema import NO_DESCRIPTION

_EPSILON = 1e-4  # floor of a bin's share, so an empty bin does not make the PSI infinite
_OTHER = "(other)"
_NONE = "(none)"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's drift: PSI always; KS statistic and p-value for numeric features."""

    feature: str
    kind: str
    psi: float
    reference_mean: float | None = None
    current_mean: float | None = None
    ks: float | None = None
    ks_pvalue: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def monitored_features(listings: pd.DataFrame) -> dict[str, tuple[str, pd.Series]]:
    """Feature name -> (kind, values) for the columns drift is measured on."""
    description = listings["item_description"].fillna("").str.strip()
    description = description.where(description != NO_DESCRIPTION, "")
    category = listings["category_name"].fillna(_NONE)
    return {
        "log_price": ("numeric", np.log1p(listings["price"].astype(float))),
        "title_chars": ("numeric", listings["name"].fillna("").str.len().astype(float)),
        "title_words": ("numeric", listings["name"].fillna("").str.split().str.len().astype(float)),
        "description_chars": ("numeric", description.str.len().astype(float)),
        "item_condition_id": ("categorical", listings["item_condition_id"].astype(str)),
        "shipping": ("categorical", listings["shipping"].astype(str)),
        "top_category": ("categorical", category.str.split("/").str[0]),
        "has_brand": ("categorical", listings["brand_name"].notna().astype(str)),
    }


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    expected = np.maximum(np.asarray(expected, dtype=float), _EPSILON)
    actual = np.maximum(np.asarray(actual, dtype=float), _EPSILON)
    expected, actual = expected / expected.sum(), actual / actual.sum()
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def numeric_psi(reference: pd.Series, current: pd.Series, bins: int) -> float:
    """PSI over the reference's quantile bins (ties merged), open at both ends."""
    edges = np.unique(np.quantile(reference.to_numpy(dtype=float), np.linspace(0, 1, bins + 1)))
    inner = edges[1:-1]
    shares = [
        np.bincount(np.searchsorted(inner, v, "right"), minlength=len(inner) + 1) / len(v)
        for v in (reference.to_numpy(dtype=float), current.to_numpy(dtype=float))
    ]
    return psi(*shares)


def categorical_psi(reference: pd.Series, current: pd.Series, top_n: int) -> float:
    """PSI over the reference's `top_n` most frequent values plus one bin for all others."""
    keep = reference.value_counts().index[:top_n]
    binned = [v.where(v.isin(keep), _OTHER) for v in (reference, current)]
    levels = [*keep, _OTHER]
    shares = [v.value_counts(normalize=True).reindex(levels, fill_value=0.0) for v in binned]
    return psi(shares[0].to_numpy(), shares[1].to_numpy())


def feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, bins: int = 10
) -> list[FeatureDrift]:
    """PSI (and KS for numeric features) of every monitored feature, reference vs current."""
    before, now = monitored_features(reference), monitored_features(current)
    drifts = []
    for name, (kind, values) in before.items():
        later = now[name][1]
        if kind == "categorical":
            drifts.append(FeatureDrift(name, kind, categorical_psi(values, later, bins)))
            continue
        test = ks_2samp(values.to_numpy(), later.to_numpy())
        drifts.append(
            FeatureDrift(
                name,
                kind,
                numeric_psi(values, later, bins),
                float(values.mean()),
                float(later.mean()),
                float(test.statistic),
                float(test.pvalue),
            )
        )
    return drifts


def unseen_values(reference: pd.Series, current: pd.Series, top_n: int = 10) -> dict:
    """The share of current rows whose (non-null) value the reference lacks, with the most
    common such values."""
    unseen = current.notna() & ~current.isin(set(reference.dropna()))
    counts = current[unseen].value_counts().head(top_n)
    return {
        "share": float(unseen.mean()) if len(current) else 0.0,
        "rows": int(unseen.sum()),
        "distinct": int(current[unseen].nunique()),
        "top": [[str(value), int(n)] for value, n in counts.items()],
    }


def _words(titles: pd.Series) -> list[str]:
    return _WORD.findall(" ".join(titles.fillna("").str.lower()))


def _oov_rate(vocabulary: set[str], words: list[str]) -> float:
    return sum(word not in vocabulary for word in words) / len(words) if words else 0.0


def vocabulary_shift(reference: pd.Series, current: pd.Series, seed: int = 0) -> dict:
    """Title words out of vocabulary: the vocabulary of one half of the reference titles, the
    share of words it lacks in the other half (what new listings of an unchanged market
    show) and in the current titles; `shift` is the difference."""
    half = np.random.default_rng(seed).random(len(reference)) < 0.5
    vocabulary = set(_words(reference[half]))
    expected = _oov_rate(vocabulary, _words(reference[~half]))
    observed = _oov_rate(vocabulary, _words(current))
    return {"reference_oov": expected, "current_oov": observed, "shift": observed - expected}
