"""Monte Carlo SGD (lrwb.numerics.simulate) against the exact expected dynamics, and its API/CLI contract.

Statistical check (conventions.md, "Tolerances"): ≥ 10⁴ runs, ≤ 50 log-spaced steps, fixed seed, the Monte
Carlo mean within 4 standard errors of the exact curve at every recorded step. For a normal mean estimate
the two-sided per-point false-alarm rate at 4 SE is 2·Φ(−4) = 6.3e−5, so over ≤ 50 points the family-wise
rate is ≤ 50 × 6.3e−5 = 0.3% (union bound; it holds however correlated the points of one curve are). The
seeds are the first ones tried (0, or 0/1 for a second sample), not searched for: a failure here is a bug
signal, not bad luck to be re-rolled.
Heavy tails: SGD's multiplicative noise makes the per-run loss skewed (measured at these settings: skewness
up to 18, kurtosis up to 900 at the worst recorded step, medians 14–40; at 0.6 × the stability bound the
kurtosis reaches 5700, hence learning rates ≤ 0.3 × the bound here). The mean's skewness is then
≤ 18/√10⁴ = 0.18, and the Edgeworth correction of the studentised mean at 4 SE raises such a point's
false-alarm rate to ≲ 2e−4: still ≤ 1% family-wise even if all 50 points were that skewed.
Power: the same samples reject the exact curve of a neighbouring batch size (B+1) at > 10 SE (checked below),
so the test can fail.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from dataclasses import dataclass

import numpy as np
import pytest

from lrwb.numerics.simulate import DeviceFallbackWarning, SimulationResult, _Moments, default_record_steps, monte_carlo
from lrwb.numerics.spectra import power_law_spectrum, random_feature_spectrum
from lrwb.numerics.stability import DivergenceError, stability_bound

try:  # torch is optional: its tests skip, the numpy ones still run
    import torch
except ImportError:  # pragma: no cover
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # CI has 2 cores, shared with whatever else runs; torch's intra-op pool then stalls on every small op
    # (measured here under load: 20 s with 2 threads vs 5 s with 1 for one case). One thread keeps the
    # runtimes predictable; the arithmetic does not depend on it.
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

RUNS = 10_000
SIGMA = 0.5
Z_LIMIT = 4.0


# ---------------------------------------------------------------------------------------------------------
# The exact expected loss (the reference the Monte Carlo is checked against).


def reference_loss(spectrum, lr, *, sigma, batch, momentum):
    """Excess loss E[L_t] − σ², t = 0 … T, of heavy-ball SGD with Gaussian features (plrf.md §2).

    A minimal independent implementation (a per-step loop, no batching over schedules). Per mode,
    C = E e², R = E e v, V = E v² (e = w − w*, v the velocity), n_k = (λ_k/B)(Σ_j λ_j C_j + σ² + δ):
      V' = μ²V + 2μλR + ((B+1)/B)λ²C + n,   E[e v'] = μR + λC,
      C' = C − 2η E[e v'] + η²V',           R' = E[e v'] − ηV'.
    μ = 0 gives c_k(t+1) = c_k[(1−ηλ_k)² + η²λ_k²/B] + (η²/B)λ_k(σ² + δ + Σ_j λ_j c_j).
    """
    lam = spectrum.eigenvalues
    steps = len(lr)
    batch = np.broadcast_to(np.asarray(batch, float), (steps,))
    momentum = np.broadcast_to(np.asarray(momentum, float), (steps,))
    c, r, v = spectrum.target.copy(), np.zeros_like(lam), np.zeros_like(lam)
    noise = sigma**2 + spectrum.tail
    out = [lam @ c + spectrum.tail]
    for eta, b, mu in zip(lr, batch, momentum):
        n = (lam / b) * (lam @ c + noise)
        v_new = mu * mu * v + 2 * mu * lam * r + ((b + 1) / b) * lam**2 * c + n
        ev = mu * r + lam * c
        c, r, v = c - 2 * eta * ev + eta**2 * v_new, ev - eta * v_new, v_new
        out.append(lam @ c + spectrum.tail)
    return np.array(out)


def exact_loss(spectrum, lr, *, sigma, batch, momentum):
    """The exact curve the simulator is checked against: the project's engine, lrwb.numerics.dynamics.expected, when it
    is installed (it is the thing under test downstream); the reference recursion above otherwise."""
    if importlib.util.find_spec("lrwb.numerics.dynamics.expected") is None:  # a broken module still fails loudly below
        return reference_loss(spectrum, lr, sigma=sigma, batch=batch, momentum=momentum)
    from lrwb.numerics.dynamics.expected import expected_loss

    return np.asarray(expected_loss(spectrum, lr, sigma=sigma, batch=batch, momentum=momentum).loss)


def z_scores(result: SimulationResult, exact: np.ndarray) -> np.ndarray:
    """(mean − exact)/SE at the recorded steps. At step 0 every run has the same loss (zero init), so
    SE ≈ 0 and the two codes differ only by summation-order rounding: that point is allowed 1e−12 relative."""
    ref = exact[result.steps]
    allowance = 1e-12 * np.abs(ref)
    return np.maximum(np.abs(result.loss_mean - ref) - allowance, 0.0) / np.maximum(result.loss_se, 1e-300)


# ---------------------------------------------------------------------------------------------------------
# Cases: (a, b, B, μ, schedule), top-N (with and without tail) and random features. Small N and T keep the
# suite fast; R = 10⁴ runs everywhere.

STEPS = 150
_t = np.arange(STEPS)


@dataclass(frozen=True)
class Case:
    name: str
    spectrum: object
    batch: object
    momentum: float
    lr: np.ndarray


def _cases() -> dict[str, Case]:
    cases = {}
    sp = power_law_spectrum(3.5, 2.0, 20)
    eta = 0.3 * stability_bound(sp.eigenvalues, 2)
    cases["easy-constant-B2"] = Case("easy-constant-B2", sp, 2, 0.0, np.full(STEPS, eta))
    sp = power_law_spectrum(2.5, 1.5, 20)
    peak = 0.5 * 0.3 * stability_bound(sp.eigenvalues, 1)  # (1 − μ) × 0.3 × bound
    cases["momentum-cosine-B1"] = Case("momentum-cosine-B1", sp, 1, 0.5, peak * 0.5 * (1 + np.cos(np.pi * _t / STEPS)))
    sp = random_feature_spectrum(3.5, 2.0, 12, 40, seed=3)
    eta = 0.3 * stability_bound(sp.eigenvalues, 1)
    cases["random-features-B1"] = Case("random-features-B1", sp, 1, 0.0, np.full(STEPS, eta))
    sp = power_law_spectrum(3.5, 5.0, 20, tail=True)  # hard phase, untrained tail as extra label noise
    ramp = np.minimum(1 + _t // 40, 4)  # per-step batch size 1, 2, 3, 4
    peak = 0.7 * 0.3 * stability_bound(sp.eigenvalues, 1)
    cases["hard-tail-exp-batch-ramp"] = Case("hard-tail-exp-batch-ramp", sp, ramp, 0.3, peak * 0.05 ** (_t / STEPS))
    sp = random_feature_spectrum(2.5, 1.5, 10, 32, seed=4)
    peak = 0.4 * 0.3 * stability_bound(sp.eigenvalues, 2)
    decay = np.where(_t < 0.7 * STEPS, 1.0, 0.02 ** ((_t - 0.7 * STEPS) / (0.3 * STEPS)))  # WSD, exp decay
    cases["random-features-momentum-wsd-B2"] = Case("random-features-momentum-wsd-B2", sp, 2, 0.6, peak * decay)
    return cases


CASES = _cases()
_results: dict[tuple, SimulationResult] = {}


def simulate(case_name: str, backend: str, dtype: str = "float64", seed: int = 0, **kwargs) -> SimulationResult:
    """Cached: the power check and the float32 comparison reuse the runs of the agreement test."""
    key = (case_name, backend, dtype, seed, tuple(sorted(kwargs.items())))
    if key not in _results:
        case = CASES[case_name]
        _results[key] = monte_carlo(case.spectrum, case.lr, sigma=SIGMA, batch=case.batch, momentum=case.momentum,
                                    runs=RUNS, seed=seed, backend=backend, dtype=dtype, **kwargs)
    return _results[key]


def exact_for(case_name: str, batch=None) -> np.ndarray:
    case = CASES[case_name]
    return exact_loss(case.spectrum, case.lr, sigma=SIGMA, batch=case.batch if batch is None else batch,
                      momentum=case.momentum)


BACKENDS = ["numpy", pytest.param("torch", marks=needs_torch)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case_name", list(CASES))
def test_monte_carlo_mean_within_4_se_of_exact(case_name, backend):
    result = simulate(case_name, backend)
    assert result.runs >= 10_000 and result.steps.size <= 50
    assert result.steps[0] == 0 and result.steps[-1] == STEPS
    z = z_scores(result, exact_for(case_name))
    worst = int(np.argmax(z))
    assert z.max() <= Z_LIMIT, (f"{case_name}/{backend}: |mean − exact| = {z[worst]:.2f} SE at step "
                                f"{result.steps[worst]} (limit {Z_LIMIT} SE)")


@pytest.mark.parametrize("case_name", ["easy-constant-B2", "random-features-B1", "hard-tail-exp-batch-ramp"])
def test_check_has_power_against_a_wrong_batch_size(case_name):
    # The same samples must reject the exact curve of batch B+1 (SGD noise ∝ 1/B): otherwise the 4-SE
    # agreement above would say nothing. Measured (seed 0): 37–49 SE; require > 10.
    case = CASES[case_name]
    result = simulate(case_name, "numpy")
    assert z_scores(result, exact_for(case_name, batch=np.asarray(case.batch) + 1)).max() > 10


def test_chunked_runs_merge_to_the_same_statistics():
    # Uneven chunks (3001, 3001, 3001, 997): the pooled mean/SE must still agree with the exact curve.
    result = simulate("easy-constant-B2", "numpy", seed=1, chunk_runs=3001)
    assert z_scores(result, exact_for("easy-constant-B2")).max() <= Z_LIMIT


def test_pooled_moments_equal_one_pass_statistics():
    rng = np.random.default_rng(5)
    data = rng.lognormal(size=(3, 1000))
    moments = _Moments(3)
    for part in np.split(data, [1, 400, 401, 999], axis=1):
        moments.add(part)
    assert moments.count == 1000
    np.testing.assert_allclose(moments.mean, data.mean(axis=1), rtol=1e-13)
    np.testing.assert_allclose(moments.standard_error(), data.std(axis=1, ddof=1) / np.sqrt(1000), rtol=1e-12)


@needs_torch
def test_float32_torch_agrees_with_float64():
    # float32 draws a different (independent) normal stream, so the comparison is statistical: the two
    # means differ by less than 4 combined SEs, and float32 alone is within 4 SE of the exact curve.
    # Losses are evaluated in float64 from the float32 weights, so rounding enters only through the weights.
    r32 = simulate("easy-constant-B2", "torch", dtype="float32")
    r64 = simulate("easy-constant-B2", "torch")
    assert r32.dtype == "float32"
    combined = np.sqrt(r32.loss_se**2 + r64.loss_se**2)
    diff = np.abs(r32.loss_mean - r64.loss_mean) - 1e-6 * r64.loss_mean  # float32 rounding of the step-0 loss
    assert np.all(diff <= Z_LIMIT * combined)
    assert z_scores(r32, exact_for("easy-constant-B2")).max() <= Z_LIMIT


def test_numpy_float32_within_4_se():
    result = simulate("momentum-cosine-B1", "numpy", dtype="float32")
    assert z_scores(result, exact_for("momentum-cosine-B1")).max() <= Z_LIMIT


@pytest.mark.parametrize("case_name", list(CASES))
def test_reference_recursion_matches_numerics_dynamics(case_name):
    # Both are the same exact recursion in float64: they must agree to rounding (1e-12 relative).
    if importlib.util.find_spec("lrwb.numerics.dynamics.expected") is None:
        pytest.skip("lrwb.numerics.dynamics.expected is not there yet")
    import lrwb.numerics.dynamics.expected as dynamics

    case = CASES[case_name]
    kwargs = dict(sigma=SIGMA, batch=case.batch, momentum=case.momentum)
    engine = np.asarray(dynamics.expected_loss(case.spectrum, case.lr, **kwargs).loss)
    np.testing.assert_allclose(engine, reference_loss(case.spectrum, case.lr, **kwargs), rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------
# Contract: reproducibility, devices, recorded steps, divergence, bad input.

SMALL = power_law_spectrum(3.5, 2.0, 10)
SMALL_LR = np.full(30, 0.3)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spectrum", [SMALL, random_feature_spectrum(3.0, 2.0, 6, 18, seed=2)], ids=["top", "random"])
def test_same_seed_reproduces_bitwise_and_other_seed_differs(backend, spectrum):
    def run(seed, **kw):
        return monte_carlo(spectrum, SMALL_LR, batch=2, momentum=0.2, runs=64, seed=seed, backend=backend, **kw)

    a, b, c = run(7), run(7), run(8)
    np.testing.assert_array_equal(a.loss_mean, b.loss_mean)
    np.testing.assert_array_equal(a.loss_se, b.loss_se)
    assert not np.array_equal(a.loss_mean[1:], c.loss_mean[1:])
    np.testing.assert_array_equal(run(7, chunk_runs=20).loss_mean, run(7, chunk_runs=20).loss_mean)


@needs_torch
@pytest.mark.parametrize("spectrum", [SMALL, random_feature_spectrum(3.0, 2.0, 6, 18, seed=2)], ids=["top", "random"])
def test_gpu_batched_product_path_equals_cpu_path(monkeypatch, spectrum):
    # On a GPU the per-step products go through batched GEMMs; on the CPU through elementwise kernels.
    # Same seed → same normals, so the two paths must give the same losses up to rounding. Run the GPU
    # path's arithmetic here on the CPU (batch varying 1…3 per step, with momentum, covers every branch).
    import lrwb.numerics.simulate as simulate_module

    batch = 1 + np.arange(30) % 3
    kwargs = dict(batch=batch, momentum=0.4, runs=64, seed=3, backend="torch", record_steps=np.arange(31))
    elementwise = monte_carlo(spectrum, SMALL_LR, **kwargs)
    monkeypatch.setattr(simulate_module, "_use_batched_products", lambda device: True)
    batched = monte_carlo(spectrum, SMALL_LR, **kwargs)
    np.testing.assert_allclose(batched.loss_mean, elementwise.loss_mean, rtol=1e-12)
    np.testing.assert_allclose(batched.loss_se, elementwise.loss_se, rtol=1e-9)


@needs_torch
def test_cuda_request_without_cuda_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceFallbackWarning, match="CUDA"):
        fallback = monte_carlo(SMALL, SMALL_LR, runs=32, backend="torch", device="cuda")
    assert fallback.device == "cpu"
    cpu = monte_carlo(SMALL, SMALL_LR, runs=32, backend="torch", device="cpu")
    np.testing.assert_array_equal(fallback.loss_mean, cpu.loss_mean)


@pytest.mark.gpu
@pytest.mark.skipif(torch is None or not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cuda_mean_within_4_se_of_exact(dtype):
    result = simulate("random-features-momentum-wsd-B2", "torch", dtype=dtype, device="cuda")
    assert result.device.startswith("cuda")
    assert z_scores(result, exact_for("random-features-momentum-wsd-B2")).max() <= Z_LIMIT


def test_torch_backend_without_torch_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(ImportError, match="needs PyTorch"):
        monte_carlo(SMALL, SMALL_LR, runs=4, backend="torch")
    assert monte_carlo(SMALL, SMALL_LR, runs=4).backend == "numpy"  # numpy path does not need it


def test_default_record_steps_are_log_spaced_and_bounded():
    for steps in (1, 7, 49, 50, 1000, 100_000):
        rec = default_record_steps(steps)
        assert rec[0] == 0 and rec[-1] == steps and rec.size <= 50
        assert np.all(np.diff(rec) > 0)
    assert np.array_equal(default_record_steps(20), np.arange(21))  # short horizons: every step
    assert default_record_steps(1000, count=2).tolist() == [0, 1000]
    assert default_record_steps(1000, count=5).size == 5
    rec = default_record_steps(100_000)
    gaps = np.diff(np.log(rec[rec >= 50]))  # past the integer rounding of the first steps
    ideal = np.log(100_000) / 48  # 49 log-spaced points from 1 to T
    assert np.all(np.abs(gaps / ideal - 1) < 0.05)


def test_result_fields_and_custom_record_steps(capsys):
    result = monte_carlo(SMALL, SMALL_LR * np.linspace(1, 0.5, 30), runs=16, record_steps=[30, 0, 5, 5],
                         progress=True)
    assert "simulate" in capsys.readouterr().err  # the progress bar went to stderr
    assert result.steps.tolist() == [0, 5, 30]
    np.testing.assert_allclose(result.lr[:2], [0.3, (SMALL_LR * np.linspace(1, 0.5, 30))[5]])
    assert np.isnan(result.lr[-1])  # no step follows step T
    assert result.loss_mean[0] == pytest.approx(SMALL.initial_loss(), rel=1e-12)
    assert result.loss_se[0] == pytest.approx(0.0, abs=1e-14)
    assert (result.backend, result.device, result.dtype, result.runs) == ("numpy", "cpu", "float64", 16)


def test_schedule_spec_with_steps_equals_the_array():
    from lrwb.numerics.schedules import parse_schedule

    by_spec = monte_carlo(SMALL, "cosine:0.3,0.01", steps=30, runs=16)
    by_array = monte_carlo(SMALL, parse_schedule("cosine:0.3,0.01").values(30), runs=16)
    np.testing.assert_array_equal(by_spec.loss_mean, by_array.loss_mean)
    np.testing.assert_array_equal(by_spec.lr, by_array.lr)


@pytest.mark.parametrize("backend", BACKENDS)
def test_divergence_raises_with_step_and_bound(backend):
    bound = stability_bound(SMALL.eigenvalues, 1)
    with pytest.raises(DivergenceError, match="stability") as info:  # the blow-up, past the up-front check
        monte_carlo(SMALL, np.full(400, 3 * bound), batch=1, runs=50, backend=backend, allow_unstable=True)
    assert info.value.bound == pytest.approx(bound)
    assert 0 < info.value.step <= 400
    assert f"step {info.value.step}" in str(info.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lr=[0.1, -0.1]), "finite and >= 0"),
        (dict(lr=[0.1, np.nan]), "finite and >= 0"),
        (dict(lr=np.ones((2, 3))), "1-D"),
        (dict(lr=[]), "1-D"),
        (dict(batch=0), "integer >= 1"),
        (dict(batch=2.5), "integer >= 1"),
        (dict(batch=[1, 2, 3]), "one value per step"),
        (dict(momentum=1.0), r"\[0, 1\)"),
        (dict(momentum=-0.1), r"\[0, 1\)"),
        (dict(runs=0), "runs"),
        (dict(runs=2.5), "runs"),
        (dict(sigma=-1.0), "sigma"),
        (dict(seed=-1), "seed"),
        (dict(chunk_runs=0), "chunk_runs"),
        (dict(backend="jax"), "backend"),
        (dict(dtype="float16"), "dtype"),
        (dict(device="tpu"), "device"),
        (dict(device="cuda"), "backend='torch'"),
        (dict(record_steps=[0, 11]), r"\[0, T = 10\]"),
        (dict(record_steps=[0.5]), "integer"),
        (dict(lr="constant:0.1"), "steps"),
        (dict(steps=11), "lr has 10 steps"),
    ],
)
def test_bad_inputs_raise_clear_value_errors(kwargs, match):
    kwargs = dict(kwargs)
    lr = kwargs.pop("lr", np.full(10, 0.1))
    with pytest.raises(ValueError, match=match):
        monte_carlo(SMALL, lr, runs=kwargs.pop("runs", 4), **kwargs)


# ---------------------------------------------------------------------------------------------------------
# CLI


def _read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_cli_writes_step_lr_loss_mean_loss_se(tmp_path, capsys):
    from lrwb.app.cli import main

    out = tmp_path / "mc.csv"
    code = main(["simulate", "--features", "12", "--steps", "40", "--runs", "200", "--batch", "2",
                 "--schedule", "constant:0.3", "--out", str(out)])
    assert code == 0
    rows = _read_csv(out)
    assert list(rows[0]) == ["step", "lr", "loss_mean", "loss_se"]
    assert [int(r["step"]) for r in rows] == default_record_steps(40).tolist()
    assert all(float(r["lr"]) == 0.3 for r in rows[:-1]) and rows[-1]["lr"] == ""
    assert float(rows[0]["loss_mean"]) == pytest.approx(power_law_spectrum(3.5, 2.0, 12).initial_loss(), rel=1e-12)
    assert all(np.isfinite(float(r["loss_mean"])) and float(r["loss_se"]) >= 0 for r in rows)
    assert "wrote" in capsys.readouterr().out


def test_cli_random_features_to_stdout(capsys):
    from lrwb.app.cli import main

    code = main(["simulate", "--model", "random", "--features", "6", "--input-dim", "24", "--steps", "20",
                 "--runs", "50", "--points", "5", "--schedule", "constant:0.2"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "step,lr,loss_mean,loss_se" and len(lines) == 1 + 5


@pytest.mark.parametrize("argv, match", [(["--runs", "0"], "runs"), (["--batch", "1.5"], "batch"),
                                         (["--backend", "numpy", "--device", "cuda"], "backend='torch'")])
def test_cli_bad_input_is_one_clear_line(argv, match, capsys):
    from lrwb.app.cli import main

    code = main(["simulate", "--features", "5", "--steps", "10", *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("lrwb simulate: error:") and match in err
