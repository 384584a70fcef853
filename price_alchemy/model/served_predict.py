"""The served model's prices without scikit-learn's per-call checks of its composites.

`Pipeline.predict` and `TransformedTargetRegressor.predict` check on every call that each step is
fitted (walking the whole estimator tree for its tags) and re-validate their inputs, as do
`Ridge.predict` and the target transformer, and TF-IDF's transform re-validates the count
matrix it has just built (a dataframe-library probe by introspection, the larger part of a
vectorizer's call on one listing): together about half of a single-listing model call, paid
again by every micro-batch. The served model was fitted once and does not change, so
`direct_predict` unrolls those composites (and our own `ColumnUnion` and `BlendRegressor`) into
the calls they make, and does a fitted `TfidfVectorizer`'s weighting itself; every other
estimator (the vectorizers, LightGBM, brand inference) is called
as it is. `fast_predict_range` serves it, on listings as a dict of column lists, only where it
gives the model's own prices on sample listings, and otherwise the model's `predict_range`.
"""

import logging
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import TransformedTargetRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from price_alchemy.model.blend import BlendRegressor
from price_alchemy.model.column_values import Columns
from price_alchemy.model.features import ColumnUnion, listing_columns
from price_alchemy.model.trees_on_linear import TreesOnLinear
from price_alchemy.schema import LISTING_FIELDS

log = logging.getLogger(__name__)

# Listings the direct path is checked on against the model's own prices, and the API's smoke
# prediction prices: a full one, and one with every optional field missing
SAMPLE_LISTINGS = (
    {
        "name": "Nike running shoes size 9",
        "item_condition_id": 3,
        "category_name": "Women/Shoes/Athletic",
        "brand_name": "Nike",
        "shipping": 1,
        "item_description": "Worn a few times, good condition.",
    },
    {
        "name": "vintage levis denim jacket ✨",
        "item_condition_id": 1,
        "category_name": None,
        "brand_name": None,
        "shipping": 0,
        "item_description": None,
    },
)


def checks_off():
    """A context in which scikit-learn skips its per-call checks of inputs and arguments (a
    few milliseconds a call): the served model's inputs are built by our own steps, so they
    only repeat what is known. The API and batch re-pricing price in it alike."""
    return sklearn.config_context(assume_finite=True, skip_parameter_validation=True)


def _chain(steps: list[Callable], last: Callable) -> Callable:
    def run(X):
        for step in steps:
            X = step(X)
        return last(X)

    return run


def _inverse_target(transformer) -> Callable | None:
    """The inverse of a TransformedTargetRegressor's fitted FunctionTransformer, else None."""
    if not isinstance(transformer, FunctionTransformer):
        return None
    inverse, kwargs = transformer.inverse_func, transformer.inv_kw_args or {}
    if inverse is None:
        return lambda y: y
    return lambda y: np.asarray(inverse(y.reshape(-1, 1), **kwargs)).reshape(len(y))


def direct_predict(estimator, method: str = "predict") -> Callable:
    """A function doing what `getattr(estimator, method)` does, with the composites unrolled."""
    if isinstance(estimator, Pipeline):
        steps = [
            direct_predict(step, "transform")
            for _, step in estimator.steps[:-1]
            if step not in (None, "passthrough")
        ]
        return _chain(steps, direct_predict(estimator.steps[-1][1], method))
    if isinstance(estimator, TransformedTargetRegressor) and method == "predict":
        inverse = _inverse_target(estimator.transformer_)
        if inverse is not None:
            regressor = direct_predict(estimator.regressor_)
            return lambda X: inverse(regressor(X))
    if isinstance(estimator, FunctionTransformer) and method == "transform":
        if not estimator.validate and estimator.func is not None:
            func, kwargs = estimator.func, estimator.kw_args or {}
            return lambda X: func(X, **kwargs)
    if isinstance(estimator, ColumnUnion) and method == "transform":
        steps = [direct_predict(step, "transform") for _, step, _ in estimator.transformers_]
        return lambda X: estimator.transform_with(steps, X)
    if isinstance(estimator, BlendRegressor) and method == "predict":
        members = [direct_predict(member) for member in estimator.members_.values()]
        return lambda X: estimator.predict_with(members, X)
    if isinstance(estimator, TreesOnLinear) and method == "predict":
        linears = [direct_predict(linear) for linear in estimator.linears_]
        return lambda X: estimator.predict_given(X, estimator.linear_prediction(X, linears))
    if type(estimator) is TfidfVectorizer and method == "transform":
        return _tfidf_transform(estimator)
    if type(estimator) is Ridge and method == "predict" and np.ndim(estimator.coef_) == 1:
        coef, intercept = estimator.coef_, estimator.intercept_
        return lambda X: X @ coef + intercept
    return getattr(estimator, method)


def _tfidf_transform(vectorizer: TfidfVectorizer) -> Callable:
    """The vectorizer's transform: counts by its own vocabulary, then its tf-idf weighting and
    l2 norm, without re-validating the counts; its own transform for any other norm."""
    weighting = vectorizer._tfidf
    if weighting.norm not in ("l2", None):
        return vectorizer.transform
    idf = getattr(weighting, "idf_", None)

    def transform(documents):
        counts = vectorizer._count_vocab(documents, fixed_vocab=True)[1]
        if vectorizer.binary:
            counts.data.fill(1)
        if weighting.sublinear_tf:
            np.log(counts.data, counts.data)
            counts.data += 1.0
        if idf is not None:
            counts.data *= idf[counts.indices]
        if weighting.norm == "l2":
            inplace_csr_row_normalize_l2(counts)
        return counts

    return transform


def fast_predict_range(model, sample: Sequence[dict]) -> Callable:
    """A function giving `model.predict_range` (price, low, high per listing) of listings as
    a dict of column lists (`listing_columns`): the price from `direct_predict(model.estimator)`
    of the columns themselves where that gives the model's own prices on the `sample` listings,
    and otherwise the model's own `predict_range` of them as a DataFrame."""

    def own(columns: Columns):
        return model.predict_range(
            pd.DataFrame(columns, columns=list(LISTING_FIELDS), dtype=object)
        )

    estimator, bounds = getattr(model, "estimator", None), getattr(model, "bounds", None)
    if estimator is None or bounds is None:
        return own
    predict, columns = direct_predict(estimator), listing_columns(sample)
    expected = own(columns)[0]
    try:
        got = predict(columns)
        same = np.shape(got) == np.shape(expected) and np.allclose(got, expected, rtol=1e-5)
        why = "gives other prices than"
    except Exception as error:  # any failure of the shortcut leaves the model's own path
        same, why = False, f"fails ({type(error).__name__}: {error}) where it runs"
    if not same:
        log.warning("the direct predict path %s the model's own: serving the latter", why)
        return own

    def predict_range(columns: Columns):
        price = predict(columns)
        return price, *bounds(price)

    return predict_range
