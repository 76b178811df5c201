"""The result of the exact dynamics: :class:`LossCurve` (loss, bias, variance, divergence) and :class:`ModeHistory`.

All in excess-loss units Σλc (+ tail), no ½ (formulas in :mod:`lrwb.numerics.dynamics.expected`).

>>> import numpy as np
>>> curve = LossCurve(lr=np.full(2, 0.1), loss=np.array([1.0, 0.8, 0.7]), bias=None, variance=None, tail=0.0,
...                   diverged=False, diverged_step=None, stability_bound=1.4)
>>> curve.steps, curve.final_loss
(2, 0.7)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LossCurve", "ModeHistory"]


@dataclass(frozen=True)
class ModeHistory:
    """Per-mode moments at every step, shape (…, T+1, N) (only with ``record_modes=True``).

    Attributes:
        second_moment: C_k(t) = E e_k², e = w − w*.
        squared_mean: (E e_k)², whose λ-weighted sum is the bias.
        cross_moment: R_k(t) = E e_k v_k (momentum runs only, else ``None``).
        velocity_moment: V_k(t) = E v_k² (momentum runs only, else ``None``).
    """

    second_moment: np.ndarray
    squared_mean: np.ndarray
    cross_moment: np.ndarray | None = None
    velocity_moment: np.ndarray | None = None


@dataclass(frozen=True)
class LossCurve:
    """Expected excess-loss curve(s) of SGD (see the module docstring for the formulas).

    Shapes: one schedule → lr (T,), loss (T+1,); a batch of S schedules → lr (S, T), loss (S, T+1).

    Attributes:
        lr: η_t, t = 0 … T−1 (η_t is used for the step t → t+1).
        loss: excess loss Σλc + tail at t = 0 … T (+inf from the divergence step of a flagged schedule).
        bias: Σλ_k (E w_k − w*_k)² (``None`` when computed with ``parts=False``).
        variance: loss − bias − tail = Σλ_k Var w_k (label and SGD noise; ``None`` with ``parts=False``).
        tail: δ_N, the constant approximation error included in ``loss``.
        diverged: whether each schedule blew up (bool, or (S,) bool array for a batch).
        diverged_step: the first index t of ``loss`` that blew up (``None``/−1 when it did not).
        stability_bound: the smallest constant-LR stability bound over the (B_t, μ_t) the run uses
            (two-part bound of ``conventions.md``; :func:`run_stability_bound`).
        modes: per-mode moments at every step (only with ``record_modes=True``).
        digits: significant decimal digits of the arithmetic (``None`` = float64; set by the
            high-precision twin :func:`lrwb.numerics.dynamics.highprec.expected_loss_mp`).
        mp_values: the twin's high-precision numbers (``Decimal`` or ``mpf``) with ``keep_values=True``:
            dict of lists keyed ``"loss"``, ``"bias"``, ``"variance"``.
        warning: set when some step's η_t is above the stability bound of its (B_t, μ_t) (a run with
            ``allow_unstable=True``, or any ``on_divergence="flag"`` run): the first such step, η, the bound
            and the failing condition (:func:`lrwb.numerics.stability.check_learning_rates`); ``None`` otherwise.
    """

    lr: np.ndarray
    loss: np.ndarray
    bias: np.ndarray | None
    variance: np.ndarray | None
    tail: float
    diverged: bool | np.ndarray
    diverged_step: int | None | np.ndarray
    stability_bound: float
    modes: ModeHistory | None = None
    digits: int | None = None
    mp_values: dict | None = None
    warning: str | None = None

    @property
    def steps(self) -> int:
        """Horizon T."""
        return self.lr.shape[-1]

    @property
    def final_loss(self):
        """loss at t = T (float, or (S,) array for a batch)."""
        last = self.loss[..., -1]
        return float(last) if np.ndim(last) == 0 else last

