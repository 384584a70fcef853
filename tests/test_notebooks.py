"""The notebooks in `notebooks/`: stored without outputs, and executed top to bottom on small data
(synthetic demo listings, and a listings file read through the package's loader) so they
cannot silently rot when the package changes."""

import json
import math
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from price_alchemy.model.compare import ROWS

pytestmark = pytest.mark.slow

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ("eda", "model_comparison")
SMALL_ROWS = "3000"


def read_notebook(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def code_cells(notebook: nbformat.NotebookNode) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory) -> str:
    """A python3 kernelspec that starts this interpreter's ipykernel; installed into a
    temporary prefix (found through JUPYTER_PATH) only when none can be found."""
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" in KernelSpecManager().find_kernel_specs():
        yield "python3"
        return
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("kernel")
    install(kernel_name="pa-notebooks", prefix=str(prefix))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
        yield "pa-notebooks"


@pytest.fixture
def small_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small, fast notebook settings in the environment the kernel inherits."""
    monkeypatch.setenv("PRICE_ALCHEMY_NOTEBOOK_ROWS", SMALL_ROWS)
    monkeypatch.setenv("PRICE_ALCHEMY_NOTEBOOK_FAST", "1")
    monkeypatch.delenv("PRICE_ALCHEMY_NOTEBOOK_DATA", raising=False)


def execute(name: str, kernel_name: str, work_dir: Path) -> nbformat.NotebookNode:
    """The notebook run top to bottom in `work_dir` (raises on the first failing cell)."""
    notebook = read_notebook(name)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(work_dir)}},
    )
    client.execute()
    return notebook


def output_text(cell) -> str:
    """A code cell's printed and displayed text (text/plain of results and displays)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
    return "\n".join(parts)


def cell_calling(notebook: nbformat.NotebookNode, call: str):
    """The only code cell whose source contains `call`."""
    found = [cell for cell in code_cells(notebook) if call in cell.source]
    assert len(found) == 1, f"{len(found)} cells call {call}"
    return found[0]


def table_values(text: str, row: str) -> list[float]:
    """The numbers on the line of a printed DataFrame whose index label is `row`."""
    for line in text.splitlines():
        if line.startswith(row + " "):
            return [float(value) for value in line[len(row) :].split()]
    raise AssertionError(f"no row {row!r} in:\n{text}")


def assert_ran_cleanly(notebook: nbformat.NotebookNode) -> None:
    cells = code_cells(notebook)
    assert all(cell.execution_count is not None for cell in cells)
    errors = [o for cell in cells for o in cell.outputs if o.output_type == "error"]
    assert errors == []


def images(notebook: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in code_cells(notebook)
        for output in cell.outputs
    )


@pytest.mark.parametrize("name", NAMES)
def test_stored_notebook_has_no_outputs(name: str) -> None:
    notebook = read_notebook(name)
    nbformat.validate(notebook)
    for cell in code_cells(notebook):
        assert cell.outputs == [], cell.source
        assert cell.execution_count is None, cell.source
        assert "execution" not in cell.metadata, cell.source
    assert "widgets" not in notebook.metadata
    assert all("widgets" not in cell.metadata for cell in notebook.cells)
    assert "image/png" not in json.dumps(notebook)


def test_notebooks_load_listings_through_the_package_alike() -> None:
    first = [code_cells(read_notebook(name))[0].source for name in NAMES]
    assert first[0] == first[1]
    for call in ("read_valid_listings(", "generate_listings(", "split_valid_rows("):
        assert call in first[0]
    for name in NAMES:
        for cell in code_cells(read_notebook(name)):
            assert "def " not in cell.source and "class " not in cell.source, (
                f"{name}: logic belongs in the package, not in a notebook cell"
            )


def test_eda_runs_on_demo_listings(small_run, kernel_name: str, tmp_path: Path) -> None:
    notebook = execute("eda", kernel_name, tmp_path)

    assert_ran_cleanly(notebook)
    loaded = output_text(code_cells(notebook)[0])
    assert f"demo listings (generate_listings, {SMALL_ROWS} rows)" in loaded
    assert images(notebook) >= 3  # price histogram, category boxplot, description scatter
    scores = output_text(cell_calling(notebook, "GroupMedianRegressor("))
    (median_rmsle,) = table_values(scores, "overall median")
    (baseline_rmsle,) = table_values(scores, "rules baseline")
    assert 0 < baseline_rmsle < median_rmsle < 3


def test_eda_runs_on_a_listings_file(
    small_run, kernel_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from price_alchemy.demo.generator import generate_listings

    frame = generate_listings(1500, seed=5).to_pandas()
    frame.loc[[3, 70, 900], "price"] = 0.0  # three rows the validator must quarantine
    data_file = tmp_path / "listings.parquet"
    frame.to_parquet(data_file)
    monkeypatch.setenv("PRICE_ALCHEMY_NOTEBOOK_DATA", str(data_file))

    notebook = execute("eda", kernel_name, tmp_path)

    assert_ran_cleanly(notebook)
    loaded = output_text(code_cells(notebook)[0])
    assert f"{data_file}: 1500 rows read, 1497 valid, 3 quarantined" in loaded
    reasons = output_text(cell_calling(notebook, 'quarantined["reasons"]'))
    assert "price" in reasons and "3" in reasons


def test_model_comparison_runs_on_demo_listings(
    small_run, kernel_name: str, tmp_path: Path
) -> None:
    notebook = execute("model_comparison", kernel_name, tmp_path)

    assert_ran_cleanly(notebook)
    scores = output_text(cell_calling(notebook, "compare_models("))
    assert "rmsle" in scores
    rows = {row: table_values(scores, row) for row in ROWS}
    assert all(len(values) == 3 and all(map(math.isfinite, values)) for values in rows.values())
    assert rows["blend"][0] < rows["baseline"][0]  # rmsle: the served model beats the rules
    coverage = output_text(cell_calling(notebook, "comparison.coverage"))
    assert 0.5 < table_values(coverage, "measured on test")[0] <= 1
    assert "gain" in output_text(cell_calling(notebook, "feature_importance(model)"))
    assert "(all)" in output_text(cell_calling(notebook, "category_errors("))
    assert images(notebook) >= 1  # the RMSLE bar chart
