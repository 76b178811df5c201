"""Every sub-command that runs a schedule refuses a learning rate above the true stability bound (issue #11 §4).

Bound for the defaults a = 3.5, b = 2, N = 1000 (``conventions.md``): B = 1 → η < 0.611068, B = 5 → η < 1.40565.
A refusal is a bad input: exit 2, exactly one stderr line naming η, the bound and the failing condition, no
traceback, no output file. ``--allow-unstable`` runs anyway: exit 0, one warning line on stderr and a
``# warning:`` line at the top of the written file.
"""

from __future__ import annotations

import numpy as np
import pytest

from lrwb.app.cli import main

BOUND_B1 = "0.611068"  # printed to 6 digits in every message (lrwb.numerics.stability.stability_bound, B = 1)
SMALL = ["--features", "1000", "--b", "2", "--a", "3.5", "--batch", "1"]


def refused(capsys, argv, out, *, command, match=(BOUND_B1,)):
    """Run argv; assert the bad-input contract: exit 2, one 'lrwb CMD: error:' stderr line containing each of
    ``match``, no traceback, no file at ``out``. Returns the line."""
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured.err
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"lrwb {command}: error:") and "Traceback" not in captured.err
    for text in match:
        assert text in lines[0], lines[0]
    assert not out.exists()
    return lines[0]


def allowed(capsys, argv, out, *, command, match=(BOUND_B1,)):
    """Run argv with --allow-unstable; assert exit 0, exactly one 'lrwb CMD: warning:' line on stderr (besides
    the summary line), and the same warning as the file's first line. Returns the file's lines."""
    code = main([*argv, "--allow-unstable"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    warnings = [line for line in captured.err.splitlines() + captured.out.splitlines()
                if line.startswith(f"lrwb {command}: warning:")]
    assert len(warnings) == 1, captured.err
    for text in match:
        assert text in warnings[0]
    lines = out.read_text().splitlines()
    assert lines[0].startswith("# warning:") and warnings[0].split("warning: ", 1)[1] in lines[0]
    return lines


def accepted(capsys, argv, out):
    """Run argv; assert exit 0, no warning and an unmarked file."""
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "warning" not in captured.err
    assert not out.read_text().startswith("#")


# ------------------------------------------------------------------------------------------------- dynamics


@pytest.mark.parametrize("eta, ok", [(0.611, True), (0.6115, False), (0.62, False)])
def test_dynamics_at_the_bound(eta, ok, tmp_path, capsys):
    out = tmp_path / "d.csv"
    argv = ["dynamics", *SMALL, "--steps", "1000", "--schedule", f"constant:{eta}", "--out", str(out)]
    if ok:
        accepted(capsys, argv, out)
    else:
        refused(capsys, argv, out, command="dynamics", match=(BOUND_B1, f"η = {eta:g}", "renewal condition"))
        lines = allowed(capsys, argv, out, command="dynamics")
        loss = np.loadtxt(lines[1:], delimiter=",", skiprows=1, usecols=2)  # the allowed run is computed, finite
        assert np.all(np.isfinite(loss))


def test_dynamics_high_precision_refuses_too(tmp_path, capsys):
    out = tmp_path / "d.csv"
    argv = ["dynamics", "--features", "50", "--batch", "1", "--steps", "20", "--precision", "30",
            "--schedule", "constant:5", "--out", str(out)]
    refused(capsys, argv, out, command="dynamics", match=("η = 5", "per-mode condition"))


def test_dynamics_names_a_late_step_of_a_schedule(tmp_path, capsys):
    # cyclic peaks above the bound only at the top of the triangle, not at step 0.
    out = tmp_path / "d.csv"
    argv = ["dynamics", *SMALL, "--steps", "200", "--schedule", "cyclic:0.7,0.1,100", "--out", str(out)]
    line = refused(capsys, argv, out, command="dynamics")
    assert "at step 0 " not in line and "step " in line


@pytest.mark.parametrize("mu, eta, ok", [(0.5, 0.37, True), (0.5, 0.38, False), (0.9, 0.081, True),
                                         (0.9, 0.083, False)])
def test_dynamics_with_momentum(mu, eta, ok, tmp_path, capsys):
    # B = 1 (lrwb.numerics.stability.momentum_stability_bound): μ = 0.5 → η_HB < 0.373146, μ = 0.9 → η_HB < 0.0819293.
    out = tmp_path / "d.csv"
    argv = ["dynamics", *SMALL, "--steps", "300", "--momentum", str(mu), "--schedule", f"constant:{eta}",
            "--out", str(out)]
    if ok:
        accepted(capsys, argv, out)
    else:
        refused(capsys, argv, out, command="dynamics", match=(f"μ = {mu:g}", "a_k < 1"))


# ------------------------------------------------------------------------------------------------- simulate


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_simulate_at_the_bound(backend, tmp_path, capsys):
    pytest.importorskip(backend)
    out = tmp_path / "s.csv"
    base = ["simulate", *SMALL, "--steps", "50", "--runs", "4", "--backend", backend, "--out", str(out)]
    accepted(capsys, [*base, "--schedule", "constant:0.611"], out)
    out.unlink()
    argv = [*base, "--schedule", "constant:0.62"]
    refused(capsys, argv, out, command="simulate")
    allowed(capsys, argv, out, command="simulate")


def test_simulate_with_momentum(tmp_path, capsys):
    out = tmp_path / "s.csv"
    argv = ["simulate", *SMALL, "--steps", "20", "--runs", "2", "--momentum", "0.5", "--schedule", "constant:0.38",
            "--out", str(out)]
    refused(capsys, argv, out, command="simulate", match=("μ = 0.5", "0.373146"))


# ------------------------------------------------------------------------------------------------- fsl curve


@pytest.mark.parametrize("iterate", ["picard1", "picard2", "volterra"])
def test_fsl_curve_power_law_form(iterate, tmp_path, capsys):
    # power-law FSL, β = 2, B = 5: the law's own discrete ‖K‖₁ = (η²/B) Σ_j (1 + jη)^{−3/2} < 1 ⟺ η < 1.62435
    # (the continuum (η/B)·β/(β−1) would say 2.5, where the Volterra solution already diverges: issue #11).
    out = tmp_path / "f.csv"
    base = ["fsl", "curve", "--s", "0.5", "--beta", "2", "--iterate", iterate, "--out", str(out)]
    accepted(capsys, [*base, "--schedule", "constant:1.62"], out)
    out.unlink()
    for eta in ("1.63", "2.5", "1000"):
        refused(capsys, [*base, "--schedule", f"constant:{eta}"], out, command="fsl curve",
                match=(f"η = {eta}", "η < 1.62435", "renewal condition"))
    if iterate != "volterra":  # the Volterra solution blows up at η = 1000 even when allowed (a DivergenceError)
        allowed(capsys, [*base, "--schedule", "constant:1000"], out, command="fsl curve", match=("1.62435",))


@pytest.mark.parametrize("iterate", ["picard1", "volterra"])
def test_fsl_curve_mode_sum_form_uses_the_exact_bound(iterate, tmp_path, capsys):
    # --features 1000, s = 1.25, β = 2 is the PLRF a = 3.5, b = 2 top-N model: the exact bound 0.611068 at B = 1.
    out = tmp_path / "f.csv"
    base = ["fsl", "curve", "--s", "1.25", "--beta", "2", "--features", "1000", "--batch", "1", "--steps", "300",
            "--iterate", iterate, "--out", str(out)]
    accepted(capsys, [*base, "--schedule", "constant:0.611"], out)
    out.unlink()
    refused(capsys, [*base, "--schedule", "constant:0.6115"], out, command="fsl curve")


# ------------------------------------------------------------------------------------------------- fsl optimal


def test_fsl_optimal_clips_the_cap_or_keeps_it_when_allowed(tmp_path, capsys):
    out = tmp_path / "o.csv"
    argv = ["fsl", "optimal", "--s", "0.5", "--beta", "2", "--steps", "100", "--eta-max", "1e6", "--out", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lrwb fsl optimal: warning:") and "clipped to 0.445103" in err[0]
    lr = np.loadtxt(out, delimiter=",", skiprows=1, usecols=1)
    assert lr.max() <= 0.445104  # the power-law FSL bound at β = 2, B = 1 (the run peaked at 5·10⁵)
    assert not out.read_text().startswith("#")  # a clipped optimum is a stable, reusable file: schedule
    out.unlink()
    assert main([*argv, "--allow-unstable"]) == 0
    assert capsys.readouterr().err.count("warning:") == 1
    assert out.read_text().startswith("# warning:")


# ------------------------------------------------------------------------------------------------- optimize


def test_optimize_clips_the_cap_for_the_optimum_and_the_baselines(tmp_path, capsys):
    out = tmp_path / "o.csv"
    argv = ["optimize", "--steps", "100", "--batch", "1", "--eta-max", "3", "--baselines", "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "--eta-max = 3" in warnings[0] and f"clipped to {BOUND_B1}" in warnings[0]
    lr = np.genfromtxt(out, delimiter=",", names=True)["lr"][:-1]
    assert lr.max() <= float(BOUND_B1)
    specs = [line.split("(", 1)[1].split(";", 1)[0] for line in captured.out.splitlines()[1:]]
    from lrwb.numerics.schedules import parse_schedule
    assert max(parse_schedule(spec).values(100).max() for spec in specs) <= float(BOUND_B1)


def test_optimize_batch_ramp_without_a_stable_ramp_is_refused(tmp_path, capsys):
    # η = 1 needs B ≥ 2.19 at every step; a mean batch of 1.5 cannot pay for it.
    out = tmp_path / "o.csv"
    argv = ["optimize", "--steps", "50", "--optimize-batch", "--batch", "1.5", "--out", str(out)]
    refused(capsys, argv, out, command="optimize", match=("B ≥ 2.19459", "eta_max = 1"))


def test_optimize_momentum_cap_above_the_bound_is_clipped(tmp_path, capsys):
    out = tmp_path / "o.csv"
    argv = ["optimize", "--steps", "40", "--batch", "1", "--eta-max", "2", "--optimize-momentum", "--out", str(out)]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    warnings = [line for line in captured.err.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and f"clipped to {BOUND_B1}" in warnings[0]
