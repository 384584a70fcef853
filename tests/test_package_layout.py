"""The package's shape: subpackages by stage whose imports flow one way, no import cycle (imports
inside functions count), at most 10 modules at the top level. Read from the sources, so a
function-level import that closes a cycle fails here even if no test runs it."""

import ast
from pathlib import Path

import networkx as nx

import price_alchemy

PACKAGE = Path(price_alchemy.__file__).parent
CORE = {"settings", "params", "errors", "schema", "records", "__init__"}
# what each part may import besides itself and the core modules, lowest first
MAY_IMPORT = {
    "core": set(),
    "data": set(),
    "demo": set(),
    "validation": {"data"},
    "model": {"data", "validation"},
    "lifecycle": {"data", "validation", "model"},
    "monitoring": {"data", "validation", "model", "lifecycle"},
    "pipeline": {"data", "validation", "model", "lifecycle", "monitoring"},
    "serving": {"data", "model", "lifecycle"},
    "orchestration": {"data", "validation", "model", "lifecycle", "monitoring", "pipeline"},
    "cli": {
        "data",
        "demo",
        "validation",
        "model",
        "lifecycle",
        "monitoring",
        "pipeline",
        "serving",
        "orchestration",
    },
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str) -> set[str]:
    """Every price_alchemy name the source at `path` (module `module`) imports, at any depth
    of its code."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found |= {f"{base}.{alias.name}" for alias in node.names} | {base}
    return {name for name in found if name.startswith("price_alchemy")}


def import_graph() -> nx.DiGraph:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for imported in _imports(path, name):
            while imported not in modules:  # `from pkg.module import name` -> pkg.module
                imported = imported.rpartition(".")[0]
            if imported != name and imported != "price_alchemy":
                graph.add_edge(name, imported)
    return graph


def part(module: str) -> str:
    """The stage a module belongs to: its subpackage, `core` or `cli`."""
    parts = module.split(".")
    if len(parts) == 2 and parts[1] == "cli":
        return "cli"
    if len(parts) == 1 or parts[1] in CORE:
        return "core"
    return parts[1]


def test_no_import_cycle():
    cycles = list(nx.simple_cycles(import_graph()))
    assert cycles == [], f"import cycles: {cycles}"


def test_imports_flow_one_way():
    wrong = [
        f"{a} -> {b}"
        for a, b in import_graph().edges
        if part(b) not in MAY_IMPORT[part(a)] | {part(a), "core"}
    ]
    assert wrong == []


def test_every_module_is_in_a_known_part():
    assert {part(m) for m in import_graph()} <= set(MAY_IMPORT)


def test_at_most_ten_top_level_modules():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 10, top


def test_the_checker_sees_imports_inside_functions(tmp_path):
    """A function-level import is an edge, so a cycle it closes would be caught."""
    source = tmp_path / "module.py"
    source.write_text("def f():\n    from .warehouse import Warehouse\n")
    assert "price_alchemy.data.warehouse.Warehouse" in _imports(source, "price_alchemy.data.x")


def test_the_graph_has_the_known_edges():
    graph = import_graph()
    assert graph.has_edge("price_alchemy.serving.models", "price_alchemy.lifecycle.tracking")
    assert graph.has_edge("price_alchemy.data.backends", "price_alchemy.data.duckdb_warehouse")
