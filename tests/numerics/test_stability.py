import numpy as np
import pytest

from numerics.spectra import power_law_spectrum
from numerics.stability import is_stable, renewal_norm, stability_bound


@pytest.mark.parametrize("batch, b, expected", [(1, 2.0, 0.611), (5, 2.0, 1.406), (1, 1.2, 0.389)])
def test_bound_matches_conventions_examples(batch, b, expected):
    # conventions.md quotes these to 3 decimals (N = 1000).
    lam = power_law_spectrum(3.5, b, 1000).eigenvalues
    assert stability_bound(lam, batch) == pytest.approx(expected, abs=6e-4)


def test_bound_is_below_the_naive_per_mode_bound():
    lam = power_law_spectrum(3.5, 2.0, 1000).eigenvalues
    naive = 2 * 5 / (6 * lam[0])  # g_1 < 1 only: 5/3 for B = 5
    assert stability_bound(lam, 5) < naive


def test_bound_agrees_with_spectral_radius_of_the_recursion():
    # The constant-η second-moment recursion matrix diag(g) + (η²/B) λλᵀ: spectral radius crosses 1 at the bound.
    lam = power_law_spectrum(3.5, 2.0, 60).eigenvalues
    batch = 2.0
    bound = stability_bound(lam, batch)

    def radius(eta):
        g = (1 - eta * lam) ** 2 + eta**2 * lam**2 / batch
        mat = np.diag(g) + (eta**2 / batch) * np.outer(lam, lam)
        return np.max(np.abs(np.linalg.eigvals(mat)))

    assert radius(bound * (1 - 1e-6)) < 1 < radius(bound * (1 + 1e-6))


def test_renewal_norm_vectorised_and_infinite_past_mode_bound():
    lam = np.array([1.0, 0.5])
    out = renewal_norm(np.array([0.1, 10.0]), lam, 1.0)
    assert np.isfinite(out[0]) and np.isinf(out[1])
    assert list(is_stable(np.array([0.1, 10.0]), lam, 1.0)) == [True, False]


def test_batch_below_one_rejected():
    with pytest.raises(ValueError, match="batch = 0.5"):
        stability_bound([1.0], 0.5)


def test_infinite_batch_is_gradient_descent_bound():
    lam = power_law_spectrum(3.5, 2.0, 100).eigenvalues
    assert stability_bound(lam, float("inf")) == pytest.approx(2.0 / lam[0], rel=1e-10)
