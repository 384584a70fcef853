"""Tests for price_alchemy.settings: environment prefix, derived paths, validation, caching."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from price_alchemy.settings import Settings, get_settings


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No PRICE_ALCHEMY_* variables, the working directory a fresh folder, a fresh cache."""
    for name in list(os.environ):
        if name.startswith("PRICE_ALCHEMY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_defaults_without_environment(clean_env: Path) -> None:
    settings = Settings()
    assert settings.home == clean_env / ".price_alchemy"
    assert settings.warehouse_table == "listings"
    assert settings.mlflow_tracking_uri is None
    assert settings.params_file is None
    assert settings.model_name == "price-alchemy"


def test_env_prefix_is_read(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICE_ALCHEMY_HOME", str(clean_env / "state"))
    monkeypatch.setenv("PRICE_ALCHEMY_WAREHOUSE_TABLE", "raw_listings")
    monkeypatch.setenv("PRICE_ALCHEMY_MODEL_NAME", "my-model")
    monkeypatch.setenv("PRICE_ALCHEMY_MLFLOW_EXPERIMENT", "my-experiment")
    monkeypatch.setenv("PRICE_ALCHEMY_PARAMS_FILE", str(clean_env / "p.yaml"))
    monkeypatch.setenv("MODEL_NAME", "not-prefixed-so-ignored")
    settings = Settings()
    assert settings.home == clean_env / "state"
    assert settings.warehouse_table == "raw_listings"
    assert settings.model_name == "my-model"
    assert settings.mlflow_experiment == "my-experiment"
    assert settings.params_file == clean_env / "p.yaml"


def test_relative_home_becomes_absolute(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICE_ALCHEMY_HOME", "rel/../state")
    settings = Settings()
    assert settings.home.is_absolute()
    assert settings.home == (clean_env / "state").resolve()


def test_home_expands_user(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(clean_env / "user"))
    monkeypatch.setenv("PRICE_ALCHEMY_HOME", "~/state")
    assert Settings().home == (clean_env / "user" / "state").resolve()


def test_derived_paths_live_under_home(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = clean_env / "state"
    monkeypatch.setenv("PRICE_ALCHEMY_HOME", str(home))
    settings = Settings()
    assert settings.warehouse_path == home / "warehouse.duckdb"
    assert settings.airflow_home == home / "airflow"
    assert settings.snapshots_dir == home / "snapshots"
    assert settings.logs_dir == home / "logs"
    assert settings.artifact_root == home / "mlartifacts"
    for path in (settings.warehouse_path, settings.airflow_home, settings.snapshots_dir):
        assert path.is_relative_to(home)


def test_default_tracking_uri_is_sqlite_under_home(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = clean_env / "state"
    monkeypatch.setenv("PRICE_ALCHEMY_HOME", str(home))
    uri = Settings().tracking_uri
    assert uri == f"sqlite:///{home / 'mlflow.db'}"
    assert uri.startswith("sqlite:////")  # three slashes + an absolute path


def test_tracking_uri_override(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICE_ALCHEMY_MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    settings = Settings()
    assert settings.mlflow_tracking_uri == "http://mlflow.example:5000"
    assert settings.tracking_uri == "http://mlflow.example:5000"


@pytest.mark.parametrize(
    "table", ["x; drop table y", "1listings", "list-ings", "list ings", "", "listings\n"]
)
def test_invalid_warehouse_table_rejected(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    monkeypatch.setenv("PRICE_ALCHEMY_WAREHOUSE_TABLE", table)
    with pytest.raises(ValidationError, match="warehouse_table"):
        Settings()


def test_get_settings_is_cached(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICE_ALCHEMY_MODEL_NAME", "first")
    first = get_settings()
    monkeypatch.setenv("PRICE_ALCHEMY_MODEL_NAME", "second")
    assert get_settings() is first
    assert get_settings().model_name == "first"
    get_settings.cache_clear()
    assert get_settings().model_name == "second"


def test_settings_fixture_points_at_test_home(settings: Settings, tmp_path: Path) -> None:
    assert settings.home == tmp_path / "home"
    assert settings.params_file == tmp_path / "params.yaml"
    assert get_settings() is settings


def test_import_and_settings_create_no_folders(tmp_path: Path) -> None:
    """Importing the package, reading settings and their paths touches nothing on disk."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICE_ALCHEMY_")}
    code = (
        "import price_alchemy, price_alchemy.params, price_alchemy.data.extract\n"
        "from price_alchemy.settings import get_settings\n"
        "from price_alchemy.data.backends import open_warehouse\n"
        "s = get_settings()\n"
        "paths = [s.home, s.warehouse_path, s.tracking_uri, s.artifact_root, s.airflow_home,\n"
        "         s.snapshots_dir, s.logs_dir]\n"
        "assert open_warehouse(s).count_rows() == 0\n"
        "print(s.home)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / ".price_alchemy")
    assert list(tmp_path.iterdir()) == []
