"""Monte Carlo SGD on the actual PLRF model: sampled inputs, sampled label noise, real updates.

The simulator checks the exact expected dynamics (:mod:`lrwb.numerics.dynamics.expected`) against what SGD really does.
Each of ``runs`` independent runs starts at w = 0 and takes, for t = 0 … T−1,

    g_t = (1/B_t) Σ_{b=1}^{B_t} z_b (z_b·w − y_b),      v ← μ_t v + g_t,      w ← w − η_t v

(μ = 0 is plain SGD, w ← w − (η_t/B_t) Σ z (z·w − y); ``conventions.md``). Fresh samples every step (online):

- top-N model: features z = x ~ N(0, diag λ) in the eigenbasis, y = w*·x + ε with w*_k = √c_k(0). The
  modes beyond N (``spectrum.tail`` = δ_N) are independent of x for Gaussian inputs, so they are sampled as
  extra label noise: ε ~ N(0, σ² + δ_N).
- random features: x ~ N(0, Λ_in) over D input modes, z = F x (F = ``spectrum.projection``, N × D),
  y = w*_in·x + ε, ε ~ N(0, σ²). Nothing is reduced to the eigenbasis: this checks that reduction.

The recorded loss of a run is its exact population excess loss E_{x,ε}(z·w − y)² − σ² given its weights:

- top-N:          Σ_k λ_k (w_k − w*_k)² + δ_N;
- random features: w*ᵀΛw* − 2 wᵀFΛw* + wᵀ(FΛFᵀ)w   (which contains the approximation error δ).

It is evaluated in float64 whatever the simulation dtype. Reported: the mean over runs and its standard
error (sample std with ddof = 1, / √runs), on ≤ 50 log-spaced steps by default.

Runs are simulated ``chunk_runs`` at a time (memory bound), and within a chunk the standard normals of a
block of steps are drawn at once into reused buffers (two RNG calls per block, none per step). Per step the
torch back end then needs two batched GEMMs on a GPU (meant to cut the kernel launches that bound a plain
per-step loop there) and a few elementwise kernels on the CPU, where drawing the normals dominates.
Results are reproducible for the same arguments (seed, backend, device, dtype, chunking); a different
chunking draws a different, equally valid, sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from lrwb.numerics.conventions import DEFAULTS
from lrwb.numerics.backends import DeviceFallbackWarning, check_device, import_torch, resolve_backend, torch_device
from lrwb.numerics.checks import check_batch, check_momentum, check_sigma
from lrwb.numerics.spectra import Spectrum
from lrwb.numerics.stability import DivergenceError, check_learning_rates

BACKENDS = ("numpy", "torch")
DTYPES = ("float64", "float32")

# Memory for one chunk's state and one block of pre-drawn samples (bytes).
_CPU_BLOCK_BYTES = 64 * 2**20
_CUDA_BLOCK_BYTES = 1024 * 2**20
_MAX_BLOCK_STEPS = 256


__all__ = ["monte_carlo", "SimulationResult", "default_record_steps", "DeviceFallbackWarning", "BACKENDS", "DTYPES"]


@dataclass(frozen=True)
class SimulationResult:
    """Monte Carlo estimate of the excess-loss curve at the recorded steps.

    Attributes:
        steps: recorded steps t (after t SGD steps), shape (P,), ascending, in [0, T].
        lr: η_t used for step t → t+1 at each recorded step (NaN at t = T: no step follows).
        loss_mean: mean over runs of the population excess loss, shape (P,).
        loss_se: its standard error, std(ddof=1)/√runs, shape (P,) (undefined, NaN, when runs = 1).
        runs: number of independent runs R.
        backend, device, dtype: where and how it ran (``device`` is the one actually used).
        seed: the seed of the sample.
        warning: set for a run with ``allow_unstable=True`` whose η_t exceeds the stability bound somewhere.
    """

    steps: np.ndarray
    lr: np.ndarray
    loss_mean: np.ndarray
    loss_se: np.ndarray
    runs: int
    backend: str
    device: str
    dtype: str
    seed: int
    warning: str | None = None


@dataclass(frozen=True)
class _SimModel:
    """The model in the simulator's coordinates: standard normals g (dim D) → features z, labels y.

    z = scale ⊙ g (top-N, D = N) or z = feature_map g (random features, feature_map = F Λ_in^{1/2});
    y = label_weights·g + noise_std·ε. The loss pieces give the population excess loss of a weight vector.
    """

    input_dim: int
    features: int
    scale: np.ndarray | None
    feature_map: np.ndarray | None
    label_weights: np.ndarray
    noise_std: float
    # top-N loss Σ λ (w − w*)² + tail
    eigenvalues: np.ndarray | None = None
    target_weights: np.ndarray | None = None
    tail: float = 0.0
    # random-feature loss const − 2 w·cross + wᵀ cov w
    loss_const: float = 0.0
    loss_cross: np.ndarray | None = None
    loss_cov: np.ndarray | None = None


def _sim_model(spectrum: Spectrum, sigma: float) -> _SimModel:
    if spectrum.projection is None:
        lam = spectrum.eigenvalues
        w_star = spectrum.target_weights
        scale = np.sqrt(lam)
        return _SimModel(
            input_dim=lam.size, features=lam.size, scale=scale, feature_map=None,
            label_weights=scale * w_star, noise_std=math.sqrt(sigma**2 + spectrum.tail),
            eigenvalues=lam, target_weights=w_star, tail=float(spectrum.tail),
        )
    if spectrum.input_eigenvalues is None or spectrum.input_weights is None:
        raise ValueError("a random-feature spectrum needs input_eigenvalues and input_weights for Monte Carlo")
    lam_in = np.asarray(spectrum.input_eigenvalues, float)
    w_in = np.asarray(spectrum.input_weights, float)
    proj = np.asarray(spectrum.projection, float)
    if proj.shape != (spectrum.features, lam_in.size) or w_in.shape != lam_in.shape:
        raise ValueError(f"projection {proj.shape}, input eigenvalues {lam_in.shape} and input weights {w_in.shape} "
                         f"do not describe N = {spectrum.features} features of D input modes")
    return _SimModel(
        input_dim=lam_in.size, features=proj.shape[0], scale=None, feature_map=proj * np.sqrt(lam_in),
        label_weights=np.sqrt(lam_in) * w_in, noise_std=float(sigma),
        loss_const=float(lam_in @ w_in**2), loss_cross=proj @ (lam_in * w_in), loss_cov=(proj * lam_in) @ proj.T,
    )


# ---------------------------------------------------------------------------------------------------------
# Input validation and bookkeeping


def default_record_steps(steps: int, count: int = 50) -> np.ndarray:
    """At most ``count`` steps, 0 and T included, log-spaced in between (all steps when T < count)."""
    if steps < 1:
        raise ValueError(f"steps = {steps!r} must be >= 1")
    if count < 2:
        raise ValueError(f"count = {count!r} must be >= 2 (step 0 and step T)")
    inner = np.round(np.geomspace(1, steps, count - 1)).astype(int) if count > 2 else np.array([], int)
    return np.unique(np.concatenate([[0], inner, [steps]]))


def _check_record_steps(record_steps, steps: int) -> np.ndarray:
    if record_steps is None:
        return default_record_steps(steps)
    rec = np.asarray(record_steps)
    if rec.ndim != 1 or rec.size == 0 or not np.all(np.isfinite(rec)) or np.any(rec != np.round(rec)):
        raise ValueError(f"record_steps must be a non-empty 1-D list of integer steps in [0, {steps}]")
    rec = np.unique(rec.astype(int))
    if rec[0] < 0 or rec[-1] > steps:
        raise ValueError(f"record_steps must lie in [0, T = {steps}], got {rec[0]} … {rec[-1]}")
    return rec


def _learning_rates(lr, steps: int | None) -> np.ndarray:
    """η_t as a checked float64 array (T,), from an array, a Schedule or a spec string (then ``steps`` = T)."""
    from lrwb.numerics.schedules import as_schedule, check_learning_rates

    if isinstance(lr, str) or callable(getattr(lr, "values", None)):
        if steps is None:
            raise ValueError("steps (the horizon T) is required when lr is a schedule or a spec string")
        lr = as_schedule(lr).values(steps)
    arr = np.asarray(lr, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"lr must be a 1-D array of T >= 1 learning rates (one per step), got shape {arr.shape}")
    if steps is not None and arr.size != steps:
        raise ValueError(f"lr has {arr.size} steps but steps = {steps}")
    return check_learning_rates(arr)


def _check_options(sigma, runs, seed, backend, device, dtype, chunk_runs) -> None:
    check_sigma(sigma)
    if int(runs) != runs or runs < 1:
        raise ValueError(f"runs = {runs!r} must be an integer >= 1")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed = {seed!r} must be an integer >= 0")
    if chunk_runs is not None and (int(chunk_runs) != chunk_runs or chunk_runs < 1):
        raise ValueError(f"chunk_runs = {chunk_runs!r} must be an integer >= 1 (or None for automatic)")
    resolve_backend(backend, BACKENDS)
    if dtype not in DTYPES:
        raise ValueError(f"dtype = {dtype!r} must be one of {', '.join(DTYPES)}")
    check_device(device)
    if backend == "numpy" and device != "cpu":
        raise ValueError(f"device = {device!r} needs backend='torch' (the numpy backend runs on the CPU)")


def _plan(model: _SimModel, batch: np.ndarray, momentum: bool, runs: int, chunk_runs, itemsize: int,
          budget: int) -> tuple[int, int]:
    """(runs per chunk, steps per block) so that state + one block of samples fits in ``budget`` bytes."""
    bmax = int(batch.max())
    per_sample = itemsize * (model.input_dim + model.features + 2)  # g, z, y (+ ε) of one input
    # per run: w, gradient, (velocity,) products of one step; float64 loss rows
    state = itemsize * model.features * (2 + int(momentum) + bmax) + 8 * 64
    if chunk_runs is None:
        chunk_runs = max(1, min(runs, budget // (state + bmax * per_sample)))
    chunk_runs = min(int(chunk_runs), runs)
    block = (budget - chunk_runs * state) // max(chunk_runs * bmax * per_sample, 1)
    return chunk_runs, int(np.clip(block, 1, _MAX_BLOCK_STEPS))


def _chunk_seeds(seed: int, count: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(seed).spawn(count)


class _Moments:
    """Streaming mean and sum of squared deviations over runs (Chan et al.'s pairwise update), float64."""

    def __init__(self, points: int):
        self.count = 0
        self.mean = np.zeros(points)
        self.m2 = np.zeros(points)

    def add(self, losses: np.ndarray) -> None:
        """Merge a chunk of per-run losses, shape (points, runs_in_chunk)."""
        n_b = losses.shape[1]
        mean_b = losses.mean(axis=1)
        m2_b = ((losses - mean_b[:, None]) ** 2).sum(axis=1)
        n = self.count + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self.m2 = self.m2 + m2_b + delta**2 * (self.count * n_b / n)
        self.count = n

    def standard_error(self) -> np.ndarray:
        if self.count < 2:
            return np.full_like(self.mean, np.nan)
        return np.sqrt(self.m2 / (self.count - 1) / self.count)


def _divergence_check(spectrum: Spectrum, sigma: float, lr: np.ndarray, batch: np.ndarray,
                      momentum: np.ndarray) -> Callable[[int, int | None, float, np.ndarray], None]:
    """A function (step, previous recorded step, its mean loss, per-run losses) that raises on divergence.

    Diverged = a non-finite loss, or a mean excess loss above ``DIVERGENCE_FACTOR`` × (initial loss + σ²),
    the criterion of the exact engine (:mod:`lrwb.numerics.dynamics.expected`). Checked at the recorded steps.
    """
    from lrwb.numerics.dynamics.problem import DIVERGENCE_FACTOR  # on use: `import simulate` stays free of numba

    reference = spectrum.initial_loss() + sigma**2
    limit = DIVERGENCE_FACTOR * reference if reference > 0 else math.inf

    def check(step: int, prev_step: int | None, prev_mean: float, losses: np.ndarray) -> None:
        finite = bool(np.all(np.isfinite(losses)))
        mean = float(losses.mean()) if finite else math.inf
        if finite and mean <= limit:
            return
        from lrwb.numerics.dynamics.problem import run_stability_bound

        bound = run_stability_bound(spectrum.eigenvalues, batch, momentum)
        where = f"by step {step}"
        if prev_step is not None:
            where += f" (last recorded before: mean excess loss {prev_mean:.4g} at step {prev_step})"
        what = ("non-finite losses" if not finite
                else f"mean excess loss {mean:.4g} > {DIVERGENCE_FACTOR:.0e} × (initial loss + σ²)")
        hyper = f"B ≥ {int(batch.min())}" + (f", μ ≤ {float(momentum.max()):g}" if np.any(momentum > 0) else "")
        raise DivergenceError(
            f"Monte Carlo SGD diverged {where}: {what}. Largest learning rate {lr.max():.4g}; the stability "
            f"bound (two-part, smallest over the run's {hyper}) is η < {bound:.4g}",
            step=step, bound=bound,
        )

    return check


# ---------------------------------------------------------------------------------------------------------
# Back ends: simulate one chunk of runs, return per-run losses at the recorded steps, shape (P, runs).


def _losses_numpy(model: _SimModel, w: np.ndarray) -> np.ndarray:
    w = w.astype(np.float64, copy=False)
    if model.scale is not None:
        diff = w - model.target_weights
        return (diff * diff) @ model.eigenvalues + model.tail
    return model.loss_const - 2.0 * (w @ model.loss_cross) + np.einsum("rn,rn->r", w @ model.loss_cov, w)


def _run_chunk_numpy(model, lr, batch, momentum, record, runs, seed_seq, dtype, block_steps, check, bar):
    dt = np.dtype(dtype)
    rng = np.random.default_rng(seed_seq)
    n, d, steps = model.features, model.input_dim, lr.size
    scale = None if model.scale is None else model.scale.astype(dt)
    fmap_t = None if model.feature_map is None else np.ascontiguousarray(model.feature_map.T.astype(dt))
    label_w = model.label_weights.astype(dt)
    w = np.zeros((runs, n), dt)
    vel = np.zeros((runs, n), dt) if np.any(momentum > 0) else None
    out = np.empty((record.size, runs))
    is_record = np.zeros(steps + 1, bool)
    is_record[record] = True
    slot = 0
    prev = (None, math.nan)

    def store(step):
        nonlocal slot, prev
        out[slot] = _losses_numpy(model, w)
        check(step, prev[0], prev[1], out[slot])
        prev = (step, float(out[slot].mean()))
        slot += 1

    # Buffers for one block of samples, reused: no allocation per step. Step-major layout
    # (samples, runs, dim): the inputs of one step are one contiguous slab.
    capacity = int(batch.max()) * block_steps
    g_buf = np.empty((capacity, runs, d), dt)
    label_buf = np.empty((capacity, runs), dt)
    noise_buf = np.empty((capacity, runs), dt)
    feat_buf = g_buf if scale is not None else np.empty((capacity, runs, n), dt)
    grad = np.empty((runs, n), dt)

    with np.errstate(over="ignore", invalid="ignore"):
        if is_record[0]:
            store(0)
        for start in range(0, steps, block_steps):
            stop = min(start + block_steps, steps)
            total = int(batch[start:stop].sum())
            g, labels, noise, feats = g_buf[:total], label_buf[:total], noise_buf[:total], feat_buf[:total]
            rng.standard_normal(dtype=dt, out=g)
            rng.standard_normal(dtype=dt, out=noise)
            np.matmul(g, label_w, out=labels)  # y = w*·x = (√λ ⊙ w*)·g
            noise *= model.noise_std
            labels += noise
            if scale is not None:
                g *= scale  # z = √λ ⊙ g, in place (feats is g)
            else:
                np.matmul(g.reshape(-1, d), fmap_t, out=feats.reshape(-1, n))  # z = F Λ^{1/2} g
            offset = 0
            for t in range(start, stop):
                b = int(batch[t])
                z, y = feats[offset:offset + b], labels[offset:offset + b]
                offset += b
                resid = np.einsum("brn,rn->br", z, w)
                resid -= y
                np.einsum("brn,br->rn", z, resid, out=grad)  # B · g_t
                eta = float(lr[t])  # a Python scalar keeps float32 arithmetic in float32
                if vel is None:
                    grad *= eta / b
                else:
                    grad *= 1.0 / b
                    vel *= float(momentum[t])
                    vel += grad
                    np.multiply(vel, eta, out=grad)
                w -= grad
                if is_record[t + 1]:
                    store(t + 1)
            bar.update(stop - start)
    return out


def _use_batched_products(device) -> bool:
    """Whether the per-step products go through batched GEMMs (GPU) or elementwise kernels (CPU)."""
    return device.type == "cuda"


def _run_chunk_torch(model, lr, batch, momentum, record, runs, seed_seq, dtype, block_steps, check, bar, device):
    import torch

    dt = getattr(torch, dtype)
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed_seq.generate_state(1, np.uint64)[0] >> np.uint64(1)))
    n, d, steps = model.features, model.input_dim, lr.size

    def dev(a, dtype=dt):
        return torch.as_tensor(np.asarray(a), dtype=dtype, device=device)

    scale = None if model.scale is None else dev(model.scale)
    fmap_t = None if model.feature_map is None else dev(model.feature_map.T).contiguous()
    label_w = dev(model.label_weights)
    f64 = torch.float64
    if model.scale is not None:
        lam, w_star = dev(model.eigenvalues, f64), dev(model.target_weights, f64)
    else:
        cross, cov = dev(model.loss_cross, f64), dev(model.loss_cov, f64)

    def losses(w):
        wd = w.to(f64)
        if model.scale is not None:
            diff = wd - w_star
            return (diff * diff) @ lam + model.tail
        return model.loss_const - 2.0 * (wd @ cross) + ((wd @ cov) * wd).sum(dim=1)

    w = torch.zeros((runs, n), dtype=dt, device=device)
    w_col = w.unsqueeze(-1)  # (R, N, 1) view for the batched products
    use_momentum = bool(np.any(momentum > 0))
    vel = torch.zeros_like(w) if use_momentum else None
    vel_col = vel.unsqueeze(-1) if use_momentum else None
    out = np.empty((record.size, runs))
    is_record = np.zeros(steps + 1, bool)
    is_record[record] = True
    slot = 0
    prev = (None, math.nan)

    def store(step):
        nonlocal slot, prev
        out[slot] = losses(w).cpu().numpy()  # ≤ 50 synchronisations per chunk
        check(step, prev[0], prev[1], out[slot])
        prev = (step, float(out[slot].mean()))
        slot += 1

    if is_record[0]:
        store(0)
    # Buffers for one block of samples, reused (no allocation per step); step-major (samples, runs, dim).
    capacity = int(batch.max()) * block_steps
    g_buf = torch.empty((capacity, runs, d), dtype=dt, device=device)
    neg_label_buf = torch.empty((capacity, runs), dtype=dt, device=device)
    feat_buf = g_buf if scale is not None else torch.empty((capacity, runs, n), dtype=dt, device=device)
    batched_products = _use_batched_products(torch.device(device))
    bmax = int(batch.max())
    prod_buf = torch.empty((bmax, runs, n), dtype=dt, device=device)
    resid_buf = torch.empty((bmax, runs), dtype=dt, device=device)
    grad_buf = torch.empty((runs, n), dtype=dt, device=device)
    for start in range(0, steps, block_steps):
        stop = min(start + block_steps, steps)
        total = int(batch[start:stop].sum())
        g, neg_labels, feats = g_buf[:total], neg_label_buf[:total], feat_buf[:total]
        g.normal_(generator=gen)
        # Labels are stored negated so that the residual z·w − y is one fused product-plus-add.
        neg_labels.normal_(generator=gen).mul_(-model.noise_std)
        neg_labels.view(-1).addmv_(g.view(-1, d), label_w, alpha=-1.0)
        if scale is not None:
            g.mul_(scale)  # z = √λ ⊙ g, in place (feats is g)
        else:
            torch.mm(g.view(-1, d), fmap_t, out=feats.view(-1, n))  # z = F Λ^{1/2} g
        offset = 0
        for t in range(start, stop):
            b = int(batch[t])
            eta = float(lr[t])
            if batched_products:  # two cuBLAS calls per step: fewest kernel launches on a GPU
                z = feats[offset:offset + b].transpose(0, 1)  # (R, B, N) view
                neg_y = neg_labels[offset:offset + b].transpose(0, 1).unsqueeze(-1)  # (R, B, 1)
                resid = torch.baddbmm(neg_y, z, w_col)  # z·w − y, (R, B, 1)
                if vel is None:
                    w_col.baddbmm_(z.transpose(1, 2), resid, alpha=-eta / b)
                else:
                    vel_col.baddbmm_(z.transpose(1, 2), resid, beta=float(momentum[t]), alpha=1.0 / b)
                    w.add_(vel, alpha=-eta)
            else:  # CPU: elementwise products into reused buffers (CPU bmm loops over tiny matrices)
                z, neg_y = feats[offset:offset + b], neg_labels[offset:offset + b]  # (B, R, N), (B, R)
                prod = prod_buf[:b]
                resid = torch.sum(torch.mul(z, w, out=prod), dim=2, out=resid_buf[:b]).add_(neg_y).unsqueeze(2)
                if b == 1:
                    step_dir = None
                    if vel is None:
                        w.addcmul_(z[0], resid[0], value=-eta)
                    else:
                        vel.mul_(float(momentum[t])).addcmul_(z[0], resid[0])
                else:
                    step_dir = torch.sum(torch.mul(z, resid, out=prod), dim=0, out=grad_buf)  # B · g_t
                    if vel is None:
                        w.add_(step_dir, alpha=-eta / b)
                    else:
                        vel.mul_(float(momentum[t])).add_(step_dir, alpha=1.0 / b)
                if vel is not None:
                    w.add_(vel, alpha=-eta)
            offset += b
            if is_record[t + 1]:
                store(t + 1)
        bar.update(stop - start)
    return out


# ---------------------------------------------------------------------------------------------------------


def monte_carlo(
    spectrum: Spectrum,
    lr,
    *,
    sigma: float = DEFAULTS.sigma,
    batch=DEFAULTS.batch,
    momentum=0.0,
    steps: int | None = None,
    runs: int = 10_000,
    seed: int = 0,
    backend: str = "numpy",
    device: str = "cpu",
    dtype: str = "float64",
    record_steps=None,
    chunk_runs: int | None = None,
    progress: bool = False,
    allow_unstable: bool = False,
) -> SimulationResult:
    """Simulate ``runs`` independent SGD runs of T = len(lr) steps; mean and standard error of the excess loss.

    Args:
        spectrum: the problem (top-N, optionally with tail, or random features with its projection).
        lr: η_t for t = 0 … T−1 (finite, ≥ 0); or a :class:`~lrwb.numerics.schedules.Schedule` or spec string
            (``"cosine:0.5,0"``), evaluated at ``steps``.
        sigma: label-noise std σ.
        batch: B ≥ 1, an integer, or one integer per step.
        momentum: heavy-ball μ ∈ [0, 1), or one per step (v ← μ v + g, w ← w − η v).
        steps: horizon T (needed when ``lr`` is a schedule; checked against len(lr) otherwise).
        runs: number of independent runs R (the standard error falls as 1/√R).
        seed: seed of the sample (numpy Generator / torch.Generator on the device, per chunk).
        backend: "numpy" or "torch"; device "cpu" or "cuda" (torch only; falls back to the CPU with a
            :class:`DeviceFallbackWarning` when no CUDA device is present); dtype "float64" or "float32".
        record_steps: steps (0…T) at which to record; default ≤ 50 log-spaced steps including 0 and T.
        chunk_runs: runs simulated at once (default: as many as fit a fixed memory budget).
        progress: show a tqdm bar over steps × chunks on stderr.
        allow_unstable: simulate even when some η_t is above the stability bound of its (B_t, μ_t) (the
            result's ``warning`` says so); by default that raises before any sampling.

    Raises:
        ValueError: bad inputs, naming the value and its valid range.
        UnstableLearningRateError: some η_t above the true stability bound (:mod:`lrwb.numerics.stability`), up
            front, naming the step, η, the bound and the failing condition (unless ``allow_unstable``).
        DivergenceError: a non-finite or exploding loss, naming the step and the stability bound.
        ImportError: backend="torch" without PyTorch installed.
    """
    if not isinstance(spectrum, Spectrum):
        raise ValueError(f"spectrum must be a lrwb.numerics.spectra.Spectrum, got {type(spectrum).__name__}")
    lr = _learning_rates(lr, steps)
    steps = lr.size
    batch_t = check_batch(batch, (steps,), integer=True).astype(np.int64)
    momentum_t = check_momentum(momentum, (steps,))
    _check_options(sigma, runs, seed, backend, device, dtype, chunk_runs)
    record = _check_record_steps(record_steps, steps)
    warning = check_learning_rates(lr, spectrum.eigenvalues, batch_t, momentum_t, allow_unstable=allow_unstable)
    runs, seed = int(runs), int(seed)
    model = _sim_model(spectrum, float(sigma))
    check = _divergence_check(spectrum, float(sigma), lr, batch_t, momentum_t)

    if backend == "torch":
        torch = import_torch()
        run_device = torch_device(torch, device)
        device = str(run_device)
        budget = _CUDA_BLOCK_BYTES if run_device.type == "cuda" else _CPU_BLOCK_BYTES
    else:
        budget = _CPU_BLOCK_BYTES
    itemsize = np.dtype(dtype).itemsize
    from lrwb.numerics import resources

    has_momentum = bool(np.any(momentum_t > 0))
    resources.check_memory(  # the smallest chunk: one run (or chunk_runs) with one step of B inputs in flight
        resources.simulate_bytes(chunk_runs or 1, model.features, steps, record.size, batch=float(batch_t.max()),
                                 input_dim=model.input_dim, momentum=has_momentum) * itemsize / 8,
        f"Monte Carlo SGD with batch {float(batch_t.max()):g} and N = {model.features} features")
    per_chunk, block_steps = _plan(model, batch_t, has_momentum, runs, chunk_runs, itemsize, budget)
    chunk_sizes = [min(per_chunk, runs - start) for start in range(0, runs, per_chunk)]

    from tqdm.auto import tqdm

    moments = _Moments(record.size)
    with tqdm(total=steps * len(chunk_sizes), disable=not progress, unit="step", desc="simulate",
              leave=False) as bar:
        for size, seed_seq in zip(chunk_sizes, _chunk_seeds(seed, len(chunk_sizes))):
            common = (model, lr, batch_t, momentum_t, record, size, seed_seq, dtype, block_steps, check, bar)
            if backend == "torch":
                losses = _run_chunk_torch(*common, run_device)
            else:
                losses = _run_chunk_numpy(*common)
            moments.add(losses)

    lr_at = np.full(record.size, np.nan)
    inside = record < steps
    lr_at[inside] = lr[record[inside]]
    return SimulationResult(
        steps=record, lr=lr_at, loss_mean=moments.mean, loss_se=moments.standard_error(),
        runs=runs, backend=backend, device=device, dtype=dtype, seed=seed, warning=warning,
    )
