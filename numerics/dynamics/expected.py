"""Exact expected excess loss of online SGD on a quadratic with Gaussian features (``plrf.md`` §2).

SGD step (``conventions.md``): w ← w − (η_t/B_t) Σ_batch x (x·w − y), x ~ N(0, diag λ) in the eigenbasis,
y = w*·x + ε, ε ~ N(0, σ²). With e = w − w* and fresh samples each step, the second moments
c_k(t) = E e_k(t)² obey exactly (Gaussian fourth moments; a closed recursion of O(N) per step)

    c_k(t+1) = c_k(t)·[(1 − η_t λ_k)² + η_t² λ_k²/B_t] + (η_t²/B_t) λ_k L_t,
    L_t = σ² + δ_N + Σ_j λ_j c_j(t),

with c_k(0) = w*_k² (zero initialisation, ``spectrum.target``). The untrained tail δ_N (``spectrum.tail``:
modes beyond N, or the part of the target outside the random-feature span) acts as label noise, σ² → σ² + δ_N.

Heavy-ball momentum μ_t (v ← μ_t v + g, w ← w − η_t v, v(0) = 0) needs per mode the three second moments
C = E e², R = E e·v, V = E v². With G_k = E g_k² = ((B+1)/B) λ_k² C_k + (λ_k/B) L_t:

    V' = μ² V + 2μ λ R + G,    R' = μ R + λ C − η V',    C' = C − 2η (μ R + λ C) + η² V'.

μ = 0 gives back the SGD recursion (C' = C − 2ηλC + η²G).

Outputs (:class:`LossCurve`), all in excess-loss units Σλc (+ tail), no ½:

- ``loss[t]`` = Σ_k λ_k c_k(t) + δ_N, for t = 0 … T (step 0 is the initial loss);
- ``bias[t]`` = Σ_k λ_k (E w_k(t) − w*_k)², the deterministic mean recursion m ← (1 − ηλ) m (momentum:
  u ← μu + λm, m ← m − ηu), i.e. the loss gradient descent (B = ∞, σ = 0) would have;
- ``variance[t]`` = Σ_k λ_k Var w_k(t) = loss − bias − tail: everything driven by the label noise σ² (+ δ_N)
  and by the SGD sampling noise of the gradient; it is zero at t = 0 and stays zero when B = ∞.

The engine tracks the squared means and the variances separately (centred moments), so bias and variance
are each accurate even when one is much smaller than the other.

Engines (:data:`ENGINES`, one module each, behind the protocol of :mod:`lrwb.numerics.dynamics.engine`): numba
(:mod:`~lrwb.numerics.dynamics.numba_engine`, one fused compiled loop per schedule) when numba is installed,
otherwise NumPy (:mod:`~lrwb.numerics.dynamics.numpy_engine`, a vectorised loop over steps on (S, N) arrays),
torch (:mod:`~lrwb.numerics.dynamics.torch_engine`, plain SGD on CPU/GPU); ``backend=`` picks one. The
high-precision twin is :func:`lrwb.numerics.dynamics.highprec.expected_loss_mp`. The inputs are checked once,
into a :class:`~lrwb.numerics.dynamics.problem.DynamicsProblem`.

Divergence: a schedule whose excess loss becomes non-finite or exceeds ``DIVERGENCE_FACTOR`` × (initial
loss + σ²) has diverged (SGD divergence is exponential, so the factor only shifts the reported step by a
few steps). A single schedule raises :class:`lrwb.numerics.stability.DivergenceError`; with
``on_divergence="flag"`` the curve is flagged and filled with +inf from that step on (never NaN).
"""

from __future__ import annotations

from lrwb.numerics.conventions import DEFAULTS
from lrwb.numerics.backends import HAVE_NUMBA, resolve_backend
from lrwb.numerics.dynamics.curve import LossCurve, ModeHistory
from lrwb.numerics.dynamics.engine import Engine, solve
from lrwb.numerics.dynamics.highprec import HighPrecisionEngine
from lrwb.numerics.dynamics.numba_engine import CHUNK_MODE_STEPS, NumbaEngine
from lrwb.numerics.dynamics.numpy_engine import NumpyEngine
from lrwb.numerics.dynamics.problem import DIVERGENCE_FACTOR, DynamicsProblem, check_on_divergence, run_stability_bound
from lrwb.numerics.dynamics.torch_engine import TorchEngine
from lrwb.numerics.spectra import Spectrum
from lrwb.numerics.stability import (  # noqa: F401  (re-exported: raised by expected_loss / old import path)
    UnstableLearningRateError,
    momentum_renewal_norm,
    momentum_stability_bound,
)

__all__ = [
    "LossCurve",
    "ModeHistory",
    "expected_loss",
    "momentum_renewal_norm",
    "momentum_stability_bound",
    "run_stability_bound",
    "DIVERGENCE_FACTOR",
    "HAVE_NUMBA",
    "BACKENDS",
    "ENGINES",
    "CHUNK_MODE_STEPS",
]

#: ``backend=`` values of :func:`expected_loss` ("auto": numba when installed, else NumPy).
BACKENDS = ("auto", "numba", "numpy", "torch")

#: Engine name → class (each follows :class:`~lrwb.numerics.dynamics.engine.Engine`); the float64 engines are
#: chosen by ``expected_loss(backend=...)``, the high-precision one by
#: :func:`~lrwb.numerics.dynamics.highprec.expected_loss_mp`.
ENGINES: dict[str, type[Engine]] = {
    NumpyEngine.name: NumpyEngine,
    NumbaEngine.name: NumbaEngine,
    TorchEngine.name: TorchEngine,
    HighPrecisionEngine.name: HighPrecisionEngine,
}


def expected_loss(
    spectrum: Spectrum,
    lr,
    *,
    sigma: float = DEFAULTS.sigma,
    batch=DEFAULTS.batch,
    momentum=0.0,
    steps: int | None = None,
    parts: bool = True,
    record_modes: bool = False,
    on_divergence: str = "raise",
    backend: str = "auto",
    device: str = "cpu",
    dtype: str = "float64",
    allow_unstable: bool = False,
) -> LossCurve:
    """Exact expected excess loss of online SGD (Gaussian features), batched over schedules.

    Args:
        spectrum: eigenvalues λ_k, initial second moments c_k(0) and tail δ_N (:mod:`lrwb.numerics.spectra`).
        lr: η_t as an array (T,) or a batch (S, T); or a :class:`~lrwb.numerics.schedules.Schedule`, a spec string
            (``"cosine:1,0"``) or a list of them, evaluated at ``steps``.
        sigma: label-noise standard deviation σ ≥ 0.
        batch: B ≥ 1, scalar or per step ((T,) or (S, T)); ``inf`` means exact gradients.
        momentum: heavy-ball μ ∈ [0, 1), scalar or per step.
        steps: horizon T (needed when ``lr`` is a schedule).
        parts: compute the bias/variance split (about 2× the cost of the loss alone, plain SGD).
        record_modes: also return the per-mode moments at every step (memory ∝ S·T·N).
        on_divergence: ``"raise"`` (DivergenceError naming the step and the stability bound) or ``"flag"``
            (mark the schedule, fill its curve with +inf from the divergence step on).
        backend: ``"auto"`` (numba when installed), ``"numba"``, ``"numpy"`` or ``"torch"`` (plain SGD, loss
            only: needs ``parts=False`` and no momentum; see :mod:`lrwb.numerics.dynamics.torch_engine`).
        device, dtype: for ``backend="torch"`` only: ``"cpu"``/``"cuda"`` (CPU fallback with a warning) and
            ``"float64"``/``"float32"``.
        allow_unstable: run even when some η_t is above the stability bound of its (B_t, μ_t) (the curve's
            ``warning`` says so). Default: such a run raises
            :class:`lrwb.numerics.stability.UnstableLearningRateError` up front, naming the step, η, the bound and the
            failing condition. ``on_divergence="flag"`` never raises on it (sweeps and solvers see the finite
            curve or the flagged blow-up) but sets ``warning``.

    Memory: O(S·T) for the curves plus O(N) state per schedule; O(S·T·N) only with ``record_modes``.

    >>> import numpy as np
    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> curve = expected_loss(power_law_spectrum(3.5, 2.0, 4), np.full(3, 0.5), sigma=0.5, batch=5)
    >>> curve.loss.shape, bool(np.allclose(curve.loss, curve.bias + curve.variance + curve.tail))
    ((4,), True)
    """
    check_on_divergence(on_divergence)
    problem = DynamicsProblem.build(spectrum, lr, sigma=sigma, batch=batch, momentum=momentum, steps=steps,
                                    allow_unstable=allow_unstable or on_divergence == "flag")
    from lrwb.numerics import resources

    n_sched, n_steps = problem.lr.shape
    resources.check_memory(resources.dynamics_bytes(n_sched, n_steps, problem.eigenvalues.size, parts=parts,
                                                    record_modes=record_modes, momentum=problem.has_momentum),
                           f"the expected loss of {n_sched} schedule(s) × T = {n_steps} steps × N = "
                           f"{problem.eigenvalues.size} modes" + (" with record_modes" if record_modes else ""))
    name = resolve_backend(backend, BACKENDS, numba=HAVE_NUMBA)  # this module's flag: tests switch it off
    if name == "torch":
        engine = ENGINES[name](device=device, dtype=dtype)
    elif name == "numba":
        engine = ENGINES[name](chunk_mode_steps=CHUNK_MODE_STEPS)  # this module's value: tests shrink it
    else:
        engine = ENGINES[name]()
    return solve(engine, problem, on_divergence=on_divergence, parts=parts, record_modes=record_modes)
