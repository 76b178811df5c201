"""The layer contract of docs/architecture.md, checked on the source (an AST equivalent of import-linter).

Every module of the installed ``lrwb`` packages (found through their ``__path__``, so the package-dir mapping
of pyproject.toml is followed) is parsed and its imports collected, *including* the imports inside functions
and ``importlib.import_module("literal")``. Then:

(a) layers: app → experiments → numerics → theory; nothing imports upwards (the root ``lrwb`` is the facade
    above the app);
(b) no import cycle among modules;
(c) no experiment imports another experiment (the registry ``lrwb.experiments`` and the shared helpers ``claims``
    and ``hyperparameter_checks``, which register no experiment, excepted);
(d) no private name (``_x``) crosses modules: neither ``from m import _x`` nor ``m._x`` on an imported module
    (tests excepted: they may reach into what they test);
(e) no old top-level import name (the pre-namespace ``theory`` / ``numerics`` packages) anywhere in the repo;
(f) the explicit package list of pyproject.toml is exactly the folders with an ``__init__.py``;
(g) each module has its test module (tests mirror the packages) or a commented exemption.

``KNOWN_VIOLATIONS`` lists what the parallel helpers of issue #13 are fixing; an entry that no longer occurs
fails the test too (delete it), so the list can only shrink.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

import lrwb
import lrwb.numerics
import lrwb.theory

REPO = Path(__file__).resolve().parents[1]

#: The top packages of the namespace and their layer (higher imports lower, never the reverse).
LAYERS = {"lrwb.lazy": -1, "lrwb.theory": 0, "lrwb.numerics": 1, "lrwb.experiments": 2, "lrwb.app": 3}
FACADE = 4  # the root package ``lrwb`` and ``python -m lrwb``: above the app

#: Accepted violations, each with a reason (empty since issue #13 landed; keep it so). An entry that no longer
#: occurs makes the test fail (remove it).
KNOWN_VIOLATIONS: dict[str, str] = {}

#: Modules without a test module of their own (rule g), each with where it is tested instead.
TEST_EXEMPT: dict[str, str] = {
    # the CLI's sub-commands are tested through lrwb.app.cli.main: tests/app/cli/test_bad_inputs.py (every
    # sub-command's flags, inputs and outputs), test_dynamics, test_optimize, test_unstable, and the numerics
    # tests that call the command they back
    "lrwb.app.cli.common": "tests/app/cli/test_bad_inputs.py",
    "lrwb.app.cli.design": "tests/numerics/lawfit/test_design.py, tests/app/cli/test_bad_inputs.py",
    "lrwb.app.cli.fit": "tests/numerics/lawfit/test_fit.py, tests/app/cli/test_bad_inputs.py",
    "lrwb.app.cli.formulas": "tests/theory/test_power_laws.py, tests/app/cli/test_bad_inputs.py",
    "lrwb.app.cli.fsl": "tests/numerics/fsl/test_engine.py, tests/app/cli/test_bad_inputs.py",
    "lrwb.app.cli.reproduce": "tests/app/test_reproduce.py (test_cli_exit_codes_and_errors)",
    "lrwb.app.cli.simulate": "tests/numerics/test_simulate.py, tests/app/cli/test_bad_inputs.py",
    "lrwb.app.cli.sweep": "tests/numerics/test_sweep.py, tests/app/cli/test_bad_inputs.py",
    # experiments tested with the numerics they check
    "lrwb.experiments.fsl_hyperparameters": "tests/numerics/analysis/test_hyperparameters.py",
    "lrwb.experiments.plrf_hyperparameters": "tests/numerics/analysis/test_hyperparameters.py",
    "lrwb.experiments.fsl_optimal": "tests/numerics/fsl/test_optimal.py",
    "lrwb.experiments.plrf_phase_diagram": "tests/numerics/test_sweep.py",
    "lrwb.numerics.analysis.phase_diagram": "tests/numerics/test_sweep.py (points, keys, fits on exact power laws)",
    "lrwb.numerics.dynamics.numba_kernels": "tests/numerics/dynamics/test_expected.py (numba vs numpy backends)",
}


# ------------------------------------------------------------------------------------------------------------
# the modules and their imports


@lru_cache(maxsize=1)
def modules() -> dict[str, Path]:
    """Every module of the namespace: dotted name -> file (packages by their ``__init__.py``)."""
    out = {}
    for package in (lrwb, lrwb.theory, lrwb.numerics):
        for folder in map(Path, package.__path__):
            for path in sorted(folder.rglob("*.py")):
                if "__pycache__" in path.parts:
                    continue
                parts = list(path.relative_to(folder).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts.pop()
                out[".".join([package.__name__, *parts])] = path
    return out


def is_package(module: str) -> bool:
    return modules()[module].name == "__init__.py"


def layer(module: str) -> int:
    for top, rank in LAYERS.items():
        if module == top or module.startswith(top + "."):
            return rank
    return FACADE


@dataclass(frozen=True)
class Import:
    """One import edge: ``source`` (a module) imports ``target`` (a project module), binding ``name`` from it
    (``None`` for a whole-module import)."""

    source: str
    target: str
    name: str | None
    line: int
    in_function: bool

    def where(self) -> str:
        return f"{_label(modules()[self.source])}:{self.line}" if self.source in modules() else self.source


def _label(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _resolve_from(source: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = source if is_package(source) else source.rpartition(".")[0]
    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _project_module(name: str) -> str | None:
    """The longest prefix of ``name`` that is a project module (``None`` outside the namespace)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in modules():
            return prefix
    return None


class _Collector(ast.NodeVisitor):
    def __init__(self, source: str):
        self.source, self.depth, self.found = source, 0, []

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def _add(self, target: str, name: str | None, node: ast.AST) -> None:
        self.found.append(Import(self.source, target, name, node.lineno, self.depth > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            target = _project_module(alias.name)
            if target is not None:
                self._add(target, None, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve_from(self.source, node) if self.source in modules() else (node.module or "")
        for alias in node.names:
            if f"{base}.{alias.name}" in modules():
                self._add(f"{base}.{alias.name}", None, node)  # a sub-module
            elif base in modules():
                self._add(base, alias.name, node)

    def visit_Call(self, node: ast.Call) -> None:
        # importlib.import_module("lrwb.x.y"): a literal name is an import like any other
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr == "import_module" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            target = _project_module(node.args[0].value)
            if target is not None:
                self._add(target, None, node)
        self.generic_visit(node)


@lru_cache(maxsize=None)
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imports_of(source: str, path: Path | None = None) -> list[Import]:
    collector = _Collector(source)
    collector.visit(parse(path or modules()[source]))
    return collector.found


@lru_cache(maxsize=1)
def all_imports() -> tuple[Import, ...]:
    return tuple(edge for module in modules() for edge in imports_of(module) if edge.target != module)


# ------------------------------------------------------------------------------------------------------------
# the rules: each returns {violation: where} (a violation is a stable text naming it)


def layer_violations() -> dict[str, str]:
    return {f"layers: {e.source} -> {e.target}": e.where() for e in all_imports()
            if layer(e.target) > layer(e.source)}


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the strongly connected components of ``graph``."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    out.append(sorted(component))
    return out


def cycle_violations() -> dict[str, str]:
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for e in all_imports():
        graph[e.source].add(e.target)
    out = {}
    for component in _strongly_connected(graph):
        if len(component) > 1:
            members = set(component)
            edges = sorted({f"{e.where()} ({e.source} -> {e.target})" for e in all_imports()
                            if e.source in members and e.target in members})
            out["cycle: " + ", ".join(component)] = "; ".join(edges)
    return out


#: modules of the experiment layer that are not experiments (they register none): the registry and shared helpers
_EXPERIMENT_SHARED = {"lrwb.experiments", "lrwb.experiments.claims", "lrwb.experiments.hyperparameter_checks"}


def experiment_violations() -> dict[str, str]:
    def is_experiment(m: str) -> bool:
        return m.startswith("lrwb.experiments.") and m not in _EXPERIMENT_SHARED

    return {f"experiment imports experiment: {e.source} -> {e.target}": e.where() for e in all_imports()
            if is_experiment(e.source) and is_experiment(e.target)}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_name_uses(source: str, path: Path) -> dict[str, str]:
    """``from m import _x`` and ``m._x`` (``m`` bound to a project module by an import) in one file."""
    out = {}
    bound: dict[str, str] = {}  # local name -> project module it is bound to
    tree = parse(path)
    for edge in imports_of(source, path):
        if edge.name is not None and _private(edge.name) and edge.target != source:
            out[f"private name: {source} imports {edge.target}.{edge.name}"] = f"{_label(path)}:{edge.line}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _project_module(alias.name)
                if target is None:
                    continue
                if alias.asname:
                    bound[alias.asname] = _project_module(alias.name) or alias.name
                else:
                    bound[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(source, node) if source in modules() else (node.module or "")
            for alias in node.names:
                if f"{base}.{alias.name}" in modules():
                    bound[alias.asname or alias.name] = f"{base}.{alias.name}"
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain, base = [], node
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if not isinstance(base, ast.Name) or base.id not in bound:
            continue
        current = bound[base.id]
        for attr in reversed(chain):
            if _private(attr):
                if current != source:
                    out[f"private name: {source} uses {current}.{attr}"] = f"{_label(path)}:{node.lineno}"
                break
            if f"{current}.{attr}" not in modules():
                break
            current = f"{current}.{attr}"
    return out


def _scripts() -> dict[str, Path]:
    """The repository's Python files outside the packages and the tests (benchmarks, the docs' conf.py)."""
    return {f"script {p.relative_to(REPO)}": p for p in sorted([*REPO.glob("benchmarks/*.py"), REPO / "docs/conf.py"])
            if p.is_file()}


def private_violations() -> dict[str, str]:
    out = {}
    for name, path in {**modules(), **_scripts()}.items():
        out.update(private_name_uses(name, path))
    return out


# (e) the old names: an import statement or a dotted string in code, a dotted name in text
_OLD = ("theory", "numerics")
_OLD_DOTTED = re.compile(r"(?<![\w./-])(?:theory|numerics)\.(?!md\b|py\b|ipynb\b)[A-Za-z_]\w*")
_OLD_IMPORT_TEXT = re.compile(r"(?:^|[\s`>(])(?:from\s+(?:theory|numerics)(?:\.\w+)*\s+import\b"
                              r"|(?<!lrwb )import\s+(?:theory|numerics)\b(?!\s+\w))")
_SKIP_DIRS = {".git", ".venv", "_build", "__pycache__", ".ipynb_checkpoints", ".pytest_cache", "build", "dist"}


def _old_names_in_code(text: str, label: str) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            out += [f"{label}:{node.lineno}: import {a.name}" for a in node.names if a.name.split(".")[0] in _OLD]
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] in _OLD:
            out.append(f"{label}:{node.lineno}: from {node.module} import …")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and re.fullmatch(r"(?:theory|numerics)(?:\.\w+)+(?::\w+)?", node.value)):
            out.append(f"{label}:{node.lineno}: string {node.value!r}")
    return out


def _old_names_in_text(text: str, label: str) -> list[str]:
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        for pattern in (_OLD_IMPORT_TEXT, _OLD_DOTTED):
            out += [f"{label}:{number}: {m.group(0).strip()!r}" for m in pattern.finditer(line)]
    return out


def _repo_files() -> list[Path]:
    out = []
    for top in ("lrwb", "theory", "numerics", "tests", "benchmarks", "notebooks", "docs"):
        for path in sorted((REPO / top).rglob("*")):
            rel = path.relative_to(REPO)
            if path.is_file() and not _SKIP_DIRS.intersection(rel.parts) and not path.is_symlink() \
                    and not any(part.endswith(".egg-info") for part in rel.parts) \
                    and path.suffix in (".py", ".md", ".ipynb", ".rst", ".txt", ".toml", ".cfg", ".json", ".html"):
                out.append(path)
    return out + [REPO / "README.md", REPO / "pyproject.toml"]


def old_name_violations() -> list[str]:
    out = []
    for path in _repo_files():
        if path == Path(__file__).resolve():
            continue  # this file spells the old names out, as the detectors' test inputs
        label = str(path.relative_to(REPO))
        if path.suffix == ".py":
            text = path.read_text(encoding="utf-8")
            out += _old_names_in_code(text, label)
            # docstrings and comments name modules too (Sphinx cross-references): the dotted form only
            out += [hit for hit in _old_names_in_text(text, label) if "'" in hit or "`" in hit or "." in hit]
        elif path.suffix == ".ipynb":
            notebook = json.loads(path.read_text(encoding="utf-8"))
            for number, cell in enumerate(notebook.get("cells", []), 1):
                text = "".join(cell.get("source", []))
                if cell.get("cell_type") == "code":
                    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines())
                    out += _old_names_in_code(code, f"{label} cell {number}")
                out += _old_names_in_text(text, f"{label} cell {number}")
        elif path.suffix == ".json" and path.stat().st_size > 1_000_000:
            continue
        else:
            out += _old_names_in_text(path.read_text(encoding="utf-8", errors="replace"), label)
    return out


# (f) the package list
def packages_from_folders() -> set[str]:
    out = set()
    for name, path in modules().items():
        if path.name == "__init__.py":
            out.add(name)
    return out


def pyproject() -> dict:
    with open(REPO / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)


# (g) tests mirror the packages
def mirror_test_path(module: str) -> Path:
    """tests/<layer path>/test_<module>.py: ``lrwb.numerics.dynamics.expected`` →
    tests/numerics/dynamics/test_expected.py, ``lrwb.app.cli.fit`` → tests/app/cli/test_fit.py."""
    parts = module.split(".")[1:]
    return REPO.joinpath("tests", *parts[:-1], f"test_{parts[-1]}.py")


def missing_test_modules() -> dict[str, str]:
    out = {}
    for module in sorted(modules()):
        if is_package(module) or module.endswith(".__main__"):
            continue  # a package's __init__ is its API (tested with its modules); __main__ is one call
        if module not in TEST_EXEMPT and not mirror_test_path(module).is_file():
            out[module] = str(mirror_test_path(module).relative_to(REPO))
    return out


# ------------------------------------------------------------------------------------------------------------
# the tests


def _check(found: dict[str, str], prefix: str) -> None:
    """Fail on a violation not in KNOWN_VIOLATIONS, and on a known one (of this rule) that is gone."""
    known = {v for v in KNOWN_VIOLATIONS if v.startswith(prefix)}
    new = sorted(set(found) - known)
    fixed = sorted(known - set(found))
    lines = [f"{v}  [{found[v]}]" for v in new]
    lines += [f"fixed, delete it from KNOWN_VIOLATIONS: {v!r}" for v in fixed]
    assert not lines, "\n".join(lines)


def test_the_scan_sees_every_layer_and_function_level_imports():
    # guards the tests below against a scan that finds nothing (they would pass vacuously)
    assert {layer(m) for m in modules()} == {-1, 0, 1, 2, 3, FACADE}
    assert len(modules()) > 60 and "lrwb.theory.results" in modules() and "lrwb.numerics.schedules" in modules()
    lazy = [e for e in all_imports() if e.in_function]
    assert any(e.source == "lrwb.app.reproduce" and e.target == "lrwb.theory.export" for e in lazy)


def test_layers_import_only_downwards():
    _check(layer_violations(), "layers:")


def test_no_import_cycles():
    _check(cycle_violations(), "cycle:")


def test_no_experiment_imports_another():
    _check(experiment_violations(), "experiment imports experiment:")


def test_no_private_name_crosses_modules():
    _check(private_violations(), "private name:")


def test_no_old_top_level_import_names_anywhere():
    hits = old_name_violations()
    assert not hits, "the pre-namespace names (use lrwb.theory / lrwb.numerics):\n" + "\n".join(hits)


def test_known_violations_name_their_owner():
    assert all(owner.strip() for owner in KNOWN_VIOLATIONS.values())
    prefixes = ("layers:", "cycle:", "experiment imports experiment:", "private name:")
    assert all(v.startswith(prefixes) for v in KNOWN_VIOLATIONS)


def test_package_list_in_pyproject_is_the_folders():
    setuptools = pyproject()["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"lrwb": "lrwb", "lrwb.theory": "theory", "lrwb.numerics": "numerics"}
    listed = set(setuptools["packages"])
    folders = packages_from_folders()
    assert listed == folders, (f"in pyproject.toml but no folder with __init__.py: {sorted(listed - folders)}; "
                               f"folders missing from pyproject.toml's packages: {sorted(folders - listed)}")


def test_each_module_has_its_test_module():
    missing = missing_test_modules()
    assert not missing, "modules without tests (add the test module, or a commented TEST_EXEMPT entry):\n" + \
        "\n".join(f"{m}: {path}" for m, path in missing.items())
    stale = sorted(m for m in TEST_EXEMPT if m not in modules() or mirror_test_path(m).is_file())
    assert not stale, f"delete from TEST_EXEMPT (the module has its test module now, or is gone): {stale}"


@pytest.mark.parametrize("package", sorted(m for m in modules() if m.count(".") <= 1 and is_package(m)))
def test_packages_export_what_they_list(package):
    # lrwb, lrwb.theory, lrwb.numerics, lrwb.experiments, lrwb.app: an explicit __all__, every name resolves
    module = __import__(package, fromlist=["__all__"])
    assert isinstance(module.__all__, (list, tuple)) and module.__all__, f"{package} has no __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not have: {missing}"


def test_version_is_the_distribution_version():
    assert lrwb.__version__ == pyproject()["project"]["version"]


def test_import_lrwb_is_cheap_and_python_m_lrwb_is_the_command():
    import subprocess
    import sys

    code = ("import sys, lrwb; heavy = [m for m in ('numpy', 'sympy', 'scipy', 'numba', 'dask', 'torch') "
            "if m in sys.modules]; print(heavy, sorted(m for m in sys.modules if m.startswith('lrwb')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] ['lrwb', 'lrwb.lazy']"  # lrwb.lazy: the stdlib-only export mechanism
    version = subprocess.run([sys.executable, "-m", "lrwb", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and lrwb.__version__ in version.stdout + version.stderr


# the detectors themselves, on made-up inputs (so a detector that stopped seeing anything would fail here)


def test_old_name_detector_sees_imports_strings_and_dotted_names():
    code = "import numerics.schedules\nfrom theory.results import registry\npatch('numerics.io.atomic_write')\n"
    assert len(_old_names_in_code(code, "x")) == 3
    assert not _old_names_in_code("import lrwb.numerics\nfrom lrwb import theory\nx = 'theory'\n", "x")
    text = "see `theory.results.registry()` and `from numerics.io import write_csv`"
    assert len(_old_names_in_text(text, "x")) == 3  # the import line is also a dotted name
    fine = "see `lrwb.theory.results`, `from lrwb import theory`, numerics/data/README.md and theory.md"
    assert not _old_names_in_text(fine, "x")


def test_cycle_detector_finds_components():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert sorted(map(tuple, _strongly_connected(graph))) == [("a", "b", "c"), ("d",), ("e",)]


def test_private_name_detector_sees_both_forms(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("from lrwb.numerics.control.lr import _check_lr\nfrom lrwb.numerics.control import lr as L\n"
                    "import lrwb.numerics.io\nL._pick_backend('auto')\nlrwb.numerics.io._tmp_path\nL.__name__\n")
    found = private_name_uses("probe", path)
    assert sorted(found) == ["private name: probe imports lrwb.numerics.control.lr._check_lr",
                             "private name: probe uses lrwb.numerics.control.lr._pick_backend",
                             "private name: probe uses lrwb.numerics.io._tmp_path"]
