"""Tests for price_alchemy.params: packaged defaults and section-wise overrides."""

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from price_alchemy.params import DEFAULTS_FILE, Params, load_params


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "override.yaml"
    path.write_text(text)
    return path


def test_packaged_defaults_load() -> None:
    params = load_params()
    assert isinstance(params, Params)
    assert params.model_dump() == yaml.safe_load(DEFAULTS_FILE.read_text())
    assert params.split.test_size == 0.1
    assert params.split.seed == 42
    assert params.validation.price_cap == 100000.0
    assert params.baseline.min_group_size == 5


def test_override_changes_one_key_and_keeps_the_rest(tmp_path: Path) -> None:
    defaults = load_params()
    params = load_params(_write(tmp_path, "model:\n  n_estimators: 7\n"))
    assert params.model.n_estimators == 7
    assert params.model.model_dump(exclude={"n_estimators"}) == defaults.model.model_dump(
        exclude={"n_estimators"}
    )
    assert params.model_dump(exclude={"model"}) == defaults.model_dump(exclude={"model"})


def test_override_several_sections(tmp_path: Path) -> None:
    text = "split:\n  seed: 7\nvalidation:\n  max_bad_share: 0.5\n"
    params = load_params(_write(tmp_path, text))
    assert params.split.seed == 7 and params.split.test_size == 0.1
    assert params.validation.max_bad_share == 0.5 and params.validation.price_cap == 100000.0


@pytest.mark.parametrize("text", ["", "# only a comment\n", "model:\n"])
def test_empty_override_keeps_defaults(tmp_path: Path, text: str) -> None:
    assert load_params(_write(tmp_path, text)) == load_params()


def test_conftest_small_params_are_merged(settings) -> None:
    params = load_params(settings.params_file)
    assert params.model.n_estimators == 60
    assert params.features.min_df == 2
    assert params.features.ngram_max == load_params().features.ngram_max


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("split:\n  test_size: 1.5\n", "test_size"),
        ("split:\n  test_size: 0\n", "test_size"),
        ("validation:\n  max_bad_share: -0.1\n", "max_bad_share"),
        ("validation:\n  price_cap: 0\n", "price_cap"),
        ("model:\n  num_leaves: 1\n", "num_leaves"),
        ("features:\n  ngram_max: 4\n", "ngram_max"),
        ("model:\n  n_estimators: many\n", "n_estimators"),
    ],
)
def test_out_of_range_value_raises(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        load_params(_write(tmp_path, text))


def test_missing_override_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_params(tmp_path / "absent.yaml")
