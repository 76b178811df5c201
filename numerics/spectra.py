"""Spectra and targets of the power-law random-feature (PLRF) model, in the model's eigenbasis.

Every engine (exact dynamics, Monte Carlo, FSL mode sums) consumes a :class:`Spectrum`: the eigenvalues
``λ_k`` of the feature covariance, the initial second moments ``c_k(0)`` of the error along each
eigen-direction (zero initialisation: the squared target weights), and the approximation error ``tail``
(δ_N) of the finite model. Monte Carlo simulators additionally need the model in input coordinates
(the random projection ``F`` and the input-space target ``w*``), which random-feature spectra carry.

Conventions (``shared/spec/conventions.md``): λ_k = k^{-b}, λ_k w*_k² = k^{-a}, so c_k(0) = w*_k² = k^{b-a};
the excess loss is Σ_k λ_k c_k (+ tail), no ½.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from lrwb.numerics.checks import check_positive_int

__all__ = ["Spectrum", "power_law_spectrum", "random_feature_spectrum", "custom_spectrum"]


def _check_exponent(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 1.0:
        raise ValueError(f"exponent {name} = {value!r} is outside its domain: {name} must be a finite number > 1")
    return value


@dataclass(frozen=True)
class Spectrum:
    """A quadratic problem in the eigenbasis of the feature covariance.

    Attributes:
        eigenvalues: λ_k, shape (N,), descending, > 0.
        target: c_k(0), the initial second moment of the error along mode k (zero init: the squared
            coefficient of the best in-span weights), shape (N,).
        tail: δ_N ≥ 0, the part of the target the model cannot represent. It is added to the excess loss
            and acts as extra label noise (σ² → σ² + δ_N) in the SGD noise term.
        input_eigenvalues, input_weights, projection: the model in input coordinates, for Monte Carlo
            (``None`` for the diagonal top-N model, whose input coordinates are the eigenbasis).
        label: a short description for plots and file headers.
    """

    eigenvalues: np.ndarray
    target: np.ndarray
    tail: float = 0.0
    input_eigenvalues: np.ndarray | None = None
    input_weights: np.ndarray | None = None
    projection: np.ndarray | None = None
    label: str = ""

    def __post_init__(self):
        lam = np.asarray(self.eigenvalues, dtype=float)
        c0 = np.asarray(self.target, dtype=float)
        if lam.ndim != 1 or c0.shape != lam.shape:
            raise ValueError(f"eigenvalues and target must be 1-D arrays of one length, got {lam.shape} and {c0.shape}")
        if not (np.all(np.isfinite(lam)) and np.all(lam > 0)):
            raise ValueError("eigenvalues must be finite and > 0")
        if not (np.all(np.isfinite(c0)) and np.all(c0 >= 0)):
            raise ValueError("target second moments must be finite and >= 0")
        if not (np.isfinite(self.tail) and self.tail >= 0):
            raise ValueError(f"tail = {self.tail!r} must be finite and >= 0")
        object.__setattr__(self, "eigenvalues", lam)
        object.__setattr__(self, "target", c0)

    @property
    def features(self) -> int:
        """Model size N."""
        return self.eigenvalues.size

    def initial_loss(self) -> float:
        """Excess loss at zero initialisation, Σ λ_k c_k(0) + δ_N."""
        return float(self.eigenvalues @ self.target + self.tail)

    @property
    def target_weights(self) -> np.ndarray:
        """w*_k in the eigenbasis (non-negative square roots of ``target``), for top-N Monte Carlo."""
        return np.sqrt(self.target)


def power_law_spectrum(a: float, b: float, features: int, *, tail: bool = False) -> Spectrum:
    """Diagonal ("top-N") PLRF model: λ_k = k^{-b}, c_k(0) = w*_k² = k^{b-a}, k = 1…N.

    With ``tail=True`` the modes beyond N are part of the problem but not of the model: their power
    δ_N = Σ_{k>N} k^{-a} = ζ(a, N+1) (Hurwitz zeta) is the approximation error (compute-optimal figure).
    
    >>> spectrum = power_law_spectrum(3.5, 2.0, 4)
    >>> spectrum.eigenvalues.round(4).tolist(), spectrum.target.round(4).tolist(), spectrum.tail
    ([1.0, 0.25, 0.1111, 0.0625], [1.0, 0.3536, 0.1925, 0.125], 0.0)
    >>> round(power_law_spectrum(3.5, 2.0, 4, tail=True).tail, 4)  # δ_4 = Σ_{k>4} k^(−3.5)
    0.0091
    """
    a = _check_exponent("a", a)
    b = _check_exponent("b", b)
    n = check_positive_int(features, "features")
    k = np.arange(1, n + 1, dtype=float)
    delta = float(special.zeta(a, n + 1)) if tail else 0.0
    return Spectrum(
        eigenvalues=k**-b,
        target=k ** (b - a),
        tail=delta,
        label=f"top-{n} power law a={a:g}, b={b:g}" + (" with tail" if tail else ""),
    )


def random_feature_spectrum(a: float, b: float, features: int, input_dim: int, *, seed: int = 0) -> Spectrum:
    """Random-feature PLRF model: N features z = F x of D input modes, F_ij ~ N(0, 1/N) (seeded).

    Inputs x ~ N(0, Λ), Λ = diag(k^{-b}), target y = w*·x + ε with λ_k w*_k² = k^{-a}. The feature
    covariance Σ = F Λ Fᵀ has eigenvalues ≈ λ_k at the top. The best in-span weights are
    v* = Σ⁻¹ F Λ w*; the residual w*·x − v*·z is uncorrelated with z and, the inputs being Gaussian,
    independent of it, so it acts as label noise of variance δ = w*ᵀΛw* − v*ᵀΣv* (the ``tail``).
    The returned spectrum is in the eigenbasis U of Σ: target_k = (Uᵀv*)_k² (zero initialisation).
    
    >>> random_feature_spectrum(3.5, 2.0, 3, 30, seed=0).eigenvalues.shape
    (3,)
    """
    a = _check_exponent("a", a)
    b = _check_exponent("b", b)
    n = check_positive_int(features, "features")
    d = check_positive_int(input_dim, "input_dim")
    if d < n:
        raise ValueError(f"input_dim = {d} must be >= features = {n} (the projection maps D input modes to N features)")
    from lrwb.numerics import resources

    resources.check_memory(resources.random_features_bytes(n, d),
                           f"a random-feature spectrum with N = {n} features of D = {d} input modes (dense N × D)")
    rng = np.random.default_rng(seed)
    k = np.arange(1, d + 1, dtype=float)
    lam_in = k**-b
    w_star = np.sqrt(k ** (b - a))
    proj = rng.standard_normal((n, d)) / np.sqrt(n)
    cov = (proj * lam_in) @ proj.T
    mu, basis = np.linalg.eigh(cov)
    order = np.argsort(mu)[::-1]
    mu, basis = mu[order], basis[:, order]
    # Coordinates of v* in the eigenbasis: (Uᵀ F Λ w*)_k / μ_k.
    cross = basis.T @ (proj @ (lam_in * w_star))
    v_eig = cross / mu
    total = float(lam_in @ w_star**2)
    explained = float(np.sum(cross**2 / mu))
    delta = max(total - explained, 0.0)
    return Spectrum(
        eigenvalues=mu,
        target=v_eig**2,
        tail=delta,
        input_eigenvalues=lam_in,
        input_weights=w_star,
        projection=proj,
        label=f"random features N={n}, D={d}, a={a:g}, b={b:g}, seed={seed}",
    )


def custom_spectrum(eigenvalues, target, *, tail: float = 0.0, label: str = "custom") -> Spectrum:
    """A user-given diagonal problem (eigenvalues descending are not required, but must be > 0).

    >>> custom_spectrum([1.0, 0.5], [1.0, 1.0]).initial_loss()  # Σ λ_k c_k(0)
    1.5
    """
    return Spectrum(eigenvalues=np.asarray(eigenvalues, float), target=np.asarray(target, float), tail=float(tail), label=label)
