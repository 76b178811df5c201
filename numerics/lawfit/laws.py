"""Loss-curve laws L(k) of a learning-rate schedule, one interface, evaluated in O(K·Q) with gradients.

Every law maps a full per-step schedule η_0 … η_{K−1} and the logged steps k to the predicted (raw, not
excess) training loss L(k). All three use the inclusive intrinsic time of the practical ansatz,

    X_k = Σ_{i≤k} η_i                       (inclusive; the engines' t_k = Σ_{i<k} η_i is exclusive),

which includes the warmup, and the LR drops d_i = η_{i−1} − η_i counted after the warmup only
(i > warmup; the warmup's negative "drops" are not LR decays). Laws (spec fsl.md §5):

* ``fsl``  L = L0 + c1·X_k^{−s} − c2·Σ_{i≤k} d_i (c3 + X_i^{−s}) [1 − (1 + c4 (X_k − X_i))^{−γ}]
           (7 parameters; γ free, or tied to 1 − 1/β through ``FSLLaw(beta=...)``);
* ``mpl``  L = L0 + A·X_k^{−α} − B·Σ_{i≤k} d_i [1 − (1 + C η_i^{−γ} (X_k − X_{i−1}))^{−β}]
           (multi-power law, Luo et al. 2025; X includes the warmup so S_W is not a separate term);
* ``momentum``  L = L0 + A·X_k^{−α} − C·Σ_{i≤k} m_i,  m_i = λ m_{i−1} + d_i   (Tissue et al. 2024).

The power-law kernels are written as sums of exponentials (:mod:`lrwb.numerics.sumexp`) on a node grid fixed
by the parameter bounds, so one O(K·Q) recursion gives the loss and, through re-weighted node sums,
its exact-analytic gradient (derivatives in the kernel exponent act on the node weights; derivatives in the
kernel scale use (1 + cx)^{−γ}' = −(γ/c)[(1 + cx)^{−γ} − (1 + cx)^{−γ−1}], both on the same nodes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba as _numba  # a core dependency (pyproject): the MPL kernel is compiled, no pure-Python fallback
import numpy as np
from scipy.signal import lfilter
from scipy.special import digamma, gammaln

from lrwb.numerics.schedules import check_learning_rates
from lrwb.numerics.sumexp import decayed_sums, log_nodes, node_weights

__all__ = ["KERNEL_TOL", "Parameter", "LawEvaluation", "validate_schedule", "lr_drops", "Law", "FSLLaw",
           "ETA_FLOOR_FRACTION", "MultiPowerLaw", "TAYLOR_MAX", "TAYLOR_REFRESH", "MomentumLaw", "NoiseLaw", "LAWS",
           "get_law"]

KERNEL_TOL = 1e-9  # absolute error of the kernels; far below the ~1e−3 loss noise


@dataclass(frozen=True)
class Parameter:
    """One law parameter: bounds, whether L-BFGS-B works with log(value), and its AdamW step size (natural units;
    the MPL values are the MPL authors': 5e−2 for L0, A, B, C and 5e−3 for the exponents)."""

    name: str
    lower: float
    upper: float
    log: bool = False
    adam_lr: float = 5e-2


@dataclass(frozen=True)
class LawEvaluation:
    """Predicted loss at the requested steps and (optionally) its Jacobian d loss / d params (n, P)."""

    loss: np.ndarray
    jacobian: np.ndarray | None = None


def validate_schedule(lr, eval_steps, warmup: int) -> tuple[np.ndarray, np.ndarray]:
    """Check a per-step schedule and the logged steps; return them as float / int arrays."""
    eta = np.asarray(lr, dtype=float)
    if eta.ndim != 1 or eta.size == 0:
        raise ValueError(f"lr must be a non-empty 1-D per-step schedule, got shape {eta.shape}")
    check_learning_rates(eta)
    steps = np.asarray(eval_steps, dtype=np.int64)
    if steps.ndim != 1 or steps.size == 0:
        raise ValueError("eval_steps must be a non-empty 1-D array of step indices")
    if np.any(np.diff(steps) <= 0):
        raise ValueError("eval_steps must be strictly increasing")
    if steps[0] < 0 or steps[-1] >= eta.size:
        raise ValueError(f"eval_steps must lie in [0, {eta.size - 1}] (the schedule has {eta.size} steps), "
                         f"got [{steps[0]}, {steps[-1]}]")
    if not (0 <= warmup < eta.size):
        raise ValueError(f"warmup = {warmup} must lie in [0, {eta.size - 1}]")
    x = np.cumsum(eta)
    if np.any(x[steps] <= 0):
        raise ValueError(f"intrinsic time X_k = Σ_{{i≤k}} η_i is 0 at step {int(steps[x[steps] <= 0][0])}: "
                         "evaluate only after the learning rate became positive")
    return eta, steps


def lr_drops(eta: np.ndarray, warmup: int, warmup_drops: bool = False) -> np.ndarray:
    """d_i = η_{i−1} − η_i (i ≥ 1). ``warmup_drops=False``: 0 for i ≤ warmup (the warmup's increases are not
    LR decays); ``True``: the warmup's increases enter as negative drops (the MPL authors' reference code)."""
    d = np.zeros_like(eta)
    d[1:] = eta[:-1] - eta[1:]
    if not warmup_drops:
        d[: warmup + 1] = 0.0
    return d


class Law:
    """Interface: ``params`` (tuple of :class:`Parameter`), ``evaluate`` and ``evaluate_naive``."""

    name: str = ""
    params: tuple[Parameter, ...] = ()
    # parameters the loss is linear in (solved by bounded least squares when screening starts)
    linear_params: tuple[str, ...] = ()

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def bounds(self) -> np.ndarray:
        return np.array([[p.lower, p.upper] for p in self.params], dtype=float)

    def evaluate(self, theta, lr, eval_steps, *, warmup: int = 0, jacobian: bool = False) -> LawEvaluation:
        raise NotImplementedError

    def evaluate_naive(self, theta, lr, eval_steps, *, warmup: int = 0) -> np.ndarray:
        raise NotImplementedError

    def initial_guess(self, loss_values: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def surrogate_start(self, L0: float, A: float, alpha: float, B: float, x_typical: float) -> np.ndarray:
        """A start from the instant-drop surrogate L0 + A X^{−α} − B (η_peak − η_k) (every law's limit where a
        drop acts at once and fully): the same L0, power term and equilibrium drop per unit LR, the kernel
        shape at a neutral default. ``x_typical``: a typical intrinsic time of the fitted points."""
        raise NotImplementedError

    def check_theta(self, theta) -> np.ndarray:
        th = np.asarray(theta, dtype=float)
        if th.shape != (len(self.params),):
            raise ValueError(f"{self.name}: expected {len(self.params)} parameters {self.param_names}, "
                             f"got shape {th.shape}")
        if not np.all(np.isfinite(th)):
            raise ValueError(f"{self.name}: parameters must be finite, got {th}")
        return th


# ----------------------------------------------------------------------------------------------------------
# FSL practical ansatz


@dataclass(frozen=True)
class FSLLaw(Law):
    """The FSL practical ansatz (fsl.md §5). ``beta`` set ⇒ γ is tied to 1 − 1/β (6 free parameters)."""

    beta: float | None = None
    kernel_tol: float = KERNEL_TOL
    warmup_drops: bool = False
    name: str = "fsl"
    linear_params: tuple[str, ...] = ("L0", "c1", "c2")
    params: tuple[Parameter, ...] = field(default=(
        Parameter("L0", 0.0, 20.0),
        Parameter("c1", 1e-4, 1e3, log=True),
        Parameter("s", 0.01, 3.0, adam_lr=5e-3),
        Parameter("c2", 1e-4, 1e4, log=True),
        Parameter("c3", 1e-4, 1e3, log=True),
        Parameter("c4", 1e-3, 1e4, log=True),
        Parameter("gamma", 0.05, 3.0, adam_lr=5e-3),
    ))

    def __post_init__(self):
        if self.beta is not None:
            if not self.beta > 1:
                raise ValueError(f"beta = {self.beta!r} must be > 1 (γ = 1 − 1/β must be positive)")
            object.__setattr__(self, "params", tuple(p for p in self.params if p.name != "gamma"))

    def _full(self, th):
        if self.beta is None:
            return th
        return np.append(th, 1.0 - 1.0 / self.beta)

    def initial_guess(self, loss_values):
        lo = float(np.min(loss_values))
        return self.check_theta(np.array([0.9 * lo, 0.1 * lo, 0.5, 1.0, 1.0, 1.0, 0.6][: len(self.params)]))

    def surrogate_start(self, L0, A, alpha, B, x_typical):
        # c2 (c3 + X^{−s}) ≈ B at the typical X with c3 = 1; s = α (one exponent in the theory)
        s = float(np.clip(alpha, 0.02, 2.9))
        th = np.array([L0, A, s, B / (1.0 + x_typical ** (-s)), 1.0, 1.0, 0.5])
        return np.clip(th[: len(self.params)], self.bounds()[:, 0], self.bounds()[:, 1])

    def _grid(self, c4: float, gam: float, x_last: float):
        # nodes for the current (c4, γ); max_exponent γ+1 covers the c4-derivative identity
        return log_nodes(gam, c4 * x_last, tol=self.kernel_tol, max_exponent=gam + 1.0)

    def evaluate(self, theta, lr, eval_steps, *, warmup=0, jacobian=False):
        th = self.check_theta(theta)
        L0, c1, s, c2, c3, c4, gam = self._full(th)
        eta, steps = validate_schedule(lr, eval_steps, warmup)
        x = np.cumsum(eta)
        d = lr_drops(eta, warmup, self.warmup_drops)
        with np.errstate(divide="ignore", invalid="ignore"):
            logx = np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), 0.0)
        xs = np.where(x > 0, np.exp(-s * logx), 0.0)  # X^{-s}; only used where d ≠ 0 or at eval steps
        src = np.stack([d, d * xs, d * xs * logx], axis=1)
        nodes, h, v_min = self._grid(c4, gam, float(x[steps[-1]]))
        w = node_weights(gam, nodes, h, v_min)
        rates = np.append(c4 * np.exp(nodes), 0.0)
        H = decayed_sums(eta, rates, src, steps)  # (n, 3, Q); X_k − X_{k−1} = η_k
        conv0, conv1 = H[:, 0] @ w, H[:, 1] @ w
        D = np.cumsum(d)[steps]
        Qs = np.cumsum(src[:, 1])[steps]
        memory = c3 * (D - conv0) + (Qs - conv1)  # Σ d_i (c3 + X_i^{-s}) [1 − kernel]
        loss = L0 + c1 * xs[steps] - c2 * memory
        if not jacobian:
            return LawEvaluation(loss)
        ls = logx[steps]
        cols = {
            "L0": np.ones_like(loss),
            "c1": xs[steps],
            # d/ds: X^{-s} → −X^{-s} log X in the power term and in the sources
            "s": -c1 * xs[steps] * ls - c2 * (-np.cumsum(src[:, 2])[steps] + H[:, 2] @ w),
            "c2": -memory,
            "c3": -c2 * (D - conv0),
        }
        w_c4 = -(w * np.append(gam - np.exp(nodes), 0.0)) / c4  # lump (rate 0) does not move with c4
        cols["c4"] = c2 * (c3 * (H[:, 0] @ w_c4) + H[:, 1] @ w_c4)
        if self.beta is None:
            dlogw = np.append(nodes - digamma(gam),
                              (v_min - h) - digamma(gam) - h * math.exp(-gam * h) / (-math.expm1(-gam * h)))
            w_g = w * dlogw
            cols["gamma"] = c2 * (c3 * (H[:, 0] @ w_g) + H[:, 1] @ w_g)
        jac = np.stack([cols[n] for n in self.param_names], axis=1)
        return LawEvaluation(loss, jac)

    def evaluate_naive(self, theta, lr, eval_steps, *, warmup=0):
        """The O(n·K) direct double sum (exact power-law kernel)."""
        L0, c1, s, c2, c3, c4, gam = self._full(self.check_theta(theta))
        eta, steps = validate_schedule(lr, eval_steps, warmup)
        x = np.cumsum(eta)
        d = lr_drops(eta, warmup, self.warmup_drops)
        out = np.empty(steps.size)
        for n, k in enumerate(steps):
            xi = x[: k + 1]
            di = d[: k + 1]
            nz = di != 0
            term = di[nz] * (c3 + xi[nz] ** (-s)) * (1.0 - (1.0 + c4 * (x[k] - xi[nz])) ** (-gam))
            out[n] = L0 + c1 * x[k] ** (-s) - c2 * term.sum()
        return out


# ----------------------------------------------------------------------------------------------------------
# multi-power law


ETA_FLOOR_FRACTION = 1e-3  # η_i^{−γ} uses max(η_i, 1e−3·peak): a drop to 0 then acts (almost) at once


@dataclass(frozen=True)
class MultiPowerLaw(Law):
    """Multi-power law (Luo et al. 2025): L0 + A X^{−α} − B Σ d_i [1 − (1 + C η_i^{−γ}(X_k − X_{i−1}))^{−β}].

    η_i^{−γ} is taken with η_i ≥ 1e−3·peak so that a decay to exactly 0 stays finite (documented deviation).
    """

    kernel_tol: float = KERNEL_TOL
    warmup_drops: bool = True
    name: str = "mpl"
    linear_params: tuple[str, ...] = ("L0", "A", "B")
    params: tuple[Parameter, ...] = field(default=(
        Parameter("L0", 0.0, 20.0),
        Parameter("A", 1e-4, 1e3, log=True),
        Parameter("alpha", 0.01, 3.0, adam_lr=5e-3),
        Parameter("B", 1e-2, 1e5, log=True),
        Parameter("C", 1e-3, 1e3, log=True),
        Parameter("beta", 0.05, 3.0, adam_lr=5e-3),
        Parameter("gamma", 0.0, 1.2, adam_lr=5e-3),
    ))

    def initial_guess(self, loss_values):
        lo = float(np.min(loss_values))
        return self.check_theta(np.array([0.9 * lo, 0.5, 0.5, 300.0, 2.0, 0.6, 0.5]))

    def surrogate_start(self, L0, A, alpha, B, x_typical):
        # the MPL authors' start: the surrogate's (L0, A, α, B) as they are, C = 1, β = 0.5, γ = 0.5
        return np.clip(np.array([L0, A, alpha, B, 1.0, 0.5, 0.5]), self.bounds()[:, 0], self.bounds()[:, 1])

    def _grid(self, chat: float, beta: float, gam: float, x_last: float, peak: float, eta_min: float):
        # node variable v = log u' with u' = u·s_i, s_i = (η_i/peak)^{−γ} ≥ 1; rates Ĉ e^v, Ĉ = C·peak^{−γ}
        nodes, h, v_min = log_nodes(beta, chat * x_last, tol=self.kernel_tol, max_exponent=beta + 1.0)
        # extend the top so that e^{−e^v (η/peak)^γ} is negligible for the smallest η
        extra = gam * math.log(peak / eta_min)
        if extra > 0:
            n_more = int(math.ceil(extra / h))
            nodes = np.append(nodes, nodes[-1] + h * np.arange(1, n_more + 1))
        return nodes, h, v_min

    def evaluate(self, theta, lr, eval_steps, *, warmup=0, jacobian=False):
        L0, A, alpha, B, C, beta, gam = self.check_theta(theta)
        eta, steps = validate_schedule(lr, eval_steps, warmup)
        x = np.cumsum(eta)
        d = lr_drops(eta, warmup, self.warmup_drops)
        peak = float(eta.max())
        eta_c = np.maximum(eta, ETA_FLOOR_FRACTION * peak)
        chat = C * peak ** (-gam)
        nodes, h, v_min = self._grid(chat, beta, gam, float(x[steps[-1]]), peak, float(eta_c.min()))
        # (1 + C η^{−γ} S)^{−β} = (1 + Ĉ s S)^{−β}, Ĉ = C·peak^{−γ}, s = (η/peak)^{−γ};
        # = (1/Γ(β)) ∫ e^{βv} s^{−β} e^{−e^v/s} e^{−Ĉ e^v S} dv  (substituting u' = u·s)
        leta = np.log(eta_c / peak)  # log(η/peak) ≤ 0
        ev = np.exp(nodes)
        # node weights h e^{βv}/Γ(β) without the e^{−e^v} factor: the sources carry e^{−e^v/s} instead
        a_nodes = np.exp(math.log(h) + beta * nodes - gammaln(beta))
        lump = node_weights(beta, nodes[:1], h, v_min)[-1]
        n_ch = 4 if jacobian else 1
        rates = chat * ev
        # one pass: channels base, base·lη, base·z, base·z·lη (base = d s^{−β} e^{−z}, z = e^v (η/peak)^γ)
        # a node's source is negligible once a_j e^{−z} < e^{−30} a_max: z > log(a_j/a_max) + 30 (a_j ∝ e^{βv})
        z_cut = beta * (nodes - nodes.max()) + 30.0 + beta * max(float(nodes.max()), 0.0)
        total = _mpl_node_sums(eta, d, gam * leta, gam * beta * leta, leta, ev, rates, steps, n_ch, z_cut)
        K = steps[-1] + 1
        nz = np.flatnonzero(d[:K])
        lump_src = d[nz] * np.exp(gam * beta * leta[nz])
        conv_nodes = total[:, 0] @ a_nodes
        lump_sum = np.cumsum(np.bincount(nz, lump_src, minlength=K))[steps]  # rate 0: no decay
        conv = conv_nodes + lump * lump_sum
        D = np.cumsum(d)[steps]
        xk = x[steps]
        lx = np.log(xk)
        power = A * np.exp(-alpha * lx)
        loss = L0 + power - B * (D - conv)
        if not jacobian:
            return LawEvaluation(loss)
        # d/dβ: node weights (v − ψ(β)) and source s^{−β} → +γ lη; lump likewise
        dlump_beta = (v_min - h) - digamma(beta) - h * math.exp(-beta * h) / (-math.expm1(-beta * h))
        lump_sum_l = np.cumsum(np.bincount(nz, lump_src * leta[nz], minlength=K))[steps]
        d_beta = (total[:, 0] @ (a_nodes * (nodes - digamma(beta))) + gam * (total[:, 1] @ a_nodes)
                  + lump * (dlump_beta * lump_sum + gam * lump_sum_l))
        # d/dγ through the source: lη (β − z); through Ĉ: −log(peak)·Ĉ ∂/∂Ĉ
        d_gam_src = beta * (total[:, 1] @ a_nodes) - total[:, 3] @ a_nodes + lump * beta * lump_sum_l
        # ∂/∂Ĉ (1+ĈsS)^{−β} = −(β/Ĉ)[K_β − K_{β+1}], K_{β+1} node weight = weight·z/β (lump: no motion)
        d_chat = -(beta * conv_nodes - total[:, 2] @ a_nodes) / chat
        cols = {
            "L0": np.ones_like(loss),
            "A": np.exp(-alpha * lx),
            "alpha": -power * lx,
            "B": -(D - conv),
            "C": B * d_chat * (chat / C),
            "beta": B * d_beta,
            "gamma": B * (d_gam_src + d_chat * (-math.log(peak) * chat)),
        }
        jac = np.stack([cols[n] for n in self.param_names], axis=1)
        return LawEvaluation(loss, jac)

    def evaluate_naive(self, theta, lr, eval_steps, *, warmup=0):
        L0, A, alpha, B, C, beta, gam = self.check_theta(theta)
        eta, steps = validate_schedule(lr, eval_steps, warmup)
        x = np.cumsum(eta)
        d = lr_drops(eta, warmup, self.warmup_drops)
        eta_c = np.maximum(eta, ETA_FLOOR_FRACTION * float(eta.max()))
        x_prev = np.concatenate([[0.0], x[:-1]])
        out = np.empty(steps.size)
        for n, k in enumerate(steps):
            i = np.flatnonzero(d[: k + 1])
            g = 1.0 - (1.0 + C * eta_c[i] ** (-gam) * (x[k] - x_prev[i])) ** (-beta)
            out[n] = L0 + A * x[k] ** (-alpha) - B * np.sum(d[i] * g)
        return out


def _mpl_node_sums(eta, d, g_leta, gb_leta, leta, ev, rates, steps, n_ch, z_cut):
    """H[o, c, j] = Σ_{i≤k_o} d_i e^{γβ lη_i} e^{−z_ij} f_c(i, j) e^{−r_j (X_{k_o} − X_{i−1})},
    z_ij = e^{v_j} e^{γ lη_i}.

    f_0 = 1, f_1 = lη_i, f_2 = z_ij, f_3 = z_ij lη_i (the channels of the gradient); lagged recursion
    H(k) = (H(k−1) + source_k)·e^{−r Δ_k}, Δ_k = η_k.
    """
    return _mpl_kernel(*(np.ascontiguousarray(a, dtype=float) for a in (eta, d, g_leta, gb_leta, leta, ev, rates)),
                       np.ascontiguousarray(steps, dtype=np.int64), int(n_ch),
                       np.ascontiguousarray(z_cut, dtype=float))


TAYLOR_MAX = 1e-2  # |x| below which e^{x} is updated by a 5th-order Taylor factor (error ≤ |x|⁶/720 ≈ 1.4e−15)
TAYLOR_REFRESH = 256  # exact exp after this many Taylor updates of one factor (bounds rounding drift)


def _mpl_py(eta, d, g_leta, gb_leta, leta, ev, rates, steps, n_ch, z_cut):
    # Two exponentials per node and step dominate: the decay e^{−r_j η_k} and the source factor e^{−z_jk}. Both
    # are multiplied forward by a Taylor factor while their argument moves by |x| < 1e−2 (cosine-like
    # schedules move η by ~1e−4 of itself per step), with an exact exp every 256 updates and on larger moves.
    q = rates.shape[0]
    out = np.zeros((steps.shape[0], n_ch, q))
    state = np.zeros((n_ch, q))
    decay = np.ones(q)
    n_decay = np.full(q, TAYLOR_REFRESH)  # Taylor updates since the last exact exp (start: force exact)
    ez = np.ones(q)  # e^{−e^{v_j} p_j} cached at p_j
    p_at = np.full(q, -1.0)
    n_ez = np.full(q, TAYLOR_REFRESH)
    last = -1.0
    o = 0
    for k in range(steps[-1] + 1):
        if eta[k] != last:
            dx = eta[k] - last
            for j in range(q):
                x = -rates[j] * dx
                if last >= 0.0 and abs(x) < TAYLOR_MAX and n_decay[j] < TAYLOR_REFRESH:
                    decay[j] *= 1.0 + x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0)))))
                    n_decay[j] += 1
                else:
                    decay[j] = math.exp(-rates[j] * eta[k])
                    n_decay[j] = 0
            last = eta[k]
        cut = 0
        if d[k] != 0.0:
            pk = math.exp(g_leta[k])
            amp = d[k] * math.exp(gb_leta[k])
            lk = leta[k]
            cut = q
            for j in range(q):
                z = ev[j] * pk
                if z > z_cut[j]:
                    cut = j  # node weight × e^{−z} < e^{−30}: this node and all higher ones get no source
                    break
                y = -ev[j] * (pk - p_at[j])
                if p_at[j] >= 0.0 and abs(y) < TAYLOR_MAX and n_ez[j] < TAYLOR_REFRESH:
                    ez[j] *= 1.0 + y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0)))))
                    n_ez[j] += 1
                else:
                    ez[j] = math.exp(-z)
                    n_ez[j] = 0
                p_at[j] = pk
                src = amp * ez[j]
                dj = decay[j]
                state[0, j] = (state[0, j] + src) * dj
                if n_ch > 1:
                    state[1, j] = (state[1, j] + src * lk) * dj
                    state[2, j] = (state[2, j] + src * z) * dj
                    state[3, j] = (state[3, j] + src * z * lk) * dj
        for c in range(n_ch):  # nodes without a source this step only decay
            for j in range(cut, q):
                state[c, j] *= decay[j]
        while o < steps.shape[0] and steps[o] == k:
            out[o] = state
            o += 1
    return out


_mpl_kernel = _numba.njit(cache=True)(_mpl_py)


# ----------------------------------------------------------------------------------------------------------
# momentum law


@dataclass(frozen=True)
class MomentumLaw(Law):
    """Momentum law (Tissue et al. 2024): L0 + A X^{−α} − C Σ_{i≤k} m_i, m_i = λ m_{i−1} + d_i. O(K)."""

    warmup_drops: bool = False
    name: str = "momentum"
    linear_params: tuple[str, ...] = ("L0", "A", "C")
    params: tuple[Parameter, ...] = field(default=(
        Parameter("L0", 0.0, 20.0),
        Parameter("A", 1e-4, 1e3, log=True),
        Parameter("alpha", 0.01, 3.0, adam_lr=5e-3),
        Parameter("C", 1e-4, 1e5, log=True),
        Parameter("lam", 0.9, 0.99999, adam_lr=5e-4),
    ))

    def initial_guess(self, loss_values):
        lo = float(np.min(loss_values))
        return self.check_theta(np.array([0.9 * lo, 0.5, 0.5, 1.0, 0.999]))

    def surrogate_start(self, L0, A, alpha, B, x_typical):
        # Σ_i m_i → Σ d_i/(1 − λ) once the momentum has settled: C = B (1 − λ) at λ = 0.999
        return np.clip(np.array([L0, A, alpha, B * 1e-3, 0.999]), self.bounds()[:, 0], self.bounds()[:, 1])

    def evaluate(self, theta, lr, eval_steps, *, warmup=0, jacobian=False):
        L0, A, alpha, C, lam = self.check_theta(theta)
        eta, steps = validate_schedule(lr, eval_steps, warmup)
        x = np.cumsum(eta)
        d = lr_drops(eta, warmup, self.warmup_drops)
        m = lfilter([1.0], [1.0, -lam], d)
        s2 = np.cumsum(m)[steps]
        lx = np.log(x[steps])
        power = A * np.exp(-alpha * lx)
        loss = L0 + power - C * s2
        if not jacobian:
            return LawEvaluation(loss)
        dm = lfilter([1.0], [1.0, -lam], np.concatenate([[0.0], m[:-1]]))  # ∂m_i/∂λ = m_{i−1} + λ ∂m_{i−1}/∂λ
        cols = {"L0": np.ones_like(loss), "A": np.exp(-alpha * lx), "alpha": -power * lx, "C": -s2,
                "lam": -C * np.cumsum(dm)[steps]}
        return LawEvaluation(loss, np.stack([cols[n] for n in self.param_names], axis=1))

    def evaluate_naive(self, theta, lr, eval_steps, *, warmup=0):
        """Σ_{i≤k} m_i = Σ_{i≤k} d_i (1 − λ^{k−i+1})/(1 − λ), summed directly."""
        L0, A, alpha, C, lam = self.check_theta(theta)
        eta, steps = validate_schedule(lr, eval_steps, warmup)
        x = np.cumsum(eta)
        d = lr_drops(eta, warmup, self.warmup_drops)
        out = np.empty(steps.size)
        for n, k in enumerate(steps):
            i = np.arange(k + 1)
            out[n] = L0 + A * x[k] ** (-alpha) - C * np.sum(d[i] * (1.0 - lam ** (k - i + 1)) / (1.0 - lam))
        return out


# ----------------------------------------------------------------------------------------------------------
# FSL with an LR-dependent noise term (the workbench's transfer law)


@dataclass(frozen=True)
class NoiseLaw(Law):
    """FSL-N: the FSL signal term plus the theory's variance (noise) term, written exactly by parts.

        g(η) = η / (1 + η/η_s),        X_k = Σ_{i≤k} g(η_i)                       (saturating intrinsic time)
        L(k) = L0 + A X_k^{−α} + σ Σ_{i≤k} (η_i − η_{i−1}) [1 − (1 + c (X_k − X_i))^{−γ}],   η_{−1} = 0.

    Derivation (spec fsl.md §3, SGD on the power-law quadratic): the variance term of the excess loss is
    V_k = Σ_i η_i·[η_i K(X_k − X_i)] with K(τ) = Σ_j λ_j² e^{−2λ_j τ}; summation by parts with
    G(τ) = Σ_i η_i K ≈ ∫_0^τ K = G_∞[1 − κ(τ)] gives V_k = Σ_{i≤k} Δη_i G(X_k − X_i), and a power-law spectrum
    makes κ(τ) = (1 + c τ)^{−γ} (theory result ``fsl_noise_by_parts``). Hence, with σ = G_∞:

    * at constant η the loss floor rises ∝ η (σ η): the term that lets the law transfer across peak LR;
    * the warmup enters as negative drops (Δη > 0) from η_{−1} = 0: the warmup is a drop, not a special case;
    * an LR decay Δη < 0 lowers the loss by σ|Δη| with the annealing kernel 1 − κ of the exact dynamics.

    η_s (not in the SGD theory) is the learning rate above which progress per step saturates (η_s → ∞ gives
    the theory's X = Σ η). Language models trained with Adam at LR ≥ 1e−3 reach nearly the same loss per
    *step* early on at 1e−3 and 2e−3 (lr-scheduling data), which X = Σ η cannot express; one parameter
    restores it. Without it the law predicts the WSD runs at half the cosine runs' peak LR with R² ≈ 0.75.
    Step-limited transient (``transient=True``, the default; 2 more parameters B, τ):

        L(k) += B · exp(−(k − W)⁺ / τ),     W = the warmup length

    Directions the optimiser equilibrates within a few hundred steps at any LR in use (λη ≫ 1; with Adam's
    normalised updates their progress is bounded per step, not per unit of η) contribute an excess that decays
    with the *step count*, the same at every peak LR. Without it the power term A X^{−α} must also absorb the
    steep first ~1000 steps of the fitted runs, and X = Σ g(η) then makes a run at half the fitted peak LR
    progress about half as fast early on (lr-scheduling, cos → WSD: +0.59 at step 400 on L8H6, R² 0.76).
    ``transient=False`` is the 7-parameter law.

    7 (+2) parameters (L0, A, σ, B linear); O(K·Q) with an exact Jacobian: the η_s derivative of the kernel
    term is σ Σ_j w_j r_j (Y_k H_j(k) − H^Y_j(k)), Y = ∂X/∂η_s, from one extra source channel Δη_i Y_i.
    """

    kernel_tol: float = KERNEL_TOL
    transient: bool = True
    name: str = "fsln"
    linear_params: tuple[str, ...] = ("L0", "A", "sigma", "B")
    params: tuple[Parameter, ...] = field(default=(
        Parameter("L0", 0.0, 20.0),
        Parameter("A", 1e-4, 1e3, log=True),
        Parameter("alpha", 0.01, 3.0, adam_lr=5e-3),
        Parameter("sigma", 1e-2, 1e5, log=True),
        Parameter("c", 1e-3, 1e4, log=True),
        Parameter("gamma", 0.05, 3.0, adam_lr=5e-3),
        Parameter("eta_s", 1e-6, 1.0, log=True, adam_lr=5e-5),
        # the transient: amplitude at the end of the warmup, and its decay time in steps (≤ 1000 steps: a
        # slower "transient" would be a second power term, confounded with A X^{−α} at a single peak LR)
        Parameter("B", 1e-6, 1e3, log=True),
        Parameter("tau", 10.0, 1000.0, log=True, adam_lr=1.0),
    ))

    def __post_init__(self):
        if not self.transient:
            object.__setattr__(self, "params", tuple(p for p in self.params if p.name not in ("B", "tau")))
            object.__setattr__(self, "linear_params", ("L0", "A", "sigma"))

    def initial_guess(self, loss_values):
        lo = float(np.min(loss_values))
        th = np.array([0.9 * lo, 0.5, 0.5, 300.0, 1.0, 0.6, 1e-3, 1.0, 300.0])
        return self.check_theta(th[: len(self.params)])

    def surrogate_start(self, L0, A, alpha, B, x_typical):
        # the surrogate's equilibrium drop per unit LR is σ; no saturation (the theory's limit) to start
        th = np.array([L0, A, alpha, B, 1.0, 0.5, 1.0, 1.0, 300.0])[: len(self.params)]
        return np.clip(th, self.bounds()[:, 0], self.bounds()[:, 1])

    def _transient(self, theta, steps, warmup):
        """(B e^{−(k−W)⁺/τ}, ∂/∂B, ∂/∂τ) at the logged steps; zeros when ``transient`` is off."""
        if not self.transient:
            return 0.0, None, None
        B, tau = theta[7], theta[8]
        age = np.maximum(steps - warmup, 0).astype(float)
        e = np.exp(-age / tau)
        return B * e, e, B * e * age / tau**2

    @staticmethod
    def intrinsic_rate(eta, eta_s):
        """g(η) = η/(1 + η/η_s) and ∂g/∂η_s = (g/η_s)²."""
        g = eta / (1.0 + eta / eta_s)
        return g, (g / eta_s) ** 2

    def evaluate(self, theta, lr, eval_steps, *, warmup=0, jacobian=False):
        th = self.check_theta(theta)
        L0, A, alpha, sigma, c, gam, eta_s = th[:7]
        eta, steps = validate_schedule(lr, eval_steps, warmup)
        trans, d_B, d_tau = self._transient(th, steps, warmup)
        g, dg = self.intrinsic_rate(eta, eta_s)
        x = np.cumsum(g)
        rise = np.diff(g, prepend=0.0)  # Δg_i = g_i − g_{i−1}, g_{−1} = 0: the warmup is a (negative) drop
        nodes, h, v_min = log_nodes(gam, c * float(x[steps[-1]]), tol=self.kernel_tol, max_exponent=gam + 1.0)
        w = node_weights(gam, nodes, h, v_min)
        rates = np.append(c * np.exp(nodes), 0.0)
        if jacobian:
            y = np.cumsum(dg)
            src = np.stack([rise, rise * y, np.diff(dg, prepend=0.0)], axis=1)
            H = decayed_sums(g, rates, src, steps)  # (n, 3, Q)
            H0 = H[:, 0]
        else:
            H0 = decayed_sums(g, rates, rise, steps)
        xk = x[steps]
        lx = np.log(xk)
        power = A * np.exp(-alpha * lx)
        noise = g[steps] - H0 @ w  # Σ Δg_i [1 − κ(X_k − X_i)]; Σ_{i≤k} Δg_i = g_k
        loss = L0 + power + sigma * noise + trans
        if not jacobian:
            return LawEvaluation(loss)
        yk = y[steps]
        w_c = -(w * np.append(gam - np.exp(nodes), 0.0)) / c  # ∂κ/∂c on the same nodes (lump fixed)
        dlogw = np.append(nodes - digamma(gam),
                          (v_min - h) - digamma(gam) - h * math.exp(-gam * h) / (-math.expm1(-gam * h)))
        # η_s moves the sources Δg (channel 2) and X_k, X_i (power: −αA X^{−α−1} Y_k; kernel:
        # ∂κ_j = −r_j (Y_k − Y_i) κ_j, summed: −r_j (Y_k H_j − H^Y_j))
        d_noise = dg[steps] - H[:, 2] @ w + (yk[:, None] * H0 - H[:, 1]) @ (w * rates)
        cols = {
            "L0": np.ones_like(loss),
            "A": np.exp(-alpha * lx),
            "alpha": -power * lx,
            "sigma": noise,
            "c": -sigma * (H0 @ w_c),
            "gamma": -sigma * (H0 @ (w * dlogw)),
            "eta_s": -alpha * power / xk * yk + sigma * d_noise,
            "B": d_B,
            "tau": d_tau,
        }
        return LawEvaluation(loss, np.stack([cols[n] for n in self.param_names], axis=1))

    def evaluate_naive(self, theta, lr, eval_steps, *, warmup=0):
        """The O(n·K) direct double sum (exact power-law kernel)."""
        th = self.check_theta(theta)
        L0, A, alpha, sigma, c, gam, eta_s = th[:7]
        eta, steps = validate_schedule(lr, eval_steps, warmup)
        g = self.intrinsic_rate(eta, eta_s)[0]
        x = np.cumsum(g)
        rise = np.diff(g, prepend=0.0)
        out = np.empty(steps.size)
        for n, k in enumerate(steps):
            kern = 1.0 - (1.0 + c * (x[k] - x[: k + 1])) ** (-gam)
            out[n] = L0 + A * x[k] ** (-alpha) + sigma * np.sum(rise[: k + 1] * kern)
        if self.transient:
            out += th[7] * np.exp(-np.maximum(steps - warmup, 0) / th[8])
        return out


LAWS = {"fsl": FSLLaw, "mpl": MultiPowerLaw, "momentum": MomentumLaw, "fsln": NoiseLaw}


def get_law(name: str, **kwargs) -> Law:
    """The law called ``name`` (fsl, mpl, momentum, fsln); kwargs go to its constructor (e.g. ``beta`` for fsl).

    >>> law = get_law("fsl")
    >>> law.name, law.param_names[:3]
    ('fsl', ('L0', 'c1', 's'))
    """
    try:
        cls = LAWS[name]
    except KeyError:
        raise ValueError(f"unknown law {name!r}; valid: {', '.join(LAWS)}") from None
    return cls(**kwargs)
