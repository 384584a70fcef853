"""Every object of this package that a model artifact refers to by its import path.

Models are pickled (cloudpickle) into MLflow. An artifact names each of our classes and
functions it holds by module and name, and loads only where that name still imports, long
after the code that wrote it has changed. This module is that name for all of them: each object
below is pickled as `price_alchemy.model.pickled.<name>`, wherever its code lives, so the code
can move without stranding a registered version. Its names are public API: add, never rename or
remove one. Artifacts written before this module existed name the old flat modules
(`price_alchemy.features`, `price_alchemy.train`, ...); `price_alchemy.LEGACY_MODULES` keeps those
paths importable as aliases of this module. What else an artifact depends on (attribute names,
library versions) is in the README's "Model artifacts" section.
"""

from price_alchemy.model.blend import BlendRegressor
from price_alchemy.model.brand_home import BrandHomes
from price_alchemy.model.brand_inference import BrandFromTitle
from price_alchemy.model.comparables import ComparableSales
from price_alchemy.model.features import (
    ColumnUnion,
    as_sparse_float32,
    categorical_tokens,
    category_words,
    prepare_listings,
    split_tokens,
    weighted,
)
from price_alchemy.model.members import TopColumnsLGBM
from price_alchemy.model.price_range import PriceRangeModel
from price_alchemy.model.train import to_price
from price_alchemy.model.trees_on_linear import TreesOnLinear

PICKLED = (
    BlendRegressor,
    BrandFromTitle,
    BrandHomes,
    ColumnUnion,
    ComparableSales,
    PriceRangeModel,
    TopColumnsLGBM,
    TreesOnLinear,
    as_sparse_float32,
    categorical_tokens,
    category_words,
    prepare_listings,
    split_tokens,
    to_price,
    weighted,
)
for _pickled in PICKLED:  # pickle (and cloudpickle) name an object by its __module__
    _pickled.__module__ = __name__

__all__ = [obj.__name__ for obj in PICKLED]
