"""``lrwb sweep`` on Dask: a local cluster of two workers, resume from the per-point cache, corrupt cache files,
bad inputs, agreement with a serial evaluation, and the fits on exact power laws.

One module-scoped LocalCluster (2 worker processes, 1 thread each) serves every test that needs workers; the grid
is tiny (three points, horizons 40…160, N ≤ 48), so the module runs in well under a minute."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lrwb import experiments
from lrwb.app.cli import main
from lrwb.numerics.analysis.phase_diagram import (GridPoint, Measurement, SweepSettings, check_point, derived_exponents,
                                    evaluate_point, features_for, fitted_exponents, point_key, trend)
from lrwb.numerics.sweep import (SchedulerUnreachable, cache_path, connect, parse_values, product_grid, run_sweep,
                            table_rows)

distributed = pytest.importorskip("distributed")

TINY = SweepSettings(horizons=(40, 80, 160), reach=0.5, min_features=8, max_features=48)
#: both phases and the boundary: (2, 3) hard, (3, 2) easy, (2.5, 2.5) on a = b (counted easy).
POINTS = (GridPoint(2.0, 3.0), GridPoint(3.0, 2.0), GridPoint(2.5, 2.5))


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    cl = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cl)
    yield client
    client.close()
    cl.close()


def counting_task(counter: str, a, b, settings):
    """evaluate_point that appends one line per execution to ``counter`` (the workers share this file system)."""
    with open(counter, "a") as handle:
        handle.write(f"{a},{b}\n")
    return evaluate_point(a, b, settings)


def _executions(counter: Path) -> list[tuple[float, float]]:
    if not counter.exists():
        return []
    return sorted(tuple(map(float, line.split(","))) for line in counter.read_text().split())


def test_two_workers_agree_with_a_serial_evaluation(cluster, tmp_path):
    run = run_sweep(POINTS, TINY, tmp_path, client=cluster, progress=False)
    assert run.workers == 2 and set(run.computed) == set(POINTS) and not run.cached and not run.errors
    assert {r["pid"] for r in run.records.values()}.isdisjoint({os.getpid()}), "tasks ran in the client process"
    for p in POINTS:
        serial = evaluate_point(p.a, p.b, TINY)
        remote = run.records[p]
        for field in ("optimal_final_loss", "optimal_mid_lr", "constant_lr", "constant_final_loss"):
            # same code and inputs on the same machine: equal to rounding (numba's fastmath may reassociate)
            np.testing.assert_allclose(remote[field], serial[field], rtol=1e-9, err_msg=f"{p}: {field}")
        assert remote["anneal_start"] == serial["anneal_start"]
        fits_remote, fits_serial = fitted_exponents(remote), fitted_exponents(serial)
        assert fits_remote.keys() == fits_serial.keys()
    # the table: every applicable quantity at every point, fitted vs derived
    table = (tmp_path / "phase_diagram.csv").read_text().splitlines()
    assert len(table) - 1 == len(run.rows)
    assert {r.quantity for r in run.rows if r.point == GridPoint(2.0, 3.0)} == \
        {"zeta_opt", "zeta_const", "xi_const", "kappa", "anneal_length"}
    assert {r.quantity for r in run.rows if r.point == GridPoint(3.0, 2.0)} == \
        {"zeta_opt", "zeta_const", "xi_const", "xi_collapse", "kappa"}
    assert all((tmp_path / f"phase_diagram{s}").is_file() for s in (".png", ".pdf", "_residual.png", "_residual.pdf"))


def test_interrupted_sweep_resumes_from_the_cache_and_recomputes_a_corrupt_file(cluster, tmp_path):
    counter = tmp_path / "executions.txt"
    task = functools.partial(counting_task, str(counter))
    # "interrupted" run: only the first two points finished
    first = run_sweep(POINTS[:2], TINY, tmp_path, client=cluster, progress=False, task=task, figures=False)
    assert _executions(counter) == sorted((p.a, p.b) for p in POINTS[:2])
    paths = {p: cache_path(tmp_path, p, point_key(p, TINY)) for p in POINTS}
    stamps = {p: paths[p].stat().st_mtime_ns for p in POINTS[:2]}
    counter.unlink()
    resumed = run_sweep(POINTS, TINY, tmp_path, client=cluster, progress=False, task=task, figures=False)
    assert _executions(counter) == [(POINTS[2].a, POINTS[2].b)], "cached points were recomputed"
    assert set(resumed.cached) == set(POINTS[:2]) and resumed.computed == (POINTS[2],)
    assert all(paths[p].stat().st_mtime_ns == stamps[p] for p in POINTS[:2]), "a cached file was rewritten"
    assert resumed.records[POINTS[0]]["finished_at"] == first.records[POINTS[0]]["finished_at"]
    # a corrupt file (truncated JSON) and a stale one (wrong key inside) are recomputed, the rest reused
    paths[POINTS[0]].write_text(paths[POINTS[0]].read_text()[:40])
    stale = json.loads(paths[POINTS[1]].read_text())
    stale["key"] = "0" * 16
    paths[POINTS[1]].write_text(json.dumps(stale))
    counter.unlink()
    again = run_sweep(POINTS, TINY, tmp_path, client=cluster, progress=False, task=task, figures=False)
    assert _executions(counter) == sorted((p.a, p.b) for p in POINTS[:2])
    assert again.cached == (POINTS[2],)
    assert json.loads(paths[POINTS[0]].read_text())["key"] == point_key(POINTS[0], TINY)


def test_cli_runs_on_an_existing_scheduler(cluster, tmp_path, capsys):
    address = cluster.scheduler.address
    argv = ["sweep", "--scheduler", address, "--a", "2", "--b", "3,4", "--steps", "40,80,160", "--reach", "0.5",
            "--max-features", "48", "--out", str(tmp_path), "--no-figures", "--no-progress"]
    code = main(argv)
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, captured.err
    assert "Computed 2 points, 0 from the cache; 2 workers" in out
    assert len(list((tmp_path / "points").glob("*.json"))) == 2
    table_lines = (tmp_path / "phase_diagram.csv").read_text().count("\n")
    assert "| zeta_opt | `zeta_T_optimal_schedule` |" in out
    # the same command again: everything from the cache, the same table
    assert main(argv) == 0
    again = capsys.readouterr().out
    assert "Computed 0 points, 2 from the cache" in again
    assert (tmp_path / "phase_diagram.csv").read_text().count("\n") == table_lines


def test_experiment_is_registered_and_turns_rows_into_claims(cluster, tmp_path):
    assert "plrf_phase_diagram" in experiments.names()
    from lrwb.experiments.plrf_phase_diagram import plrf_phase_diagram

    result = plrf_phase_diagram(tmp_path, points=POINTS[:1], settings=TINY, scheduler=cluster.scheduler.address)
    measured = [r for r in result.run.rows if r.fitted is not None]
    assert len(result.claims) == len(measured) >= 4
    for claim, row in zip(result.claims, measured):
        assert claim.derived == row.derived and claim.measured == row.fitted
        assert claim.passed == (abs(row.fitted - row.derived) <= 0.05)  # conventions.md: ±0.05 on exponents


def test_unreachable_scheduler_fails_fast_with_the_address(tmp_path):
    # port 9 (discard) on localhost: nothing listens, so the connection is refused until the timeout
    address = "tcp://127.0.0.1:9"
    start = time.perf_counter()
    with pytest.raises(SchedulerUnreachable, match="127.0.0.1:9"):
        connect(address, timeout=1.0)
    assert time.perf_counter() - start < 15  # 1 s timeout plus Dask's retry back-off, far below the 30 s default
    # a fresh process, as a user runs it: stderr must hold exactly one line (no traceback, no Dask log noise)
    proc = subprocess.run([sys.executable, "-c", "import sys; from lrwb.app.cli import main; sys.exit(main())",
                           "sweep", "--scheduler", address,
                           "--connect-timeout", "1", "--out", str(tmp_path), "--a", "2", "--b", "3"],
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("lrwb sweep: error:") and address in lines[0], proc.stderr


@pytest.mark.parametrize("argv, expected", [
    (["--a", "1.0"], "a = 1.0"),
    (["--a", "2", "--b", "0.5"], "b = 0.5"),
    (["--a", ""], "--a is empty"),
    (["--b", "x,y"], "--b 'x,y'"),
    (["--steps", "100,50,200"], "horizons"),
    (["--workers", "0"], "--workers = 0"),
])
def test_bad_inputs_exit_2_with_one_line(argv, expected, tmp_path, capsys):
    assert main(["sweep", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err


def test_grid_validation_and_parsing():
    with pytest.raises(ValueError, match="empty grid"):
        product_grid([], [2.0])
    with pytest.raises(ValueError, match="empty grid"):
        run_sweep([], TINY, "unused")
    with pytest.raises(ValueError, match=r"a = 1 is outside.*> 1"):
        check_point(1, 2)
    with pytest.raises(ValueError, match="b = nan"):
        check_point(2, float("nan"))
    values = parse_values("1.1:3:3", "a")
    assert values[0] == pytest.approx(1.1) and values[-1] == pytest.approx(3.0)
    assert values[1] == pytest.approx(1 + np.sqrt(0.1 * 2.0))  # geometric in a − 1
    assert len(product_grid([2, 2.0, 3], [3])) == 2  # duplicates dropped


def test_features_make_the_tail_unreachable():
    s = SweepSettings()
    for b in (1.25, 2.0, 5.0):
        n = features_for(b, s)
        # λ_N η_max T_max ≤ reach unless clipped at min_features (then it is smaller still)
        assert n ** -b * s.eta_max * s.horizons[-1] <= s.reach * (1 + 1e-12)
        assert n == s.min_features or (n - 1) ** -b * s.eta_max * s.horizons[-1] > s.reach


def test_fits_recover_exact_power_laws():
    t = np.array([100.0, 200.0, 400.0, 800.0])
    record = {"horizons": t.tolist(), "phase": "hard", "optimal_final_loss": (2 * t ** -0.4).tolist(),
              "constant_final_loss": (3 * t ** -0.3).tolist(), "constant_lr": (0.5 * t ** -0.2).tolist(),
              "optimal_mid_lr": [1.0] * 4, "anneal_start": (t - 2 * t ** 0.7).tolist(), "kappa": 0.8}
    fits = fitted_exponents(record)
    for q, value in (("zeta_opt", 0.4), ("zeta_const", 0.3), ("xi_const", 0.2), ("anneal_length", 0.7)):
        assert fits[q].value == pytest.approx(value, abs=1e-9), q
        np.testing.assert_allclose(fits[q].local, value, atol=1e-9)
    assert fits["kappa"] == Measurement(0.8)
    record["anneal_start"][0] = -1  # no plateau at one horizon: reported, not fitted
    assert fitted_exponents(record)["anneal_length"].value is None
    record.update(phase="easy", optimal_mid_lr=[2.0] * 4)  # at the cap η_max = 2 everywhere: not a measurement
    assert fitted_exponents(record, eta_max=2.0)["xi_collapse"].value is None
    assert fitted_exponents(record, eta_max=4.0)["xi_collapse"].value == pytest.approx(0.0, abs=1e-12)
    assert trend((0.30, 0.32, 0.36), 0.4, 0.05) == "towards"
    assert trend((0.36, 0.32, 0.30), 0.4, 0.05) == "away"
    assert trend((0.36, 0.37, 0.365), 0.4, 0.05) == "flat"


def test_derived_values_follow_the_regimes():
    easy, hard = derived_exponents(3.5, 2.0), derived_exponents(3.5, 5.0)
    assert "xi_collapse" in easy and "anneal_length" not in easy
    assert "anneal_length" in hard and "xi_collapse" not in hard
    boundary = derived_exponents(2.0, 2.0)  # a = b is counted easy (conventions.md)
    assert "xi_collapse" in boundary and boundary["xi_collapse"] == 0.0


def test_table_rows_skip_points_without_records():
    assert table_rows(POINTS, {}, TINY) == []


def test_point_code_version_hashes_every_numerics_module_a_point_runs():
    """A grid point's cache key must change when any numerics module it runs changes. Checked against the
    runner's independent import closure (lrwb.app.reproduce.module_closure): every lrwb.numerics module the
    phase diagram imports, transitively, is hashed, except the I/O and resource helpers (no effect on numbers;
    raw records hold no theory values, the verdicts are recomputed from them)."""
    from lrwb.app.reproduce import module_closure
    from lrwb.numerics.analysis import phase_diagram

    hashed = {path.resolve() for _, path in phase_diagram.code_files()}
    closure = module_closure("lrwb.numerics.analysis.phase_diagram")
    exempt = {"lrwb.numerics", "lrwb.numerics.io", "lrwb.numerics.resources"}
    missing = [name for name, path in closure.items()
               if name.startswith("lrwb.numerics") and name not in exempt and path.resolve() not in hashed]
    assert not missing
    assert any(label.endswith("numpy_engine.py") for label, _ in phase_diagram.code_files())
