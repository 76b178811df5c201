"""Fitting the loss-curve laws: self-recovery from noisy synthetic curves, metrics, errors, CLI round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lrwb.numerics.lawfit.curves import MULTIPOWER_FIT, MULTIPOWER_TEST, TrainingCurve, load_multipower
from lrwb.numerics.lawfit.fit import (AdamWSettings, FitResult, average_metrics, bootstrap_fit, evaluate_fit, fit_law,
                          fit_surrogate, huber, prediction_metrics)
from lrwb.numerics.lawfit.laws import get_law
from lrwb.numerics.schedules import parse_schedule

K, W, NOISE = 1500, 50, 1e-3
SPECS = {"cosine": "cosine:3e-3,3e-4+warmup=50", "wsd": "wsd:3e-3,0.2,3e-4+warmup=50",
         "constant": "constant:3e-3+warmup=50", "step811": "step811:3e-3+warmup=50"}
TRUE = {"fsl": [2.0, 0.5, 0.5, 40.0, 0.5, 5.0, 0.6], "mpl": [2.0, 0.5, 0.5, 60.0, 2.0, 0.6, 0.4],
        "momentum": [2.0, 0.5, 0.5, 0.5, 0.995]}


def _synthetic(name, seed=0):
    law = get_law(name)
    rng = np.random.default_rng(seed)
    steps = np.arange(W + 10, K, 8)
    clean, noisy = {}, {}
    for s, spec in SPECS.items():
        lr = parse_schedule(spec).values(K)
        c = law.evaluate(TRUE[name], lr, steps, warmup=W).loss
        clean[s] = TrainingCurve(s, lr, steps, c, W)
        # multiplicative log-normal noise: exactly the noise model the log-residual fit assumes
        noisy[s] = TrainingCurve(s, lr, steps, c * np.exp(NOISE * rng.standard_normal(steps.size)), W)
    return law, clean, noisy


@pytest.mark.parametrize("name", ["fsl", "mpl", "momentum"])
def test_law_recovers_its_own_parameters(name):
    law, clean, noisy = _synthetic(name)
    fit = fit_law(law, [noisy[s] for s in ("cosine", "wsd", "constant")], n_starts=2, n_screen=16)
    truth = np.array(TRUE[name])
    # every parameter within 4 Gauss–Newton standard errors (a 4σ two-sided miss has probability 6e−5 per
    # parameter); the standard errors scale with the noise level 1e−3 and the curve length
    z = (fit.params - truth) / np.maximum(fit.stderr, 1e-12)
    assert np.all(np.abs(z) <= 4.0), dict(zip(fit.param_names, z))
    # the well-identified level is pinned to ~1e−3 by ~550 points of 1e−3 noise: L0 itself, or for the MPL
    # (which counts the warmup's LR increases as drops) L0 + B·peak, the loss floor at the peak LR, since the
    # warmup term B·Σ_{warmup}|d|·G ≈ B·peak is nearly a constant and trades off with L0
    level = lambda th: th[0] + (th[3] * 3e-3 if name == "mpl" else 0.0)  # noqa: E731
    assert abs(level(fit.params) - level(truth)) <= 5e-3
    # prediction of a held-out schedule (8-1-1) against the noiseless truth: far below the noise level
    # (a fit over n ≈ 550 points with P ≤ 7 parameters has a prediction error ≈ 1e−3·L·√(P/n) ≈ 2e−4)
    held = clean["step811"]
    pred = fit.predict(held.lr, held.steps, warmup=W)
    assert np.sqrt(np.mean((pred - held.loss) ** 2)) <= 1e-3
    # the fit's own residuals are at the noise level
    r = np.concatenate(list(fit.residuals.values()))
    assert 0.8 * NOISE <= np.std(r) <= 1.2 * NOISE
    assert fit.wall_time_s > 0 and fit.n_evaluations > 0


def test_metrics_by_hand():
    y = np.array([3.0, 2.0, 1.0])
    p = np.array([3.1, 2.0, 0.8])
    m = prediction_metrics(y, p)
    assert m.rmse == pytest.approx(np.sqrt((0.01 + 0.04) / 3))
    assert m.mae == pytest.approx(0.1)
    assert m.r2 == pytest.approx(1 - 0.05 / 2.0)  # Σ(y−ȳ)² = 2
    assert m.final_error == pytest.approx(-0.2)
    assert huber(np.array([5e-4]))[0] == pytest.approx(0.5 * 25e-8)
    assert huber(np.array([-3e-3]))[0] == pytest.approx(1e-3 * (3e-3 - 0.5e-3))


def test_decay_region_metrics_only_cover_the_decay():
    law, clean, _ = _synthetic("momentum")
    rows = evaluate_fit(fit_law(law, [clean["wsd"]], n_starts=1, n_screen=4), [clean["wsd"], clean["constant"]])
    by_run = {r.run: r for r in rows}
    assert by_run["constant"].decay.n == 0
    assert 0 < by_run["wsd"].decay.n < by_run["wsd"].whole.n
    # the decay is the last 20% of the steps
    assert by_run["wsd"].decay.n == pytest.approx(0.2 * by_run["wsd"].whole.n, rel=0.1)


def test_bad_curves_raise_clear_errors():
    lr = np.full(100, 1e-3)
    with pytest.raises(ValueError, match="finite"):
        TrainingCurve("a", lr, np.arange(10, 20), np.r_[np.ones(9), np.nan])
    with pytest.raises(ValueError, match="strictly increasing"):
        TrainingCurve("a", lr, np.array([10, 12, 11]), np.ones(3))
    bad = lr.copy()
    bad[40] = 0.0
    with pytest.raises(ValueError, match="step 40"):
        TrainingCurve("a", bad, np.arange(10, 20), np.ones(10))
    few = TrainingCurve("a", lr, np.arange(10, 15), np.ones(5))
    with pytest.raises(ValueError, match="only 5 points"):
        fit_law("fsl", [few])


def test_cli_round_trip(tmp_path, capsys):
    from lrwb.app.cli import build_parser

    law, clean, noisy = _synthetic("momentum", seed=1)
    path = tmp_path / "curves.csv"
    lines = ["run,step,lr,loss"]
    for name in ("constant", "wsd"):
        c = noisy[name]
        # per-step lr rows for every step, loss only at logged steps is not CSV-expressible: write logged
        # rows and pass the schedule of each run through the per-step reconstruction (interpolation).
        lines += [f"{name},{k},{float(c.lr[k])!r},{float(c.loss[i])!r}" for i, k in enumerate(c.steps)]
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    parser = build_parser() if "fit" in _commands() else None
    if parser is None:  # the lead registers the sub-command; call the module directly until then
        import argparse

        from lrwb.app.cli import fit as fit_cli

        top = argparse.ArgumentParser()
        sub = top.add_subparsers(dest="command")
        fit_cli.add_parser(sub)
        parser = top
    args = parser.parse_args(["fit", str(path), "--law", "momentum", "--fit-on", "constant", "--predict", "wsd",
                              "--warmup", str(W), "--starts", "1", "--no-figures", "--out", str(out)])
    assert args.func(args) == 0
    # the CSV logs lr only every 8 steps: the CLI says it interpolates
    assert "interpolating" in capsys.readouterr().out
    info = json.loads((out / "fit.json").read_text())
    assert set(info["laws"]) == {"momentum"} and info["fit_on"] == ["constant"]
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0] == "law,run,role,region,rmse,r2,mae,final_error,n"
    wsd_whole = [r for r in rows if r.startswith("momentum,wsd,predict,whole")]
    assert len(wsd_whole) == 1 and float(wsd_whole[0].split(",")[4]) < 0.05


def test_surrogate_recovers_its_own_parameters():
    # the instant-drop surrogate L0 + A X^{−α} − B (η_peak − η_k) fitted from the 135-point grid: on curves it
    # generated itself with 1e−3 log-normal noise, L0, A, α, B come back within ~10 standard errors of a
    # 4-parameter fit to ~550 points (L0 and A trade off along the power law: 2% / 5%; B·peak is the drop)
    rng = np.random.default_rng(3)
    truth = (2.0, 0.5, 0.5, 60.0)
    curves = []
    steps = np.arange(W + 10, K, 8)
    for name, spec in SPECS.items():
        lr = parse_schedule(spec).values(K)
        clean = truth[0] + truth[1] * np.cumsum(lr)[steps] ** -truth[2] - truth[3] * (lr.max() - lr[steps])
        curves.append(TrainingCurve(name, lr, steps, clean * np.exp(NOISE * rng.standard_normal(steps.size)), W))
    sur = fit_surrogate(curves)
    assert sur.n_starts == 135
    assert sur.L0 == pytest.approx(truth[0], rel=0.02) and sur.A == pytest.approx(truth[1], rel=0.05)
    assert sur.alpha == pytest.approx(truth[2], abs=0.03) and sur.B == pytest.approx(truth[3], rel=0.05)


def test_adamw_returns_the_iterate_after_the_best_step():
    # the reference code stores the parameters after the update of its best step; keep="best" returns the
    # best iterate itself, whose objective can only be lower (it is the minimum over the iterates visited)
    law, _, noisy = _synthetic("mpl")
    curves = [noisy[s] for s in ("cosine", "constant")]
    # (stopped early by patience, so the iterate after the best one was evaluated and was not lower)
    after = fit_law(law, curves, method="adamw", adamw=AdamWSettings(max_steps=200, patience=3))
    best = fit_law(law, curves, method="adamw", adamw=AdamWSettings(max_steps=200, patience=3, keep="best"))
    assert after.method == "adamw" and after.message == best.message
    assert after.message.startswith("no lower objective") and after.n_evaluations < 200
    assert best.objective <= after.objective
    # one AdamW step apart: |Δθ| ≤ lr·(|m̂|/√v̂ + weight decay·|θ|), and |m̂|/√v̂ < 3 for β = (0.9, 0.999)
    lr = np.array([p.adam_lr for p in law.params])
    assert np.all(np.abs(after.params - best.params) <= lr * (3.0 + 1e-2 * np.abs(best.params)))
    with pytest.raises(ValueError, match="keep"):
        AdamWSettings(keep="last")


def test_mpl_authors_protocol_reproduces_the_published_fit(shared_data):
    # Luo et al. 2025, code release (config.py / README): the 25M fit on cosine_24000 + constant_24000 +
    # wsdcon_9 and its averaged metrics on the 6 test runs. The protocol (surrogate grid, AdamW, warmup
    # increases counted as drops) reproduces the published parameters to ~1e−5 relative; 1e−3 leaves room for
    # BLAS/numba rounding while a changed protocol (e.g. the best iterate, or no warmup drops) misses it
    published = [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257]
    curves = load_multipower(shared_data / "multipower", 25)
    fit = fit_law("mpl", [curves[n] for n in MULTIPOWER_FIT], method="adamw")
    np.testing.assert_allclose(fit.params, published, rtol=1e-3)
    rows = evaluate_fit(fit, [curves[n] for n in MULTIPOWER_TEST], {n: "predict" for n in MULTIPOWER_TEST})
    m = average_metrics(rows)
    # the bar, at its published precision (R² 0.9988, RMSE 0.00465)
    assert round(m.r2, 4) >= 0.9988 and round(m.rmse, 5) <= 0.00465


def test_bootstrap_agrees_with_gauss_newton_for_independent_noise():
    # with i.i.d. log-normal noise (block = 1) both estimate the same sampling spread of the estimator: the
    # well-identified parameters (L0, A, α) agree within a factor 2 (40 replicates: the bootstrap standard
    # error itself scatters by ~1/√(2·40) ≈ 11%; Gauss–Newton is a local linearisation)
    law, _, noisy = _synthetic("momentum", seed=4)
    curves = [noisy[s] for s in ("cosine", "wsd", "constant")]
    fit = fit_law(law, curves, bootstrap=40, block=1, seed=1)
    assert fit.n_bootstrap >= 38 and fit.bootstrap_block == 1
    ratio = fit.bootstrap_stderr[:3] / fit.stderr[:3]
    assert np.all((0.5 <= ratio) & (ratio <= 2.0)), ratio
    lo, hi = fit.bootstrap_interval[:, 0], fit.bootstrap_interval[:, 1]
    assert np.all(lo <= fit.params + 1e-12) and np.all(fit.params <= hi + 1e-12)
    # round trip through fit.json
    again = FitResult.from_dict(fit.to_dict())
    np.testing.assert_allclose(again.bootstrap_stderr, fit.bootstrap_stderr)
    assert again.law_options == {"warmup_drops": False} and again.make_law().name == "momentum"
    with pytest.raises(ValueError, match="replicates"):
        bootstrap_fit(law, curves, fit, replicates=1)
    with pytest.raises(ValueError, match="block"):
        bootstrap_fit(law, curves, fit, replicates=5, block=0)


def _commands():
    from lrwb.app.cli import COMMANDS

    return COMMANDS


def test_entry_points_carry_a_docstring_example():
    """Each public factory / entry point shows its use; tests/test_doctests.py runs every example."""
    import importlib

    module = importlib.import_module("lrwb.numerics.lawfit.fit")
    for name in ("fit_law",):
        assert ">>>" in (getattr(module, name).__doc__ or ""), name
