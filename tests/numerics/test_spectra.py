import numpy as np
import pytest
from scipy import special

from lrwb.numerics.spectra import custom_spectrum, power_law_spectrum, random_feature_spectrum


def test_power_law_spectrum_matches_definition():
    spec = power_law_spectrum(3.5, 2.0, 50)
    k = np.arange(1, 51)
    np.testing.assert_allclose(spec.eigenvalues, k**-2.0, rtol=1e-15)
    # λ_k w*_k² = k^{-a}
    np.testing.assert_allclose(spec.eigenvalues * spec.target, k**-3.5, rtol=1e-14)
    assert spec.tail == 0.0 and spec.features == 50


def test_tail_is_the_untrained_power():
    spec = power_law_spectrum(2.0, 1.5, 100, tail=True)
    brute = np.sum(np.arange(101, 2_000_001, dtype=float) ** -2.0)
    # Brute-force sum truncated at 2e6 misses ~1/2e6 of the tail: compare to that accuracy.
    assert spec.tail == pytest.approx(brute, abs=1e-6)
    assert spec.initial_loss() == pytest.approx(special.zeta(2.0, 1), rel=1e-12)  # all modes: ζ(2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(a=1.0, b=2.0, features=10), "a = 1.0"),
    (dict(a=3.0, b=0.9, features=10), "b = 0.9"),
    (dict(a=3.0, b=2.0, features=0), "features = 0"),
])
def test_bad_exponents_and_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        power_law_spectrum(**kwargs)


def test_random_features_conserve_total_signal():
    spec = random_feature_spectrum(3.5, 2.0, 40, 400, seed=3)
    total = np.sum(spec.input_eigenvalues * spec.input_weights**2)
    # Excess loss at zero init = total target power, split into the in-span part and the tail δ.
    assert spec.initial_loss() == pytest.approx(total, rel=1e-10)
    assert spec.tail > 0
    # Top eigenvalues of F Λ Fᵀ track λ_k (Marchenko–Pastur-type fluctuations: O(1/√N) relative at the top).
    np.testing.assert_allclose(spec.eigenvalues[:3], np.arange(1, 4) ** -2.0, rtol=0.35)


def test_random_features_are_seeded():
    s1 = random_feature_spectrum(3.0, 1.5, 20, 100, seed=1)
    s2 = random_feature_spectrum(3.0, 1.5, 20, 100, seed=1)
    s3 = random_feature_spectrum(3.0, 1.5, 20, 100, seed=2)
    np.testing.assert_array_equal(s1.eigenvalues, s2.eigenvalues)
    assert not np.allclose(s1.eigenvalues, s3.eigenvalues)
    with pytest.raises(ValueError, match="input_dim = 10 must be >= features = 20"):
        random_feature_spectrum(3.0, 1.5, 20, 10)


def test_custom_spectrum_validation():
    with pytest.raises(ValueError, match="eigenvalues must be finite and > 0"):
        custom_spectrum([1.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="one length"):
        custom_spectrum([1.0, 0.5], [1.0])


def test_entry_points_carry_a_docstring_example():
    """Each public factory / entry point shows its use; tests/test_doctests.py runs every example."""
    import importlib

    module = importlib.import_module("lrwb.numerics.spectra")
    for name in ("power_law_spectrum", "random_feature_spectrum", "custom_spectrum"):
        assert ">>>" in (getattr(module, name).__doc__ or ""), name
