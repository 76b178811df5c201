"""The registry (lrwb.theory.results): it collects every theory module's results, once, and keeps the imports
acyclic (the type lives in lrwb.theory.result, which imports no theory module that builds results)."""

import subprocess
import sys

from lrwb.theory import fsl, modesums, plrf, result
from lrwb.theory import results as R


def test_registry_collects_each_module_in_order_once():
    reg = R.registry()
    expected = [r.name for module in (modesums, plrf, fsl) for r in module.results()]
    assert reg.names() == expected and len(set(expected)) == len(expected)
    assert R.THEORY_MODULES == ("lrwb.theory.modesums", "lrwb.theory.plrf", "lrwb.theory.fsl")
    assert R.registry() is reg  # derived once per process
    assert R.get("zeta_T_optimal_constant") is reg.get("zeta_T_optimal_constant")


def test_the_result_type_is_re_exported_for_existing_callers():
    for name in ("Result", "Regime", "NotApplicable", "Registry", "PowerLaw", "derived_here", "ALL"):
        assert getattr(R, name) is getattr(result, name), name


def test_the_result_type_loads_without_the_modules_that_use_it():
    # the former cycle: results imported plrf/fsl lazily while they imported results
    code = ("import sys, lrwb.theory.result; "
            "print(sorted(m for m in sys.modules if m.startswith('lrwb.theory.') and m != 'lrwb.theory.result'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['lrwb.theory.params']"
