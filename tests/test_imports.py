"""The package's import graph, read with `ast`: no cycles, and a light `--help`.

Every `import` and `from ... import` in `kerasdream/` is an edge; `from
kerasdream.x import y` points at `kerasdream.x.y` when that is a module, else
at `kerasdream.x`. Imports run when a module loads (its body, class bodies,
`if`/`try` blocks) are "top-level"; those inside functions are "lazy".

- No cycle among top-level imports (`test_no_cycle_among_top_level_imports`).
- Lazy imports may close a cycle, since they run after every module involved
  has loaded. The one that does today (`LAZY_CYCLE_EDGES`, pinned by
  `test_the_lazy_imports_that_close_a_cycle_are_the_known_ones`):
  none today.
- The modules that `kerasdream --help` and an argument error load, and the
  ones the command line's parser and validators are made of, import no
  Keras, TensorFlow, JAX, PyTorch or numpy at top level, directly or through
  other kerasdream modules.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "kerasdream")
HEAVY = ("keras", "tensorflow", "jax", "torch", "numpy")

# The modules the command line must be able to load without Keras (where they exist).
LIGHT = ("kerasdream", "kerasdream.errors", "kerasdream.defaults", "kerasdream.validation",
         "kerasdream.cli", "kerasdream.cli.parser", "kerasdream.runs.runlock",
         "kerasdream.runs.signals", "kerasdream.runs.records")

# Top-level cycles still to break: each must still exist (remove it here when it is
# gone), and no other may appear. None today.
KNOWN_CYCLES: set[frozenset[str]] = set()


def module_files() -> dict[str, str]:
    """Every kerasdream module by dotted name -> its file."""
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            parts = os.path.relpath(path, ROOT)[:-3].split(os.sep)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = module_files()


def _is_package(module: str) -> bool:
    return MODULES[module].endswith("__init__.py")


class _Imports(ast.NodeVisitor):
    """`(imported name, top-level?, line)` for each import of one module."""

    def __init__(self, module: str):
        self.module, self.depth, self.found = module, 0, []

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node):
        for alias in node.names:
            self.found.append((alias.name, [], self.depth == 0, node.lineno))

    def visit_ImportFrom(self, node):
        base = node.module or ""
        if node.level:  # relative: from the module's package
            package = self.module if _is_package(self.module) else self.module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}".rstrip(".")
        self.found.append((base, [a.name for a in node.names], self.depth == 0, node.lineno))


def imports_of(module: str) -> list[tuple[str, bool, int]]:
    """`(target, top_level, line)`: kerasdream targets resolved to modules, others as named."""
    with open(MODULES[module], encoding="utf-8") as file:
        tree = ast.parse(file.read(), MODULES[module])
    visitor = _Imports(module)
    visitor.visit(tree)
    edges = []
    for base, names, top, line in visitor.found:
        if base.split(".")[0] != "kerasdream":
            edges.append((base, top, line))
            continue
        submodules = [f"{base}.{name}" for name in names if f"{base}.{name}" in MODULES]
        edges.extend((target, top, line) for target in submodules)
        if len(submodules) < len(names) or not names:
            edges.append((base, top, line))
    return edges


GRAPH = {module: imports_of(module) for module in MODULES}


def edges(top_only: bool) -> dict[str, set[str]]:
    return {module: {target for target, top, _ in found if target in MODULES and target != module
                     and (top or not top_only)}
            for module, found in GRAPH.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return seen


def test_the_graph_resolves_names_to_modules():
    assert "kerasdream.param.base" in edges(True)["kerasdream.param.fourier"]
    assert "kerasdream.objectives" in edges(True)["kerasdream.generator"]  # `get`, a name
    assert "kerasdream.model" in edges(False)["kerasdream.accentuation"]  # lazy
    assert "kerasdream.model" not in edges(True)["kerasdream.accentuation"]
    # `from kerasdream.runs import signals`: the submodule, not the package
    assert "kerasdream.runs.signals" in edges(True)["kerasdream.callbacks"]
    assert "kerasdream.runs" not in edges(True)["kerasdream.callbacks"]


def test_no_cycle_among_top_level_imports():
    cycles = {frozenset(c) for c in strongly_connected(edges(top_only=True))}
    assert cycles - KNOWN_CYCLES == set(), "import cycles: " + "; ".join(
        " <-> ".join(sorted(c)) for c in cycles - KNOWN_CYCLES)
    assert KNOWN_CYCLES - cycles == set(), "broken cycles still listed as known"


def test_strongly_connected_finds_a_cycle_and_only_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [{"a", "b", "c"}]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


LAZY_CYCLE_EDGES: set[tuple[str, str]] = set()


def test_the_lazy_imports_that_close_a_cycle_are_the_known_ones():
    top = edges(top_only=True)
    closing = set()
    for module, found in GRAPH.items():
        for target, is_top, _ in found:
            if not is_top and target in MODULES and module in reachable(top, target):
                closing.add((module, target))
    assert closing == LAZY_CYCLE_EDGES


def heavy_top_level(module: str) -> list[str]:
    return [f"{module}:{line} imports {target}" for target, top, line in GRAPH[module]
            if top and target.split(".")[0] in HEAVY]


HELP_RUN = """
import json, sys
from kerasdream.cli import main
loaded = {}
for argv in (["--help"], ["filters", "--steps", "0"], ["filters", "--batch", "x"]):
    try:
        main(argv)
    except SystemExit:
        pass
    loaded[" ".join(argv)] = sorted(sys.modules)
print(json.dumps(loaded))
"""


def test_help_and_argument_errors_load_no_keras_numpy_or_backend():
    done = subprocess.run([sys.executable, "-c", HELP_RUN], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    for argv, modules in loaded.items():
        heavy = [m for m in modules if m.split(".")[0] in HEAVY]
        assert heavy == [], f"`kerasdream {argv}` loaded {heavy[:5]}"
    ours = {m for modules in loaded.values() for m in modules if m in MODULES}
    assert {"kerasdream.cli", "kerasdream.defaults"} <= ours
    top = edges(top_only=True)
    light = {m for start in ours for m in reachable(top, start)}
    assert [line for m in sorted(light) for line in heavy_top_level(m)] == []


@pytest.mark.parametrize("module", [m for m in LIGHT if m in MODULES])
def test_the_light_modules_import_no_keras_numpy_or_backend_at_top_level(module):
    light = reachable(edges(top_only=True), module)
    assert [line for m in sorted(light) for line in heavy_top_level(m)] == []


def test_heavy_top_level_sees_a_numpy_import():
    assert heavy_top_level("kerasdream.param.fourier")  # it does import numpy and keras


def test_no_lazy_name_of_the_package_is_also_a_module_name():
    """`kd.accentuate` was the module once `kerasdream.accentuate` had been imported:
    a submodule's attribute on the package hides a lazy name of the same spelling."""
    import kerasdream

    clashes = [name for name in kerasdream._LAZY if f"kerasdream.{name}" in MODULES]
    assert clashes == []


def test_accentuate_is_the_function_even_after_its_module_is_imported():
    """Importing a submodule sets it as the package's attribute: one named like
    a public function would replace that function."""
    import kerasdream as kd

    module = importlib.import_module("kerasdream.accentuation")
    assert kd.accentuation is module
    assert callable(kd.accentuate) and kd.accentuate.__module__ == "kerasdream.accentuation"


RUN_START = """
import sys
from kerasdream.cli import SKIPPED_AT_START_UP, _import_quietly
_import_quietly(skip_optional=%s)
import kerasdream.model, kerasdream.runs.chunk, kerasdream.runs.executors, kerasdream.runs.gallery
loaded = [name for name in (*SKIPPED_AT_START_UP, "distributed", "dask") if name in sys.modules]
import scipy.sparse, matplotlib, distributed  # still there for whoever needs them later
print(" ".join(loaded) or "none")
"""


@pytest.mark.slow
@pytest.mark.parametrize("command, loaded", [(True, "none"), (False, "scipy")])
def test_the_command_starts_without_dask_or_what_tensorflow_loads_only_if_installed(
        command, loaded):
    """What the `kerasdream` command imports before training: TensorFlow and
    Keras without scipy, JAX, matplotlib, IPython, scikit-learn, and no Dask.
    `main` called in someone's Python session (`skip_optional=False`) leaves
    Keras' optional imports as they are; Dask stays out either way."""
    pytest.importorskip("distributed")
    env = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, "-c", RUN_START % command], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**env, "PYTHONPATH": ROOT, "KERAS_HOME": "/nonexistent"})
    assert done.returncode == 0, done.stderr[-2000:]
    found = done.stdout.split("\n")[-2].split()
    assert (found == ["none"]) if loaded == "none" else (loaded in found and "dask" not in found
                                                          and "distributed" not in found)


def test_skipping_makes_a_package_unimportable_only_inside_the_block():
    from kerasdream.cli import _skipping

    sys.modules.pop("colorsys", None)
    with _skipping(["colorsys", "json"]):
        with pytest.raises(ImportError):
            import colorsys  # noqa: F401
        import json as again  # already imported: left alone

        assert again is json
    import colorsys  # noqa: F401,F811

    assert sys.modules["colorsys"] is not None


def test_start_up_skips_nothing_off_tensorflow(tmp_path, monkeypatch):
    """JAX needs scipy: only the TensorFlow backend starts without it."""
    from kerasdream.cli import _keras_backend

    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert _keras_backend() == "tensorflow"  # no keras.json: Keras' default
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "jax"}))
    assert _keras_backend() == "jax"
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert _keras_backend() == "torch"
