"""Brand homes: mark a brand listed outside the categories it is usually sold in.

A brand's premium is earned where the brand is known: a fashion house's candle or a phone
maker's T-shirt keeps little of it. The brand x category one-hot learns the pairs seen often;
the pairs away from a brand's home are the rare ones, so the linear model would give them the
brand's full premium. `BrandHomes` learns each brand's share of training listings per
top-level category and adds two columns for the one-hot: `brand_away` (the brand, where the
listing's top-level category holds less than `min_share` of the brand's listings) and
`brand_outside_home` ("1" there), so that each brand, and brands together, learn what being
away costs.
"""

from collections import Counter

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from price_alchemy.model.column_values import Columns, text_column, with_columns

COLUMNS = ("brand_away", "brand_outside_home")


def _brand_and_top(frame: pd.DataFrame | Columns):
    return zip(text_column(frame, "brand"), text_column(frame, "category_top"), strict=True)


class BrandHomes(TransformerMixin, BaseEstimator):
    """Adds `brand_away` and `brand_outside_home` to prepared listings (`prepare_listings`)."""

    def __init__(self, min_share: float = 0.05, min_count: int = 3) -> None:
        self.min_share = min_share
        self.min_count = min_count

    def fit(self, frame: pd.DataFrame | Columns, y=None) -> "BrandHomes":
        pairs = list(_brand_and_top(frame))
        listings, per_brand = Counter(pairs), Counter(brand for brand, _ in pairs)
        self.known_ = {b for b, n in per_brand.items() if b and n >= self.min_count}
        self.homes_ = {
            (brand, top)
            for (brand, top), n in listings.items()
            if brand in self.known_ and n >= self.min_share * per_brand[brand]
        }
        return self

    def away(self, brand: str, top: str) -> bool:
        """Whether a known brand is listed outside its home top-level categories."""
        return brand in self.known_ and (brand, top) not in self.homes_

    def transform(self, frame: pd.DataFrame | Columns) -> pd.DataFrame | Columns:
        away = [brand if self.away(brand, top) else "" for brand, top in _brand_and_top(frame)]
        flags = ["1" if brand else "" for brand in away]
        return with_columns(frame, dict(zip(COLUMNS, (away, flags), strict=True)))
