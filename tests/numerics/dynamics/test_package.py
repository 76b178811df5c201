"""The public API of lrwb.numerics.dynamics (its __init__): every name in __all__ resolves; the example runs."""

from __future__ import annotations

import doctest

import lrwb.numerics.dynamics as dynamics


def test_all_names_resolve():
    assert len(set(dynamics.__all__)) == len(dynamics.__all__)
    for name in dynamics.__all__:
        assert getattr(dynamics, name) is not None, name


def test_entry_points_are_the_modules_own():
    from lrwb.numerics.dynamics.expected import expected_loss
    from lrwb.numerics.dynamics.highprec import expected_loss_mp

    assert dynamics.expected_loss is expected_loss and dynamics.expected_loss_mp is expected_loss_mp


def test_doctests():
    result = doctest.testmod(dynamics)
    assert result.attempted > 0 and result.failed == 0
