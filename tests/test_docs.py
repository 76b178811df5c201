"""The notebooks and the documentation site.

- The notebooks are stored without outputs or execution counts (outputs stay out of git).
- ``sphinx-build -W --keep-going -b html docs <tmp>`` succeeds: warnings are errors, and the build executes
  every notebook with the small settings (``LRWB_NOTEBOOK_SIZE=small``; MyST-NB raises on a cell error).
  It takes about 2 minutes on 2 cores and skips, saying why, when Sphinx is missing. The notebooks read the
  data bundled with the package (``LRWB_DATA`` is unset for the build), so nothing beside the clone is needed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
EXPECTED_NOTEBOOKS = ("01_plrf_phases", "02_fsl_kernel_table1", "03_optimal_control", "04_fit_real_curves")
DOCS_PACKAGES = ("sphinx", "myst_nb", "furo", "sphinxarg", "nbclient", "ipykernel")
BUILD_TIMEOUT_S = 900  # ~2 min on 2 idle cores; generous for a loaded CI machine


def _code_cells(path: Path) -> list[dict]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_the_notebooks_exist():
    missing = set(EXPECTED_NOTEBOOKS) - {p.stem for p in NOTEBOOKS}
    assert not missing, f"notebooks missing from notebooks/: {sorted(missing)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    for index, cell in enumerate(_code_cells(path)):
        assert cell.get("outputs") == [], f"{path.name}: code cell {index} has stored outputs (strip them)"
        assert cell.get("execution_count") is None, f"{path.name}: code cell {index} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_uses_the_packages_and_the_size_switch(path):
    source = "\n".join("".join(cell["source"]) for cell in _code_cells(path))
    assert "from lrwb" in source or "import lrwb" in source, f"{path.name} does not import the packages"
    assert "LRWB_NOTEBOOK_SIZE" in source, f"{path.name} ignores LRWB_NOTEBOOK_SIZE (CI runs the small settings)"
    if importlib.util.find_spec("nbformat") is not None:
        import nbformat

        nbformat.validate(nbformat.read(path, as_version=4))


def _docs_conf():
    spec = importlib.util.spec_from_file_location("lrwb_docs_conf", REPO / "docs" / "conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docstring_hook_escapes_bars_and_separates_blocks():
    conf = _docs_conf()
    lines = [
        "Residual |r| ≤ δ, literal ``a|b`` kept.",
        "Readers:",
        "* one item",
        "  continued",
        "* two",
        "Formula::",
        "",
        "    x = |y|",
        "        deeper",
        "    back",
        "After.",
    ]
    out = conf.plain_math_docstring(lines)
    assert out[0] == r"Residual \|r\| ≤ δ, literal ``a|b`` kept."
    # a blank line before each list item and after the indented continuation
    assert out[1:9] == ["Readers:", "", "* one item", "  continued", "", "* two", "", "Formula::"]
    # the literal block is copied as it is (no escapes, no inserted blank lines) and closed by a blank line
    assert out[9:13] == ["", "    x = |y|", "        deeper", "    back"]
    assert out[13:] == ["", "After."]


def test_docs_build_with_warnings_as_errors(tmp_path):
    missing = [name for name in DOCS_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"docs packages not installed: {', '.join(missing)} (pip install -e '.[docs]')")
    out = tmp_path / "html"
    env = dict(os.environ, LRWB_NOTEBOOK_SIZE="small")
    env.pop("LRWB_DATA", None)  # the bundled data: a fresh clone has nothing beside it
    env.pop("LRWB_DOCS_EXECUTE", None)  # always execute the notebooks here
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(REPO / "docs"), str(out)]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"

    # every part of the site is there: pages, the CLI and API references, the derived results, the notebooks
    for page in ("index", "getting-started", "model", "reproduce", "results", "cli", "notebooks", "api/index"):
        assert (out / f"{page}.html").is_file(), page
    cli = re.sub(r"<[^>]+>", "", (out / "cli.html").read_text(encoding="utf-8"))  # text without the markup
    from lrwb.app.cli import COMMANDS

    for command in COMMANDS:
        assert f"lrwb {command}" in cli, f"CLI reference lacks `lrwb {command}`"
    assert (out / "api" / "generated" / "lrwb.theory.results.html").is_file()
    assert (out / "api" / "generated" / "lrwb.numerics.control.lr.html").is_file()
    results = (out / "results.html").read_text(encoding="utf-8")
    assert "The registry holds" in results and "zeta_T_optimal_schedule" in results  # generated at build time
    for name in EXPECTED_NOTEBOOKS:
        page = (out / "notebooks" / f"{name}.html").read_text(encoding="utf-8")
        assert "<img" in page, f"{name}: no executed figure in the rendered notebook"
        assert "Traceback" not in page, f"{name}: a traceback was rendered"
