"""Loss-curve data: CSV reader/validator, the multipower and lr-scheduling loaders (real data, read in place)."""

from __future__ import annotations

import numpy as np
import pytest

from numerics.curves import (MULTIPOWER_WARMUP, TrainingCurve, load_lr_scheduling, load_multipower,
                             multipower_schedule, read_curves_csv, write_curves_csv)


def test_multipower_schedules_by_hand():
    # values computed by hand from the data README's description
    assert multipower_schedule("constant_24000", 3000)[1080] == pytest.approx(1.5e-4)  # half-way up the warmup
    wsd = multipower_schedule("wsd_20000_24000", 24000)
    assert wsd[19999] == 3e-4 and wsd[22000] == pytest.approx(3e-4 * 0.1**0.5)
    assert multipower_schedule("wsdld_20000_24000", 24000)[22000] == pytest.approx(1.65e-4)
    cos = multipower_schedule("cosine_24000", 24000)
    assert cos[2160 + 10920] == pytest.approx(1.65e-4)  # mid-way through the cosine: (3e−4 + 3e−5)/2
    con = multipower_schedule("wsdcon_3", 9000)
    assert con[7999] == 3e-4 and con[8000] == pytest.approx(3e-5)
    with pytest.raises(ValueError, match="unknown multipower run"):
        multipower_schedule("linear_1000", 10)


def test_multipower_loader_rebuilds_the_logged_lr(shared_data):
    curves = load_multipower(shared_data / "multipower", 25, ["cosine_24000", "wsdcon_9", "wsd_20000_24000"])
    for c in curves.values():
        assert c.warmup == MULTIPOWER_WARMUP and c.horizon == c.steps[-1] + 1
        assert c.steps[0] in (2160, 2176) and np.all(np.diff(c.steps) > 0)
        assert 2.5 < c.loss.min() < c.loss.max() < 5.0
    # the loader itself checks the rebuilt schedule against every logged lr (relative 1e−6); re-check one
    raw = np.loadtxt(shared_data / "multipower/loss_curve_repo/csv_25/wsdcon_9.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(curves["wsdcon_9"].lr[raw[:, 0].astype(int)], raw[:, 1], rtol=1e-12)
    with pytest.raises(ValueError, match="sizes"):
        load_multipower(shared_data / "multipower", 50)


def test_lr_scheduling_joins_cooldowns_to_base_runs(shared_data):
    runs = load_lr_scheduling(shared_data / "lr-scheduling", pattern="*nlayers8_nhead6_lr0.001*")
    assert runs, "no runs matched"
    for info, c in runs:
        # every curve starts right after its warmup: cooldown runs got their base run's stable phase
        assert c.steps[0] <= 2 * max(info.warmup, 50) + 50, (c.name, c.steps[0])
        assert c.lr.max() == pytest.approx(info.lr, rel=1e-6)
        assert c.horizon >= 0.95 * info.iterations


def _write(tmp_path, text):
    p = tmp_path / "c.csv"
    p.write_text(text)
    return p


def test_csv_per_step_and_runs(tmp_path):
    rows = ["run,step,lr,loss"] + [f"a,{t},{1e-3 * (1 - t / 20)!r},{3 - 0.01 * t}" for t in range(20)]
    rows += [f"b,{t},1e-3,{3 - 0.005 * t}" for t in range(10)]
    curves = read_curves_csv(_write(tmp_path, "\n".join(rows)))
    assert set(curves) == {"a", "b"}
    np.testing.assert_allclose(curves["a"].lr, 1e-3 * (1 - np.arange(20) / 20))
    assert curves["b"].horizon == 10
    write_curves_csv(tmp_path / "round.csv", curves)
    again = read_curves_csv(tmp_path / "round.csv")
    np.testing.assert_array_equal(again["a"].loss, curves["a"].loss)


def test_csv_empty_last_lr_and_interpolation_warning(tmp_path):
    text = "step,lr,loss\n0,1e-3,3.0\n1,1e-3,2.9\n2,,2.8\n"
    c = read_curves_csv(_write(tmp_path, text))["c"]
    assert c.lr.tolist() == [1e-3, 1e-3, 1e-3]
    sparse = "step,lr,loss\n10,1e-3,3.0\n20,5e-4,2.9\n"
    with pytest.warns(UserWarning, match="interpolating"):
        c = read_curves_csv(_write(tmp_path, sparse), warmup=5)["c"]
    assert c.lr[15] == pytest.approx(7.5e-4) and c.lr[0] == 0.0 and c.lr[5] == pytest.approx(1e-3)


@pytest.mark.parametrize("text, match", [
    ("step,lr,loss\n0,1e-3,3.0\n1,1e-3,nan\n", "finite"),
    ("step,lr,loss\n0,1e-3,3.0\n0,1e-3,2.9\n", "strictly increasing"),
    ("step,lr,loss\n0,1e-3,3.0\n1,-1e-3,2.9\n", "lr = -0.001"),
    ("step,lr,loss\n0,1e-3,3.0\n1,0,2.9\n", "lr = 0"),
    ("step,loss\n0,3.0\n", "missing column"),
    ("step,lr,loss\n0,abc,3.0\n", "not a number"),
])
def test_csv_bad_curves(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        read_curves_csv(_write(tmp_path, text))


def test_training_curve_validation():
    with pytest.raises(ValueError, match="must lie in"):
        TrainingCurve("x", np.full(10, 1e-3), np.array([5, 12]), np.array([3.0, 2.0]))
    with pytest.raises(ValueError, match="loss > 0"):
        TrainingCurve("x", np.full(10, 1e-3), np.array([5, 6]), np.array([3.0, 0.0]))
