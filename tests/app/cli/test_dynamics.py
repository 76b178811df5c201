"""``lrwb dynamics``: CSV columns and rows, agreement with the API, clear errors (exit code 2)."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest

from lrwb.app.cli import main
from lrwb.numerics.dynamics.expected import expected_loss
from lrwb.numerics.schedules import parse_schedule
from lrwb.numerics.spectra import power_law_spectrum, random_feature_spectrum

COLUMNS = ["step", "lr", "loss", "bias", "variance", "tail"]


def _read(text):
    rows = list(csv.DictReader(io.StringIO(text)))
    return rows


def test_writes_the_curve_csv(tmp_path, capsys):
    out = tmp_path / "sub" / "curve.csv"
    code = main(["dynamics", "--a", "3.5", "--b", "2", "--features", "100", "--steps", "150",
                 "--schedule", "cosine:1,0.01", "--batch", "4", "--sigma", "0.3", "--out", str(out)])
    assert code == 0
    text = out.read_text()
    assert text.splitlines()[0] == ",".join(COLUMNS)
    rows = _read(text)
    assert len(rows) == 151 and [int(r["step"]) for r in rows] == list(range(151))
    assert rows[-1]["lr"] == "" and all(r["lr"] != "" for r in rows[:-1])
    # Same numbers as the API (written with repr: bit for bit).
    spec = power_law_spectrum(3.5, 2.0, 100)
    lr = parse_schedule("cosine:1,0.01").values(150)
    curve = expected_loss(spec, lr, sigma=0.3, batch=4)
    for key in ("loss", "bias", "variance"):
        assert np.array_equal([float(r[key]) for r in rows], getattr(curve, key))
    assert np.array_equal([float(r["lr"]) for r in rows[:-1]], lr)
    summary = capsys.readouterr().out
    assert "final excess loss" in summary and "stability bound" in summary and str(out) in summary
    assert f"{curve.final_loss:.6g}" in summary


def test_random_features_momentum_and_tail_to_stdout(capsys):
    code = main(["dynamics", "--model", "random", "--features", "20", "--input-dim", "80", "--seed", "3",
                 "--steps", "30", "--schedule", "constant:0.2", "--momentum", "0.5"])
    assert code == 0
    captured = capsys.readouterr()
    rows = _read(captured.out)
    assert len(rows) == 31
    spec = random_feature_spectrum(3.5, 2.0, 20, 80, seed=3)
    assert float(rows[0]["tail"]) == spec.tail > 0
    for r in rows:  # loss = bias + variance + tail in every row
        assert float(r["loss"]) == pytest.approx(float(r["bias"]) + float(r["variance"]) + float(r["tail"]), rel=1e-13)
    assert "μ = 0.5" in captured.err


def test_precision_flag_runs_the_high_precision_twin(tmp_path, capsys):
    args = ["dynamics", "--features", "30", "--steps", "40", "--schedule", "linear:0.8,0.05"]
    main([*args, "--out", str(tmp_path / "f.csv")])
    main([*args, "--precision", "40", "--out", str(tmp_path / "m.csv")])
    assert "40 digits" in capsys.readouterr().out
    fast = [float(r["loss"]) for r in _read((tmp_path / "f.csv").read_text())]
    exact = [float(r["loss"]) for r in _read((tmp_path / "m.csv").read_text())]
    assert np.max(np.abs(np.array(fast) / np.array(exact) - 1)) < 1e-12  # float64 round-off over 40 steps


@pytest.mark.parametrize("argv, match", [
    (["--schedule", "bogus:1"], "bogus"),
    (["--schedule", "constant:-0.1"], "constant"),
    (["--schedule", "constant:0.9", "--batch", "1", "--steps", "3000", "--allow-unstable"],
     r"diverged at step \d+.*0\.611"),
    (["--schedule", "constant:0.9", "--batch", "1", "--steps", "3000"], r"η = 0\.9 at step 0 .*η < 0\.611068"),
    (["--batch", "0.5"], r"B = 0\.5"),
    (["--momentum", "1.0"], r"μ = 1\.0"),
    (["--steps", "0"], "steps"),
    (["--precision", "5"], "digits"),
    (["--sigma", "-1"], "sigma"),
])
def test_bad_input_exits_2_with_one_clear_line(argv, match, tmp_path, capsys):
    out = tmp_path / "curve.csv"
    base = ["dynamics", "--features", "1000", "--steps", "50"]
    code = main([*base, *argv, "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lrwb dynamics: error:") and len(err.splitlines()) == 1
    assert re.search(match, err), err
    assert not out.exists()  # nothing half-written
