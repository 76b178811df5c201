"""Loss-curve data: CSV reader/validator, the multipower and lr-scheduling loaders (real data, read in place)."""

from __future__ import annotations

import numpy as np
import pytest

from lrwb.numerics.lawfit.curves import (MULTIPOWER_WARMUP, TrainingCurve, load_lr_scheduling, load_multipower,
                             lr_scheduling_models, multipower_schedule, read_curves_csv, read_tensorboard,
                             select_lr_scheduling_model, tensorboard_scalars, write_curves_csv)
from tests.tensorboard_events import scalar_event, tfrecord


def test_multipower_schedules_by_hand():
    # values computed by hand from the data README's description
    # the warmup reaches the peak at step 2159 (numpy.linspace(0, 3e−4, 2160) in the MPL authors' code)
    assert multipower_schedule("constant_24000", 3000)[1080] == pytest.approx(3e-4 * 1080 / 2159)
    assert multipower_schedule("constant_24000", 3000)[2159] == 3e-4
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
    folder = shared_data / "multipower/loss_curve_repo/csv_25"
    raw_file = next(p for p in (folder / "wsdcon_9.csv", folder / "wsdcon_9.csv.gz") if p.is_file())
    raw = np.loadtxt(raw_file, delimiter=",", skiprows=1)
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


def test_lr_scheduling_models_split_cosine_from_wsd(shared_data):
    models = lr_scheduling_models(shared_data / "lr-scheduling")
    assert len(models) >= 10
    m = select_lr_scheduling_model(models, "L8H6E384")
    assert m.key == "slimpajama_L8H6E384B50x2"
    assert set(m.fit) == {"cos_lr0.002_T3000_to0.1", "cos_lr0.002_T7000_to0.1", "cos_lr0.002_T10000_to0.1"}
    assert set(m.predict) == {"wsd_lr0.001_T3000_cd0.2_linear", "wsd_lr0.001_T7000_cd0.2_linear",
                              "wsd_lr0.001_T10000_stable"}
    cooldown = m.curves["wsd_lr0.001_T3000_cd0.2_linear"]
    # joined to its base run: logged from just after the warmup, the LR decays linearly over the last 20%
    assert cooldown.steps[0] <= 400 and cooldown.lr[1500] == pytest.approx(1e-3)
    assert cooldown.lr[2700] == pytest.approx(0.5e-3, rel=0.02)
    with pytest.raises(ValueError, match="matches several models"):
        select_lr_scheduling_model(models, "slimpajama")


# ------------------------------------------------------------------------------------------------------
# TensorBoard


def test_masked_crc32c_known_value():
    # CRC-32C("123456789") = 0xE3069283 (the standard check value); masked: rotr 15 + 0xa282ead8
    from lrwb.numerics.lawfit.curves import masked_crc32c

    crc = 0xE3069283
    assert masked_crc32c(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def test_tensorboard_handwritten_event_file(tmp_path):
    run = tmp_path / "run1"
    run.mkdir()
    events = [scalar_event(s, "train/lr", 1e-3) for s in range(0, 100, 10)]
    events += [scalar_event(s, "train/loss", 3.0 - 0.01 * s) for s in range(5, 100, 10)]
    events.append(scalar_event(45, "train/loss", 2.5))  # logged twice: the last value wins
    (run / "events.out.tfevents.1.host").write_bytes(b"".join(tfrecord(e) for e in events))
    scalars = tensorboard_scalars(run)
    assert set(scalars) == {"train/lr", "train/loss"}
    steps, loss = scalars["train/loss"]
    assert steps.tolist() == list(range(5, 100, 10)) and loss[4] == pytest.approx(2.5)
    with pytest.warns(UserWarning, match="interpolating"):
        curve = read_tensorboard(run)
    assert curve.name == "run1" and curve.horizon == 96 and curve.lr[50] == pytest.approx(1e-3)
    # a truncated last record (a writer still running) is dropped with a warning; garbage raises
    data = (run / "events.out.tfevents.1.host").read_bytes()
    (run / "events.out.tfevents.1.host").write_bytes(data[:-7])
    with pytest.warns(UserWarning, match="truncated"):
        assert tensorboard_scalars(run)["train/loss"][0].size == 10
    (run / "events.out.tfevents.1.host").write_bytes(data)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "events.out.tfevents.2.host").write_bytes(b"not an event file at all")
    with pytest.raises(ValueError, match="corrupted TFRecord"):
        tensorboard_scalars(bad)
    with pytest.raises(ValueError, match="no scalar tag 'val/loss'"):
        read_tensorboard(run, loss_tag="val/loss")
    with pytest.raises(FileNotFoundError, match="no TensorBoard event files"):
        tensorboard_scalars(tmp_path)


def test_tensorboard_files_written_by_torch_and_tf2_style_tensors(tmp_path):
    # real writers: torch's SummaryWriter (simple_value) and a TF2-style scalar tensor event built with
    # tensorboard's own protos and EventFileWriter (needs the `tensorboard` package: the test extra)
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from torch.utils.tensorboard import SummaryWriter

    lr = 1e-3 * np.minimum(1.0, (np.arange(200) + 1) / 20)
    with SummaryWriter(str(tmp_path / "torch_run")) as w:
        for t in range(200):
            w.add_scalar("train/lr", float(lr[t]), t)
            if t % 10 == 5:
                w.add_scalar("train/loss", 3.0 - 1e-3 * t, t)
    curve = read_tensorboard(tmp_path / "torch_run", warmup=20)
    assert curve.horizon == 200 and "per-step" in curve.source
    np.testing.assert_allclose(curve.lr, lr, rtol=1e-7)  # stored as float32
    np.testing.assert_allclose(curve.loss, 3.0 - 1e-3 * curve.steps, rtol=1e-7)
    writer = EventFileWriter(str(tmp_path / "tf2_run"))
    for t, value in ((3, 2.5), (7, 2.25)):
        tensor = tensor_pb2.TensorProto(dtype=2, double_val=[value])  # DT_DOUBLE scalar
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="val/loss", tensor=tensor)])
        writer.add_event(event_pb2.Event(step=t, wall_time=0.0, summary=summary))
    writer.close()
    steps, values = tensorboard_scalars(tmp_path / "tf2_run")["val/loss"]
    assert steps.tolist() == [3, 7] and values.tolist() == [2.5, 2.25]


def test_entry_points_carry_a_docstring_example():
    """Each public factory / entry point shows its use; tests/test_doctests.py runs every example."""
    import importlib

    module = importlib.import_module("lrwb.numerics.lawfit.curves")
    for name in ("masked_crc32c",):
        assert ">>>" in (getattr(module, name).__doc__ or ""), name
