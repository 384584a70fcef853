"""What a served model says beyond its prices: why (factors), comparable sales, and the catalogue
of categories and brands it knows, each from its own artifact.

`Explanations` is built once per served model version and dropped with it, so its caches (the
category tree, brand look-ups) are per model version. A model trained before explanations, or
whose artifact has no comparable sales, still serves: its answers say what is missing.
"""

import logging
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from price_alchemy.model.column_values import Columns
from price_alchemy.model.explain import Explainer, Explanation, NoExplanations
from price_alchemy.schema import LISTING_FIELDS

log = logging.getLogger(__name__)
NO_INDEX = "the model was trained before comparable sales: train it again"


class Explanations:
    def __init__(self, model, sample: Columns) -> None:
        """Explanations of `model`, checked on the `sample` listings: their factors must add
        up to the model's own prices, else the model serves without them."""
        self.explainer: Explainer | None = None
        self.why_not: str | None = None
        try:
            self.explainer = _checked(Explainer(model), model, sample)
        except (NoExplanations, ValueError) as error:
            self.why_not = str(error)  # (the error itself would keep the model's frames alive)
            log.warning("serving without explanations: %s", self.why_not)
        self.index = getattr(model, "comparables_", None)
        if self.index is not None:
            self.categories = cache(self.index.categories)
            self.brands = lru_cache(maxsize=4096)(self.index.brands)

    def explain(self, listings: Columns) -> list[dict]:
        """Per listing: base_price, log_price and factors (or None), comparables (or None),
        and explain_note saying what is missing and why."""
        count = len(listings["name"])
        missing = dict.fromkeys(("base_price", "log_price", "factors", "comparables"))
        answers = [dict(missing) for _ in range(count)]
        notes = []
        if self.explainer is None:
            notes.append(f"no factors: {self.why_not}")
        else:
            for answer, explained in zip(answers, self.explainer.explain(listings), strict=True):
                answer.update(_factors(explained))
        if self.index is None:
            notes.append(f"no comparables: {NO_INDEX}")
        else:
            for answer, found in zip(answers, self.index.find(listings), strict=True):
                answer["comparables"] = found
        for answer in answers:
            answer["explain_note"] = "; ".join(notes) or None
        return answers


def _factors(explained: Explanation) -> dict:
    return {
        "base_price": explained.base_price,
        "log_price": explained.log_price,
        "factors": [vars(factor) for factor in explained.factors],
    }


def _checked(explainer: Explainer, model, sample: Columns) -> Explainer:
    """`explainer`, once its explanations of `sample` give the model's own prices."""
    explained = explainer.explain(sample)
    prices = model.predict(pd.DataFrame(sample, columns=list(LISTING_FIELDS), dtype=object))
    logs = np.array([e.log_price for e in explained])
    sums = np.array(
        [np.log1p(e.base_price) + sum(f.log_effect for f in e.factors) for e in explained]
    )
    if not (np.allclose(logs, np.log1p(prices), atol=1e-5) and np.allclose(sums, logs, atol=1e-9)):
        raise ValueError(f"explanations do not add up to the prices {prices}")
    return explainer
