"""Tuned baselines: each is beaten by the optimum, reports the loss of its own schedule, and is tuned."""

from __future__ import annotations

import numpy as np
import pytest

from lrwb.numerics.control.baselines import best_constant, best_cosine, best_linear, best_power_law, best_wsd
from lrwb.numerics.control.lr import optimal_schedule
from lrwb.numerics.dynamics.expected import expected_loss
from lrwb.numerics.spectra import power_law_spectrum


def test_every_baseline_is_beaten_and_tuned():
    spectrum = power_law_spectrum(3.5, 2.0, 200)
    kw = dict(sigma=0.5, batch=5.0, eta_max=1.0)
    opt = optimal_schedule(spectrum, 200, **kw)
    for tune in (best_constant, best_power_law, best_cosine, best_linear, best_wsd):
        base = tune(spectrum, 200, **kw)
        assert opt.final_loss < base.final_loss
        assert np.all(base.lr >= 0) and np.all(base.lr <= 1.0 + 1e-12)
        # The reported loss is that of the reported schedule.
        assert base.final_loss == pytest.approx(expected_loss(spectrum, base.lr, sigma=0.5, batch=5.0).final_loss,
                                                rel=1e-12)
        # Tuned: scaling the schedule up or down by 5% does not help (where that stays inside the box).
        for factor in (0.95, 1.05):
            scaled = base.lr * factor
            if scaled.max() <= 1.0:
                assert expected_loss(spectrum, scaled, sigma=0.5, batch=5.0).final_loss >= base.final_loss * (1 - 1e-9)



def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="eta_max"):
        best_power_law(power_law_spectrum(3.5, 2.0, 10), 10, sigma=0.5, batch=5.0, eta_max=np.inf)
