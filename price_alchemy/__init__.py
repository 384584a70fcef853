"""Price Alchemy: price suggestions for second-hand marketplace listings.

Importing the package does one thing besides reading its version: it keeps the module paths
that model artifacts written by earlier versions name (`LEGACY_MODULES`) importable, as aliases
of `price_alchemy.model.pickled`, so any unpickler (ours, `mlflow models serve`) loads them. The
aliases are resolved only when an artifact asks for one.
"""

import importlib
import importlib.abc
import importlib.util
import sys
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType

try:
    __version__ = version("price-alchemy")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

ARTIFACT_MODULE = "price_alchemy.model.pickled"
# the flat modules of versions up to 0.1 (git 2c99a4c) that their pickled models name
LEGACY_MODULES = frozenset(
    f"price_alchemy.{name}"
    for name in ("blend", "brand_inference", "features", "members", "price_range", "train")
)


class _LegacyArtifactPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports each of `LEGACY_MODULES` as a module whose names are those of ARTIFACT_MODULE."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in LEGACY_MODULES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def exec_module(self, module: ModuleType) -> None:
        artifacts = importlib.import_module(ARTIFACT_MODULE)
        module.__dict__.update({name: getattr(artifacts, name) for name in artifacts.__all__})


if not any(isinstance(finder, _LegacyArtifactPaths) for finder in sys.meta_path):
    sys.meta_path.append(_LegacyArtifactPaths())
