"""Model artifacts outlive the code that wrote them: a model exported by the code before the
package moved into subpackages (git 2c99a4c, committed under tests/fixtures with the prices it
gave then) loads and gives the same prices, and a model trained now names our code only through
the one artifact module, `price_alchemy.model.pickled`."""

import importlib
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from price_alchemy import ARTIFACT_MODULE, LEGACY_MODULES
from price_alchemy.lifecycle.export import read_exported
from price_alchemy.lifecycle.tracking import load_price_model, use_tracking
from price_alchemy.model import pickled
from price_alchemy.model.features import listing_columns
from price_alchemy.serving.models import load_exported

LEGACY = Path(__file__).parents[1] / "fixtures" / "model_2c99a4c"


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((LEGACY / "expected_prices.json").read_text())


def _assert_same(got, expected: dict) -> None:
    for values, key in zip(got, ("price", "low", "high"), strict=True):
        np.testing.assert_allclose(values, expected[key], rtol=1e-9, err_msg=key)


def test_an_old_artifact_gives_the_prices_it_gave_then(expected):
    _, model = read_exported(LEGACY / "model")
    _assert_same(model.predict_range(pd.DataFrame(expected["listings"])), expected)


def test_an_old_artifact_shows_its_parameters():
    """sklearn's repr, get_params and clone read every parameter of today's classes, some of
    them added after the artifact was written."""
    _, model = read_exported(LEGACY / "model")
    blend = model.estimator.regressor_.named_steps["blend"]
    assert blend.get_params()["min_validation_rows"] == 0
    assert "BlendRegressor" in repr(model)


def test_an_old_artifact_is_served_with_the_same_prices(expected):
    served = load_exported(LEGACY / "model")
    assert served.info.version == "1" and served.info.source == str(LEGACY / "model")
    _assert_same(served.predict_range(listing_columns(expected["listings"])), expected)


def _pickled_modules(path: Path) -> set[str]:
    """The modules of our code a pickle names (without importing anything new)."""
    found: set[str] = set()

    class Recorder(pickle.Unpickler):
        def find_class(self, module: str, name: str):
            found.add(module)
            return super().find_class(module, name)

    with open(path, "rb") as handle:
        Recorder(handle).load()
    return {module for module in found if module.startswith("price_alchemy")}


def test_the_old_artifact_names_the_old_flat_modules():
    """What the alias finder exists for: without it this artifact would not load."""
    names = _pickled_modules(LEGACY / "model" / "model" / "model.pkl")
    assert names and names <= LEGACY_MODULES


def test_a_new_model_names_only_the_artifact_module(champion_settings, tmp_path):
    from mlflow.artifacts import download_artifacts

    uri = f"models:/{champion_settings.model_name}@champion"
    use_tracking(champion_settings)  # this process's MLflow, whatever test ran before
    folder = download_artifacts(uri, dst_path=str(tmp_path))
    load_price_model(folder)  # it loads, from the files checked below
    assert _pickled_modules(Path(folder) / "model.pkl") == {ARTIFACT_MODULE}


@pytest.mark.parametrize("legacy", sorted(LEGACY_MODULES))
def test_every_legacy_path_is_an_alias_of_the_artifact_module(legacy):
    module = importlib.import_module(legacy)
    assert all(getattr(module, name) is getattr(pickled, name) for name in pickled.__all__)


def test_every_pickled_object_is_named_by_the_artifact_module():
    for obj in pickled.PICKLED:
        assert obj.__module__ == ARTIFACT_MODULE
        assert getattr(pickled, obj.__qualname__) is obj
