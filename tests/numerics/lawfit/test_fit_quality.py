"""Issue 11 §6: fits that fail say so on screen (one line), in fit.json, and ``design`` refuses them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lrwb.app.cli import main


def _csv(path, steps, loss, lr=1e-3):
    path.write_text("step,lr,loss\n" + "".join(f"{int(k)},{lr!r},{float(v)!r}\n" for k, v in zip(steps, loss)))
    return path


def _fit(tmp_path, capsys, csv, *extra):
    out = tmp_path / "out"
    code = main(["fit", str(csv), "--no-figures", "--out", str(out), *extra])
    text = capsys.readouterr()
    return code, text.out, text.err, out


def _lines(text, prefix):
    return [ln for ln in text.splitlines() if ln.startswith(prefix)]


def test_pure_noise_is_a_poor_fit_on_screen_and_in_fit_json(tmp_path, capsys):
    rng = np.random.default_rng(0)
    steps = np.arange(600)
    csv = _csv(tmp_path / "noise.csv", steps, 3.0 + 0.01 * rng.standard_normal(steps.size))
    code, out, err, folder = _fit(tmp_path, capsys, csv, "--law", "fsln")
    assert code == 3
    poor = _lines(out, "lrwb fit: POOR FIT (fsln)")
    assert len(poor) == 1 and "poor fit: R²" in poor[0]
    assert "Traceback" not in out + err
    quality = json.loads((folder / "fit.json").read_text())["laws"]["fsln"]["quality"]
    assert quality["usable"] is False and quality["r2_fit"] < 0.1  # noise: the law explains ~nothing
    # no power-law decay in noise: the amplitudes and exponent are not identified
    assert {"A", "alpha"} <= set(quality["unidentifiable"])


def test_rising_loss_is_flagged(tmp_path, capsys):
    steps = np.arange(100, 3000, 10)
    csv = _csv(tmp_path / "rise.csv", steps, 3.0 + 0.1 * steps / 3000)
    code, out, _, _ = _fit(tmp_path, capsys, csv, "--law", "momentum", "--schedule", "constant:0.001")
    assert code == 3
    poor = _lines(out, "lrwb fit: POOR FIT (momentum)")
    assert len(poor) == 1 and "rising loss in run rise" in poor[0]


def test_ten_points_for_nine_parameters(tmp_path, capsys):
    steps = np.arange(100, 1100, 100)
    csv = _csv(tmp_path / "few.csv", steps, 3.0 + 2.0 / np.sqrt(steps))
    code, out, _, _ = _fit(tmp_path, capsys, csv, "--law", "fsln", "--schedule", "constant:0.001")
    assert code == 3
    poor = _lines(out, "lrwb fit: POOR FIT (fsln)")
    assert len(poor) == 1 and "too few points: 10 for 9 parameters" in poor[0]


def test_bootstrap_never_prints_plus_minus_zero(tmp_path, capsys):
    rng = np.random.default_rng(1)
    steps = np.arange(600)
    csv = _csv(tmp_path / "noise.csv", steps, 3.0 + 0.01 * rng.standard_normal(steps.size))
    code, out, _, folder = _fit(tmp_path, capsys, csv, "--law", "momentum", "--bootstrap", "3")
    assert code == 3
    line = _lines(out, "momentum (converged)")[0]
    fit = json.loads((folder / "fit.json").read_text())["laws"]["momentum"]
    assert fit["at_bound"]  # a constant-LR noise curve pushes α or C to a bound
    for name in fit["at_bound"]:
        assert f"{name}=" in line and "(at bound)" in line.split(f"{name}=")[1].split(",")[0]
    assert "±0," not in line and not line.rstrip().endswith("±0")


def _noise_fit_json(tmp_path, capsys):
    rng = np.random.default_rng(0)
    steps = np.arange(600)
    csv = _csv(tmp_path / "noise.csv", steps, 3.0 + 0.01 * rng.standard_normal(steps.size))
    code, _, _, folder = _fit(tmp_path, capsys, csv, "--law", "momentum")
    assert code == 3
    return folder / "fit.json"


def test_design_refuses_a_poor_fit_unless_accepted(tmp_path, capsys):
    fit_json = _noise_fit_json(tmp_path, capsys)
    sched = tmp_path / "schedule.csv"
    code = main(["design", str(fit_json), "--steps", "600", "--peak-max", "1e-3", "--knots", "6", "--out", str(sched)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "not fit for design" in err[0] and "--accept-poor-fit" in err[0]
    assert not sched.exists() and not sched.with_suffix(".json").exists()
    code = main(["design", str(fit_json), "--steps", "600", "--peak-max", "1e-3", "--knots", "6", "--out", str(sched),
                 "--accept-poor-fit"])
    out = capsys.readouterr().out
    assert code == 0 and len(_lines(out, "lrwb design: WARNING: designing from a poor momentum fit")) == 1
    assert json.loads(sched.with_suffix(".json").read_text())["fit_problems"]


def test_design_reports_an_interval_for_a_good_fit(tmp_path, capsys, shared_data):
    out = tmp_path / "mp"
    assert main(["fit", "multipower:25", "--law", "fsln", "--no-figures", "--data-root", str(shared_data),
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "POOR FIT" not in text and "unidentifiable" not in text
    sched = tmp_path / "d.csv"
    assert main(["design", str(out / "fit.json"), "--steps", "30000", "--peak-max", "6e-4", "--knots", "6",
                 "--out", str(sched)]) == 0
    meta = json.loads(sched.with_suffix(".json").read_text())
    lo, hi = meta["predicted_final_interval_95"]
    assert lo < meta["predicted_final"] < hi
    # Gauss–Newton parameter uncertainty of a 3-run, ~500-point fit: a few 1e-3 in the loss, not 0 and not O(1)
    assert 1e-5 < hi - lo < 0.05
