"""Compiled kernels of the numba engine (:mod:`lrwb.numerics.dynamics.numba_engine`; the NumPy engine runs without numba).

Each kernel runs one fused loop over steps per schedule with one inner pass over the modes that updates
the per-mode moments and accumulates the next step's sums Σλ(·) at once, so the state (a few length-N
arrays, passed in by the caller) stays in L1 cache and memory does not grow with T·N.

The formulas are those of :mod:`lrwb.numerics.dynamics.expected` (same order of operations as the NumPy engine,
:mod:`lrwb.numerics.dynamics.numpy_engine`), in the
centred form: per mode the squared mean p_k = (E e_k)² (or the means m_k, u_k with momentum) and the
variance v_k = Var e_k are tracked separately, so bias = Σλ_k p_k and variance = Σλ_k v_k come out without
the cancellation of "loss − bias".

fastmath: only ``reassoc`` (lets LLVM vectorise the Σλc reductions, ≈ 2× here) and ``contract`` (FMA).
Not ``nnan``/``ninf``: the divergence check must see inf and NaN.

On divergence (the excess loss not finite or above ``threshold``) at step t of schedule s the kernel writes
``diverged_step[s] = t``, fills rows t… of that schedule's outputs with +inf and moves to the next schedule.

Chunks: each kernel runs the steps ``t_begin ≤ t < t_end`` only. ``t_begin == 0`` starts every schedule from its
initial state; a later chunk continues from the state arrays and the running sums in ``carry`` left by the
previous one (then the call must hold one schedule, since the state is per call). The caller
(:mod:`lrwb.numerics.dynamics.numba_engine`) runs long problems in chunks of a fraction of a second, so Ctrl-C — which Python
only sees between compiled calls — stops a run promptly.
"""

from __future__ import annotations

from lrwb.numerics.backends import HAVE_NUMBA  # optional (extra "fast"); the NumPy engine runs without it

if HAVE_NUMBA:
    import numba

FASTMATH = {"reassoc", "contract"}

INF = float("inf")


def _fill_inf(out, s, t):
    for j in range(t, out.shape[1]):
        out[s, j] = INF


def _fill_history_inf(hist, s, t):
    for j in range(t, hist.shape[1]):
        for i in range(hist.shape[2]):
            hist[s, j, i] = INF


def sgd_parts_kernel(lam, lam2, squared_mean0, lr, inv_batch, noise, threshold,
                     bias_out, variance_out, diverged_step, sq_mean, var, record, hist_second, hist_sq_mean,
                     t_begin, t_end, carry):
    """Plain SGD, bias and variance parts. Per step, with r = η²/B and q = r(σ² + tail + Σλ(v + p)):
    p_k ← (1 − ηλ_k)² p_k,  v_k ← (1 − ηλ_k)² v_k + r λ_k² (v_k + p_k) + q λ_k.
    """
    n_sched = lr.shape[0]
    n = lam.size
    for s in range(n_sched):
        sb = carry[0]
        sv = carry[1]
        if t_begin == 0:
            diverged_step[s] = -1
            sb = 0.0
            sv = 0.0
            for i in range(n):
                sq_mean[i] = squared_mean0[i]
                var[i] = 0.0
                sb += lam[i] * squared_mean0[i]
                if record:
                    hist_second[s, 0, i] = squared_mean0[i]
                    hist_sq_mean[s, 0, i] = squared_mean0[i]
            bias_out[s, 0] = sb
            variance_out[s, 0] = sv
        for t in range(t_begin, t_end):
            eta = lr[s, t]
            r = eta * eta * inv_batch[s, t]
            q = r * (noise + sb + sv)
            sb = 0.0
            sv = 0.0
            for i in range(n):
                li = lam[i]
                u = 1.0 - eta * li
                u2 = u * u
                p = sq_mean[i]
                v = var[i]
                v_new = u2 * v + (r * lam2[i] * (v + p) + q * li)
                p_new = u2 * p
                var[i] = v_new
                sq_mean[i] = p_new
                sb += li * p_new
                sv += li * v_new
            total = sb + sv
            if not (total <= threshold):  # catches inf and NaN too
                diverged_step[s] = t + 1
                _fill_inf(bias_out, s, t + 1)
                _fill_inf(variance_out, s, t + 1)
                if record:
                    _fill_history_inf(hist_second, s, t + 1)
                    _fill_history_inf(hist_sq_mean, s, t + 1)
                break
            bias_out[s, t + 1] = sb
            variance_out[s, t + 1] = sv
            if record:
                for i in range(n):
                    hist_second[s, t + 1, i] = var[i] + sq_mean[i]
                    hist_sq_mean[s, t + 1, i] = sq_mean[i]
        carry[0] = sb
        carry[1] = sv


def sgd_loss_kernel(lam, lam2, second0, lr, inv_batch, noise, threshold, loss_out, diverged_step, second,
                    t_begin, t_end, carry):
    """Plain SGD, excess loss only (the fastest path). The same update, written as an increment:
    c_k ← c_k + λ_k [c_k (α + βλ_k) + q],  α = −2η, β = η²(1 + 1/B), q = (η²/B)(σ² + tail + Σλc)
    (= c_k[(1 − ηλ_k)² + η²λ_k²/B] + qλ_k; four fused multiply-adds per mode with the sum).
    """
    n_sched = lr.shape[0]
    n = lam.size
    for s in range(n_sched):
        total = carry[0]
        if t_begin == 0:
            diverged_step[s] = -1
            total = 0.0
            for i in range(n):
                second[i] = second0[i]
                total += lam[i] * second0[i]
            loss_out[s, 0] = total
        for t in range(t_begin, t_end):
            eta = lr[s, t]
            r = eta * eta * inv_batch[s, t]
            q = r * (noise + total)
            alpha = -2.0 * eta
            beta = eta * eta + r
            total = 0.0
            for i in range(n):
                li = lam[i]
                c = second[i]
                c_new = c + li * (c * (alpha + beta * li) + q)
                second[i] = c_new
                total += li * c_new
            if not (total <= threshold):
                diverged_step[s] = t + 1
                _fill_inf(loss_out, s, t + 1)
                break
            loss_out[s, t + 1] = total
        carry[0] = total


def momentum_kernel(lam, lam2, mean0, lr, inv_batch, momentum, noise, threshold,
                    bias_out, variance_out, diverged_step, mean_e, mean_v, var_e, cov_ev, var_v,
                    record, hist_second, hist_sq_mean, hist_cross, hist_velocity, t_begin, t_end, carry):
    """Heavy ball (v ← μv + g, w ← w − ηv). Means: u ← μu + λm, m ← m − ηu. Central moments, with the
    gradient-noise variance n_k = (λ_k²/B)(v_k + m_k²) + (λ_k/B)(σ² + tail + Σλ(v + m²)):
    V ← μ²V + 2μλR + λ²C + n,  R ← μR + λC − ηV',  C ← C − 2η(μR + λC) + η²V'.
    """
    n_sched = lr.shape[0]
    n = lam.size
    for s in range(n_sched):
        sb = carry[0]
        sv = carry[1]
        if t_begin == 0:
            diverged_step[s] = -1
            sb = 0.0
            sv = 0.0
            for i in range(n):
                mean_e[i] = mean0[i]
                mean_v[i] = 0.0
                var_e[i] = 0.0
                cov_ev[i] = 0.0
                var_v[i] = 0.0
                sb += lam[i] * mean0[i] * mean0[i]
                if record:
                    hist_second[s, 0, i] = mean0[i] * mean0[i]
                    hist_sq_mean[s, 0, i] = mean0[i] * mean0[i]
                    hist_cross[s, 0, i] = 0.0
                    hist_velocity[s, 0, i] = 0.0
            bias_out[s, 0] = sb
            variance_out[s, 0] = sv
        for t in range(t_begin, t_end):
            eta = lr[s, t]
            mu = momentum[s, t]
            ib = inv_batch[s, t]
            shared = ib * (noise + sb + sv)
            sb = 0.0
            sv = 0.0
            for i in range(n):
                li = lam[i]
                m = mean_e[i]
                c = var_e[i]
                rr = cov_ev[i]
                u_new = mu * mean_v[i] + li * m
                m_new = m - eta * u_new
                grad_noise = ib * lam2[i] * (c + m * m) + li * shared
                v_new = mu * mu * var_v[i] + 2.0 * mu * li * rr + lam2[i] * c + grad_noise
                r_new = mu * rr + li * c - eta * v_new
                c_new = c - 2.0 * eta * (mu * rr + li * c) + eta * eta * v_new
                mean_v[i] = u_new
                mean_e[i] = m_new
                var_v[i] = v_new
                cov_ev[i] = r_new
                var_e[i] = c_new
                sb += li * m_new * m_new
                sv += li * c_new
            total = sb + sv
            if not (total <= threshold):
                diverged_step[s] = t + 1
                _fill_inf(bias_out, s, t + 1)
                _fill_inf(variance_out, s, t + 1)
                if record:
                    _fill_history_inf(hist_second, s, t + 1)
                    _fill_history_inf(hist_sq_mean, s, t + 1)
                    _fill_history_inf(hist_cross, s, t + 1)
                    _fill_history_inf(hist_velocity, s, t + 1)
                break
            bias_out[s, t + 1] = sb
            variance_out[s, t + 1] = sv
            if record:
                for i in range(n):
                    hist_second[s, t + 1, i] = var_e[i] + mean_e[i] * mean_e[i]
                    hist_sq_mean[s, t + 1, i] = mean_e[i] * mean_e[i]
                    hist_cross[s, t + 1, i] = cov_ev[i] + mean_e[i] * mean_v[i]
                    hist_velocity[s, t + 1, i] = var_v[i] + mean_v[i] * mean_v[i]
        carry[0] = sb
        carry[1] = sv


if HAVE_NUMBA:
    _jit = numba.njit(cache=True, fastmath=FASTMATH, nogil=True)
    _fill_inf = numba.njit(cache=True)(_fill_inf)
    _fill_history_inf = numba.njit(cache=True)(_fill_history_inf)
    sgd_parts_kernel = _jit(sgd_parts_kernel)
    sgd_loss_kernel = _jit(sgd_loss_kernel)
    momentum_kernel = _jit(momentum_kernel)
