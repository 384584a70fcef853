"""Price Alchemy: price suggestions for second-hand marketplace listings."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("price-alchemy")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
