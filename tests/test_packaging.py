"""The wheel users and the API image install: built as the image build builds it
(scripts/build_wheel.sh), it holds every non-Python file the package reads at run time, and
installed outside the checkout it serves the seller page and prices a listing."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support.project import serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LEGACY_MODEL = ROOT / "tests" / "fixtures" / "model_2c99a4c" / "model"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(["bash", "scripts/build_wheel.sh", str(out)], cwd=ROOT, check=True)
    [built] = out.glob("price_alchemy-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed (without its dependencies, which this venv has) into a folder of
    its own, outside the checkout."""
    target = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run([*command, "--target", str(target), str(wheel)], check=True)
    return target


def test_the_wheel_holds_every_data_file_of_the_package(wheel):
    package = ROOT / "price_alchemy"
    data = {
        path.relative_to(ROOT).as_posix()
        for path in package.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc")
    }
    assert {"price_alchemy/serving/seller_page.html", "price_alchemy/params.yaml"} <= data
    assert data <= set(zipfile.ZipFile(wheel).namelist())


def _environment(installed: Path, home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("PRICE_ALCHEMY")}
    return keep | {
        "PYTHONPATH": str(installed),  # ahead of the checkout's editable install
        "PRICE_ALCHEMY_HOME": str(home),
        "PRICE_ALCHEMY_MODEL_DIR": str(LEGACY_MODEL),
    }


def test_the_installed_wheel_is_the_package_that_runs(installed, tmp_path):
    probe = "import price_alchemy; print(price_alchemy.__file__)"
    env = _environment(installed, tmp_path / "home")
    ran = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert Path(ran.stdout.strip()).is_relative_to(installed), ran.stderr


def test_the_installed_wheel_serves_the_seller_page_and_prices(installed, tmp_path):
    uvicorn = (sys.executable, "-m", "uvicorn", "--factory", "price_alchemy.serving.app:create_app")
    env = _environment(installed, tmp_path / "home")
    with serve(env, command=uvicorn, cwd=tmp_path) as url:
        page = httpx.get(f"{url}/")
        listing = {"name": "Nike running shoes", "item_condition_id": 3, "shipping": 1}
        priced = httpx.post(f"{url}/v1/price-suggestions", json={"listings": [listing]})
    assert page.status_code == 200 and "<form" in page.text
    assert priced.status_code == 200 and priced.json()["suggestions"][0]["price"] > 0
