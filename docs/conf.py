"""Sphinx configuration of the LR Workbench documentation (Sphinx + MyST-NB + furo).

Build (warnings are errors, as in CI)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The notebooks in ``notebooks/`` (reached through the ``docs/notebooks`` link) are executed during the build
with ``LRWB_NOTEBOOK_SIZE=small`` unless that variable is already set (``full`` gives the larger settings);
``LRWB_DOCS_EXECUTE=off`` skips their execution for a quick look at the prose. The list of derived results is
generated at build time from ``lrwb.theory.results.registry()`` (see :func:`_derived_results_markdown`).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
# the packages come from the install (theory/ and numerics/ are mapped into lrwb by pyproject.toml)

# The notebook kernels inherit this process's environment: small settings unless told otherwise.
os.environ.setdefault("LRWB_NOTEBOOK_SIZE", "small")

project = "LR Workbench"
author = "LR Workbench contributors"
copyright = "2026, LR Workbench contributors"
release = "0.1.0"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinxarg.ext",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
# .rst first: autosummary writes its stubs (from the .rst templates) with the first suffix.
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
smartquotes_action = "qe"  # quotes and ellipses only: "--flag" must not become an en dash

# -- MyST ---------------------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- MyST-NB: execute every notebook on every build, fail the build on a cell error ---------------------
nb_execution_mode = "off" if os.environ.get("LRWB_DOCS_EXECUTE", "").lower() == "off" else "force"
nb_execution_timeout = 600  # per cell; the small settings need seconds
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# -- autodoc / autosummary / napoleon ---------------------------------------------------------------------
autosummary_generate = True  # stubs go to api/generated (git-ignored), one page per module
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True  # "Attributes:" sections as :ivar: fields (no duplicate object descriptions)

# -- HTML -----------------------------------------------------------------------------------------------
html_theme = "furo"
html_title = "LR Workbench"
html_static_path: list[str] = []


# -- the derived-results page ---------------------------------------------------------------------------
#: The line of ``results.md`` that is replaced by the generated list.
RESULTS_PLACEHOLDER = "<!-- derived-results -->"

_MARKDOWN_SPECIALS = set("\\`*_{}[]<>()#+!|$~")


def _text(value: str) -> str:
    """Plain text for Markdown: every character MyST could read as markup is backslash-escaped."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in " ".join(str(value).split()))


def _derived_results_markdown() -> str:
    """Every registered result, grouped by theory module: formula (display math), regime, source, verdict and
    the derivation that produced it."""
    import importlib

    from lrwb.theory.results import THEORY_MODULES, registry

    results = registry()
    lines = [f"The registry holds **{len(results)} results**, derived when this page was built.", ""]
    for module_name in THEORY_MODULES:
        module = importlib.import_module(module_name)
        names = {r.name for r in module.results()}
        members = [r for r in results if r.name in names]
        summary = (module.__doc__ or module_name).strip().splitlines()[0]
        lines += [f"### `{module_name}` ({len(members)})", "", _text(summary), ""]
        for r in members:
            lines += [
                f"`{r.name}`",
                f": {_text(r.description)}",
                "",
                "  $$",
                f"  {r.latex()}",
                "  $$",
                "",
                f"  *regime* {_text(r.regime.label)} · *source* {_text(r.source)} · *verdict* {_text(r.verdict)}",
                "",
                f"  *derivation* {_text(r.derivation or '—')}",
                "",
            ]
    return "\n".join(lines)


def _fill_results(app, docname, source):
    if docname == "results" and RESULTS_PLACEHOLDER in source[0]:
        source[0] = source[0].replace(RESULTS_PLACEHOLDER, _derived_results_markdown())


# -- docstrings: plain-text mathematics, read safely by docutils ----------------------------------------
# The project's docstrings carry their formulas in plain Unicode (|r| ≤ δ, ‖K‖₁, η*_t) with RST roles for
# cross-references, and start lists or indented formula lines right under a sentence. Docutils reads
# |…| as a substitution reference and wants blank lines around lists and indented blocks; both would be
# build errors under -W. This hook (run after napoleon) escapes bars outside inline literals and inserts
# the blank lines, leaving literal blocks (after "::") untouched.
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)]|[a-z][.)]|#\.)\s+\S")
_INLINE_LITERAL = re.compile(r"(``.+?``)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _escape_bars(line: str) -> str:
    parts = _INLINE_LITERAL.split(line)
    return "".join(p if i % 2 else re.sub(r"(?<!\\)\|", r"\\|", p) for i, p in enumerate(parts))


def plain_math_docstring(lines: list[str]) -> list[str]:
    """The docstring's lines with bars escaped and blank lines before list items and where a list or an
    indented block ends (see the comment above); lines of literal blocks are copied as they are."""
    out: list[str] = []
    literal_indent = None  # indentation of the paragraph that opened a literal block ("::"), if inside one
    item_indent = None  # indentation of the current list item's marker, while its lines run on
    for line in lines:
        stripped = line.strip()
        if literal_indent is not None:
            if not stripped or _indent(line) > literal_indent:
                out.append(line)
                continue
            literal_indent = None
        if not stripped:
            item_indent = None
            out.append(line)
            continue
        previous = out[-1] if out else ""
        is_item = bool(_LIST_ITEM.match(line))
        if previous.strip() and (
            is_item
            or _indent(line) < _indent(previous)
            or (item_indent is not None and _indent(line) <= item_indent)
        ):
            out.append("")
        out.append(_escape_bars(line))
        if is_item:
            item_indent = _indent(line)
        elif item_indent is not None and _indent(line) <= item_indent:
            item_indent = None
        if stripped.endswith("::"):
            literal_indent = _indent(line)
    return out


def _process_docstring(app, what, name, obj, options, lines):
    lines[:] = plain_math_docstring(lines)


def _clear_api_stubs(app):
    """Start from no autosummary stubs, so a renamed or removed module leaves no stale page behind."""
    shutil.rmtree(DOCS / "api" / "generated", ignore_errors=True)


def setup(app):
    app.connect("builder-inited", _clear_api_stubs, priority=100)  # before autosummary writes the stubs (500)
    app.connect("source-read", _fill_results)
    app.connect("autodoc-process-docstring", _process_docstring, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
