"""The project defaults (lrwb.numerics.conventions.DEFAULTS) agree with the documented conventions, with the CLI's
argparse defaults (read off the real parser) and with the experiments that run at the defaults."""

from __future__ import annotations

import argparse
import dataclasses
import doctest
import re
from pathlib import Path

import pytest

from lrwb.numerics import conventions
from lrwb.numerics.conventions import DEFAULTS, EXPONENT_TOLERANCE

REPO = Path(__file__).resolve().parents[2]
#: CLI flag dest → DEFAULTS field
FLAGS = {"a": "a", "b": "b", "features": "features", "sigma": "sigma", "batch": "batch", "eta_max": "eta_max",
         "steps": "steps"}
#: (command, dest) whose default is deliberately not the project default, with why
NOT_THE_DEFAULT = {("fsl optimal", "batch"): 1.0}  # the FSL paper's setting B = 1


def test_doctest_runs():
    assert doctest.testmod(conventions).failed == 0


def test_defaults_are_the_documented_ones():
    # docs/model.md states conventions.md's defaults in prose: parse them rather than restate them here
    text = (REPO / "docs" / "model.md").read_text()
    line = text[text.index("Defaults (the easy row"):].split("zero initialisation")[0]
    found = dict(re.findall(r"\$(a|b|N|\\sigma|B|\\eta_\{\\max\}|T) = ([0-9.]+)\$", line))
    documented = {"a": found["a"], "b": found["b"], "features": found["N"], "sigma": found["\\sigma"],
                  "batch": found["B"], "eta_max": found["\\eta_{\\max}"], "steps": found["T"]}
    assert {k: float(v) for k, v in documented.items()} == {k: float(v) for k, v in
                                                            dataclasses.asdict(DEFAULTS).items()}
    assert EXPONENT_TOLERANCE == 0.05  # conventions.md § Tolerances: fitted exponents ±0.05


def _leaves(parser: argparse.ArgumentParser, path: str = ""):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path.strip(), parser
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, f"{path} {name}")


def _cli_defaults() -> dict[tuple[str, str], object]:
    from lrwb.app.cli import build_parser

    out = {}
    for command, parser in _leaves(build_parser()):
        for action in parser._actions:
            if action.dest in FLAGS and action.default is not None and action.default is not argparse.SUPPRESS:
                out[(command, action.dest)] = action.default
    return out


def test_cli_defaults_are_the_project_defaults():
    found = _cli_defaults()
    # the model commands all expose the defaults (guards against a parser walk that finds nothing)
    assert {("dynamics", "a"), ("dynamics", "batch"), ("optimize", "eta_max"), ("fsl curve", "steps")} <= set(found)
    for (command, dest), value in found.items():
        expected = NOT_THE_DEFAULT.get((command, dest), getattr(DEFAULTS, FLAGS[dest]))
        assert value == expected, f"lrwb {command} --{dest.replace('_', '-')}: default {value!r}, expected {expected!r}"


@pytest.mark.parametrize("module, names", [
    ("plrf_fig2", {"A": "a", "FEATURES": "features", "SIGMA": "sigma", "BATCH": "batch", "ETA_MAX": "eta_max"}),
    ("plrf_fig3", {"A": "a", "FEATURES": "features", "SIGMA": "sigma", "BATCH": "batch", "ETA_MAX": "eta_max"}),
    ("plrf_anneal", {"SIGMA": "sigma", "BATCH": "batch", "ETA_MAX": "eta_max"}),
    ("plrf_fig4", {"SIGMA": "sigma", "BATCH": "batch", "ETA_MAX": "eta_max"}),
    ("plrf_batch_ramp", {"A": "a", "B_EXPONENT": "b", "FEATURES": "features", "SIGMA": "sigma", "ETA_MAX": "eta_max"}),
])
def test_experiments_at_the_defaults_use_them(module, names):
    import importlib

    mod = importlib.import_module(f"lrwb.experiments.{module}")
    assert {n: getattr(mod, n) for n in names} == {n: getattr(DEFAULTS, f) for n, f in names.items()}


def test_fig2_and_fig3_easy_rows_are_the_defaults():
    from lrwb.experiments import plrf_fig2, plrf_fig3
    from lrwb.experiments.fsl_optimal import EXACT

    assert plrf_fig2.PHASES["easy"] == plrf_fig3.PHASES["easy"] == DEFAULTS.b
    assert EXACT == {f: getattr(DEFAULTS, f) for f in ("features", "sigma", "batch", "eta_max")}
