import json
import shutil
import subprocess

import pytest

from lrwb.app.cli import main
from lrwb.theory import export
from lrwb.theory.results import registry


@pytest.fixture(scope="module")
def results():
    return list(registry())


def test_registry_has_enough_results(results):
    assert len(results) >= 25


def test_every_result_renders_and_has_provenance(results):
    for r in results:
        assert r.latex() and r.source and r.regime.label and r.description, r.name
        assert r.verdict, r.name


def test_latex_escaping_is_ascii():
    text = export.latex_text("a_1 ≤ 50% of Σλ — μ & ν")
    assert text.isascii()
    assert r"\_" in text and r"\%" in text and r"\&" in text


def test_latex_document_is_ascii_with_one_label_per_result(results):
    doc = export.latex_document(results)
    assert doc.isascii()
    assert doc.count(r"\label{eq:") == len(results)


def test_cli_writes_all_formats(tmp_path, capsys):
    tex, md, js = tmp_path / "f.tex", tmp_path / "f.md", tmp_path / "f.json"
    code = main(["formulas", "--latex", str(tex), "--markdown", str(md), "--json", str(js),
                 "--eval", "a=2.7,b=1.6,batch=5,steps=1000,features=100,sigma=0.5"])
    assert code == 0
    listing = capsys.readouterr().out
    n = len(registry())
    assert f"{n} results" in listing
    payload = json.loads(js.read_text())
    assert payload["point"]["a"] == 2.7
    records = payload["results"]
    assert len(records) == n and md.read_text().count("\n") == n + 2
    applicable = [r for r in records if r["applicable"]]
    assert applicable, "some result must evaluate at a=2.7, b=1.6"
    for record in records:
        if not record["applicable"]:
            assert record["reason"] and record["value"] is None


def test_cli_bad_eval_and_unknown_name(capsys, tmp_path):
    js = tmp_path / "f.json"
    assert main(["formulas", "--eval", "a=0.5,b=2", "--quiet", "--json", str(js)]) == 2
    assert "a > 1" in capsys.readouterr().err and not js.exists()
    assert main(["formulas", "--only", "no_such_result"]) == 2
    assert "unknown result 'no_such_result'" in capsys.readouterr().err


def test_eval_marks_regime_not_applicable(tmp_path):
    js = tmp_path / "f.json"
    assert main(["formulas", "--quiet", "--json", str(js), "--eval", "a=3.5,b=5"]) == 0  # hard phase
    records = json.loads(js.read_text())["results"]
    easy_only = [r for r in records if r["regime"].startswith("easy")]
    assert easy_only and all(not r["applicable"] for r in easy_only)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (apt-get install texlive-latex-base)")
def test_latex_export_compiles_with_pdflatex(tmp_path):
    tex = tmp_path / "formulas.tex"
    assert main(["formulas", "--quiet", "--latex", str(tex)]) == 0
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (tmp_path / "formulas.pdf").stat().st_size > 1000


# One or more registered results per bullet of the foundation issue (issue 2, item 3).
REQUIRED = {
    "mode sums": ["signal_continuum", "kernel_continuum", "tail_continuum", "signal_continuum_fsl",
                  "kernel_continuum_fsl", "tail_continuum_fsl"],
    "phase boundary": ["phase_boundary", "fsl_phase_boundary"],
    "zeta_T and xi": ["zeta_T_optimal_constant", "xi_const", "zeta_T_optimal_schedule", "eta_opt_scaling_form"],
    "Table 1": [f"fsl_loss_{sched}_{limit}_{phase}" for sched in ("exp", "wsd") for limit in ("data", "compute")
                for phase in ("easy", "hard")] + ["fsl_loss_constant_data", "fsl_loss_constant_compute"],
    "follow-up optimal schedule": ["fsl_optimal_peak_exponent", "fsl_optimal_decay_exponent", "fsl_fixed_shape_capacity",
                                   "xi_peak", "delta_decay", "fsl_nu_in_plrf_variables"],
    "hard anneal, compute, batch": ["anneal_length_hard", "fsl_hard_decay_fraction_exponent",
                                    "compute_optimal_features_easy", "compute_optimal_loss_hard", "batch_ramp"],
}


@pytest.mark.parametrize("bullet", sorted(REQUIRED))
def test_every_bullet_is_covered(bullet):
    reg = registry()
    missing = [name for name in REQUIRED[bullet] if name not in reg]
    assert not missing, f"{bullet}: missing {missing}"


def test_twins_agree_numerically_at_a_point():
    # The FSL follow-up's ν and the PLRF ξ_peak are one quantity under β = b, s = (a-1)/b.
    reg = registry()
    point = dict(a=3.5, b=2.0)
    assert reg.get("fsl_optimal_peak_exponent").evaluate(**point) == pytest.approx(reg.get("xi_peak").evaluate(**point), rel=1e-14)
    assert reg.get("fsl_optimal_decay_exponent").evaluate(**point) == pytest.approx(reg.get("delta_decay").evaluate(**point), rel=1e-14)
