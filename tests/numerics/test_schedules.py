"""Schedules: hand-computed values of every family, the grammar (round trip and errors), curve files."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from lrwb.numerics import schedules as S

# Values below are closed forms evaluated by hand; float64 evaluation of the same formula differs by a few
# ulps at most, so rtol = 1e-12 separates "same formula" from any real convention change (e.g. t/(T-1)
# instead of t/T moves values by ~1/T >= 1e-4 at these horizons).
RTOL = 1e-12


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=1e-15)


# ---------------------------------------------------------------------------------------------- families


def test_constant():
    values = S.constant(0.3).values(5)
    assert values.dtype == np.float64 and values.shape == (5,)
    close(values, [0.3] * 5)


def test_power_law():
    s = S.power(2.0, 0.5)
    # 2·(1+t)^(-1/2): t = 0 → 2, t = 3 → 1, t = 8 → 2/3
    close(s.values(9)[[0, 3, 8]], [2.0, 1.0, 2.0 / 3.0])
    # horizon-free: same η_t whatever T
    close(s.values(100)[:9], s.values(9))
    close(S.power(0.7, 0.0).values(4), [0.7] * 4)


def test_cosine_pinned():
    v = S.cosine(1.0, 0.1).values(100)
    close(v[0], 1.0)
    close(v[50], 0.1 + 0.9 * 0.5)  # cos(π/2) = 0
    close(v[25], 0.1 + 0.9 * 0.5 * (1 + math.sqrt(2) / 2))
    close(v[99], 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.99)))
    assert v[-1] > 0.1  # t/T convention: the floor is reached at t = T, not among the T values
    assert np.all(np.diff(v) < 0)


def test_linear_pinned_t_over_T():
    v = S.linear(1.0, 0.0).values(10)
    close(v[[0, 5, 9]], [1.0, 0.5, 0.1])
    close(S.linear(2.0, 1.0).values(4), [2.0, 1.75, 1.5, 1.25])


def test_exp_decay_pinned():
    v = S.exp_decay(1.0, 0.01).values(100)
    close(v[[0, 50]], [1.0, 0.1])
    close(v[99], 0.01 ** 0.99)


def test_wsd_exp_shape_start_and_end():
    v = S.wsd(1.0, 0.2, 0.01).values(100)
    close(v[:81], 1.0)  # stable through the first decay step (x = 0 there)
    close(v[90], 0.1)  # half-way down (in log) after 10 of 20 decay steps
    close(v[99], 0.01 ** (19 / 20))


@pytest.mark.parametrize(
    "shape, kwargs, t, expected",
    [
        ("linear", {}, 90, 0.5),  # x = 1/2
        ("sqrt", {}, 85, 0.5),  # x = 1/4, 1 − √x = 1/2
        ("power", {}, 90, 0.25),  # default p = 2: (1 − 1/2)² = 1/4
        ("power", {"power": 3.0}, 90, 0.125),
    ],
)
def test_wsd_shapes_to_zero(shape, kwargs, t, expected):
    v = S.wsd(1.0, 0.2, 0.0, shape=shape, **kwargs).values(100)
    close(v[79:81], 1.0)
    close(v[t], expected)


def test_wsd_with_floor_and_full_fraction():
    v = S.wsd(1.0, 0.5, 0.2, shape="linear").values(10)
    close(v[[4, 5, 7]], [1.0, 1.0, 0.2 + 0.8 * (1 - 2 / 5)])
    # fraction 1 is a pure exponential decay
    close(S.wsd(1.0, 1.0, 0.01).values(37), S.exp_decay(1.0, 0.01).values(37))


def test_wsd_decay_start_is_exact_despite_float_fraction():
    # 20·(1 − 0.8) = 3.999999999999999 in float64; unsnapped, t = 4 would sit at x ≈ 1e-16 and the sqrt
    # cooldown would give 1 − 1e-8 there. The decay must start at t = 4 with η = PEAK exactly.
    v = S.wsd(1.0, 0.8, 0.0, shape="sqrt").values(20)
    assert np.all(v[:5] == 1.0)
    close(v[8], 1 - math.sqrt(4 / 16))


def test_step811():
    v = S.step811(1.0).values(1000)
    close(v[[0, 799]], 1.0)
    close(v[[800, 899]], 1 / math.sqrt(10))
    close(v[[900, 999]], 0.1)
    # T = 15: 0.8T = 12, 0.9T = 13.5 → drops at the first t >= 12 and t >= 13.5
    v15 = S.step811(2.0).values(15)
    close(v15[[11, 12, 13, 14]], [2.0, 2 / math.sqrt(10), 2 / math.sqrt(10), 0.2])


def test_cyclic_triangle():
    v = S.cyclic(1.0, 0.0, 10).values(21)
    close(v[[0, 2, 5, 7, 10, 15, 20]], [0.0, 0.4, 1.0, 0.6, 0.0, 1.0, 0.0])
    close(S.cyclic(1.0, 0.5, 4).values(4), [0.5, 0.75, 1.0, 0.75])


def test_warmup_ramp_then_shifted_base():
    s = S.with_warmup(S.constant(1.0), 10)
    close(s.values(20)[[0, 5, 9, 10, 19]], [0.0, 0.5, 0.9, 1.0, 1.0])
    s = S.with_warmup(S.constant(2.0), 10, start_fraction=0.1)
    close(s.values(20)[[0, 5]], [0.2, 2.0 * (0.1 + 0.9 * 0.5)])
    # the base runs over the remaining T − W steps: cosine(t − W; T − W)
    v = S.parse_schedule("cosine:1,0+warmup=10").values(110)
    close(v[[10, 60]], [1.0, 0.5])
    close(v[10:], S.cosine(1.0, 0.0).values(100))
    w = S.parse_schedule("wsd:1,0.5,0,shape=linear+warmup=4").values(24)
    close(w[4:], S.wsd(1.0, 0.5, 0.0, shape="linear").values(20))


def test_warmup_zero_is_a_no_op_and_keeps_its_spec():
    s = S.with_warmup(S.cosine(1.0, 0.1), 0)
    assert s.spec == "cosine:1,0.1+warmup=0"
    close(s.values(50), S.cosine(1.0, 0.1).values(50))


def test_peak_attribute():
    assert S.parse_schedule("power:0.8,0.3").peak == 0.8
    assert S.parse_schedule("cyclic:1,0.2,5").peak == 1.0
    assert S.parse_schedule("wsd:0.5,0.1,0.01+warmup=20").peak == 0.5
    assert S.from_array([0.1, 0.4, 0.2]).peak == 0.4


# ---------------------------------------------------------------------------------------------- grammar

ROUND_TRIP_SPECS = [
    "constant:0.5",
    "power:1,0.5",
    "cosine:1,0.1",
    "linear:0.3,0",
    "exp:1,0.001",
    "wsd:1,0.2,0.01",
    "wsd:1,0.2,0,shape=linear",
    "wsd:1,0.2,0,shape=sqrt",
    "wsd:1,0.2,0,shape=power,power=3",
    "step811:0.25",
    "cyclic:1,0.1,7.5",
    "cosine:1,0+warmup=50",
    "exp:1,0.01+warmup=5,from=0.25",
    "constant:1e-05",
]


@pytest.mark.parametrize("spec", ROUND_TRIP_SPECS)
def test_spec_round_trip(spec):
    s = S.parse_schedule(spec)
    assert s.spec == spec  # these are already canonical
    again = S.parse_schedule(s.spec)
    assert again == s and again.spec == s.spec
    assert np.array_equal(again.values(120), s.values(120))


def test_canonical_spec_normalises_numbers_and_defaults():
    assert S.parse_schedule(" cosine: 1.0 , 0.10 ").spec == "cosine:1,0.1"
    assert S.parse_schedule("wsd:1,0.2,0.01,shape=exp").spec == "wsd:1,0.2,0.01"
    assert S.parse_schedule("wsd:1,0.2,0,shape=power").spec == "wsd:1,0.2,0,shape=power,power=2"
    assert S.parse_schedule("constant:1+warmup=3,from=0").spec == "constant:1+warmup=3"
    assert S.parse_schedule("exp:1e+2,1E-1").spec == "exp:100,0.1"


def test_factories_and_parser_agree():
    assert S.parse_schedule("wsd:1,0.2,0,shape=sqrt") == S.wsd(1, 0.2, 0, shape="sqrt")
    assert S.parse_schedule("exp:1,0.01") == S.exp_decay(1, 0.01)
    assert S.parse_schedule("step811:1+warmup=7,from=0.5") == S.with_warmup(S.step811(1), 7, 0.5)


@pytest.mark.parametrize(
    "spec, fragments",
    [
        ("foo:1", ["unknown schedule family 'foo'", "constant, power, cosine", "cyclic:PEAK,FLOOR,PERIOD"]),
        ("array:T=3", ["unknown schedule family 'array'", "write_schedule_csv"]),
        ("cosine:1", ["cosine expects 2 numbers", "cosine:PEAK,FLOOR"]),
        ("cosine:1,0,5", ["cosine expects 2 numbers", "cosine:PEAK,FLOOR"]),
        ("constant", ["constant expects 1 number", "constant:ETA"]),
        ("wsd:1,0.2", ["wsd expects 3 numbers", "wsd:PEAK,FRACTION,FINAL"]),
        ("cosine:1,", ["cosine expects 2 numbers"]),
        ("cosine:abc,0", ["PEAK = 'abc' is not a number", "cosine:PEAK,FLOOR"]),
        ("cosine:1_0,0", ["PEAK = '1_0' is not a number"]),
        ("constant:nan", ["ETA = 'nan' is not finite"]),
        ("constant:inf", ["'inf' is not finite"]),
        ("constant:1e999", ["'1e999' is not finite"]),
        ("constant:-0.1", ["ETA = -0.1 is a negative learning rate", ">= 0"]),
        ("power:-1,0.5", ["ETA0 = -1 is a negative"]),
        ("power:1,-0.5", ["CHI = -0.5 is negative", ">= 0"]),
        ("cosine:1,2", ["FLOOR = 2 exceeds PEAK = 1", "0 <= FLOOR <= PEAK"]),
        ("linear:0.5,0.6", ["FLOOR = 0.6 exceeds PEAK = 0.5"]),
        ("cyclic:1,2,10", ["FLOOR = 2 exceeds PEAK = 1"]),
        ("exp:1,0", ["FINAL = 0 must be > 0", "0 < FINAL <= PEAK"]),
        ("exp:1,-0.1", ["FINAL = -0.1 is a negative"]),
        ("exp:1,2", ["FINAL = 2 exceeds PEAK = 1", "0 < FINAL <= PEAK"]),
        ("wsd:1,0,0.1", ["FRACTION = 0 is outside (0, 1]"]),
        ("wsd:1,1.5,0.1", ["FRACTION = 1.5 is outside (0, 1]"]),
        ("wsd:1,0.2,0", ["FINAL = 0 must be > 0 for the exp cooldown", "shape=linear|sqrt|power"]),
        ("wsd:1,0.2,2,shape=linear", ["FINAL = 2 exceeds PEAK = 1"]),
        ("wsd:1,0.2,0,shape=cubic", ["shape = 'cubic' is unknown", "exp, linear, sqrt, power"]),
        ("wsd:1,0.2,0,shape=linear,power=2", ["power = 2 is only valid with shape=power"]),
        ("wsd:1,0.2,0,shape=power,power=0", ["power = 0 must be > 0"]),
        ("wsd:1,0.2,0.1,tilt=3", ["unknown option 'tilt=3'", "shape="]),
        ("cosine:1,0,shape=linear", ["unknown option 'shape=linear'", "no options"]),
        ("cyclic:1,0,0.5", ["PERIOD = 0.5 must be >= 1"]),
        ("cosine:1,0+warmup=-5", ["warmup W = '-5'", "integer number of steps >= 0"]),
        ("cosine:1,0+warmup=2.5", ["warmup W = '2.5'"]),
        ("cosine:1,0+warmup=5,from=1.5", ["from F = 1.5 is outside [0, 1]"]),
        ("cosine:1,0+warmup=5,from=-0.1", ["from F = -0.1 is outside [0, 1]"]),
        ("cosine:1,0+warmup=5,start=0.1", ["unknown warmup option 'start=0.1'", "+warmup=W[,from=F]"]),
        ("cosine:1,0+decay=5", ["unknown modifier '+decay=5'", "+warmup=W[,from=F]"]),
        ("cosine:1,0+warmup=5+warmup=6", ["more than one +warmup"]),
        ("file:", ["missing PATH", "file:PATH.csv"]),
        ("file:/nonexistent/dir/lr.csv", ["'/nonexistent/dir/lr.csv' not found"]),
    ],
)
def test_parse_errors_name_value_and_range(spec, fragments):
    with pytest.raises(ValueError) as err:
        S.parse_schedule(spec)
    for fragment in fragments:
        assert fragment in str(err.value), (fragment, str(err.value))


def test_factory_errors():
    with pytest.raises(ValueError, match="not finite"):
        S.cosine(float("nan"), 0.0)
    with pytest.raises(ValueError, match="not a number"):
        S.constant("0.1")
    with pytest.raises(ValueError, match=r"W = -1 must be an integer number of steps >= 0"):
        S.with_warmup(S.constant(1.0), -1)
    with pytest.raises(ValueError, match="already has a warmup"):
        S.with_warmup(S.with_warmup(S.constant(1.0), 2), 3)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        S.from_array(np.ones((2, 3)))
    with pytest.raises(ValueError, match="step 2 is -0.5"):
        S.from_array([0.1, 0.2, -0.5])


def test_horizon_errors():
    s = S.cosine(1.0, 0.0)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="steps"):
            s.values(bad)
    with pytest.raises(ValueError, match=r"warmup W = 10 must be shorter than the horizon T = 10"):
        S.parse_schedule("cosine:1,0+warmup=10").values(10)
    with pytest.raises(ValueError, match=r"defined for exactly T = 3 steps, got T = 4"):
        S.from_array([0.3, 0.2, 0.1]).values(4)


# ---------------------------------------------------------------------------------------------- vectorisation


def test_call_is_vectorised_and_matches_values():
    for spec in ROUND_TRIP_SPECS:
        s = S.parse_schedule(spec)
        T = 200
        v = s.values(T)
        t = np.array([[0, 1, 57], [199, 150, 3]])
        out = s(t, T)
        assert out.shape == (2, 3)
        assert np.array_equal(out, v[t])
        scalar = s(57, T)
        assert np.ndim(scalar) == 0 and scalar == v[57]
        assert s(np.array([3.0, 4.0]), T).tolist() == v[[3, 4]].tolist()


def test_call_rejects_bad_steps():
    s = S.constant(1.0)
    with pytest.raises(ValueError, match=r"t = 10 is outside 0 <= t < T = 10"):
        s(np.arange(11), 10)
    with pytest.raises(ValueError, match=r"t = -1 is outside"):
        s(-1, 10)
    with pytest.raises(ValueError, match=r"t = 1.5 is not an integer"):
        s(1.5, 10)


def test_schedule_matrix_batches_specs_schedules_and_arrays():
    T = 50
    items = ["cosine:1,0", S.step811(0.5), np.linspace(1.0, 0.0, T, endpoint=False)]
    m = S.schedule_matrix(items, T)
    assert m.shape == (3, T) and m.dtype == np.float64
    close(m[0], S.cosine(1.0, 0.0).values(T))
    close(m[1], S.step811(0.5).values(T))
    close(m[2], np.linspace(1.0, 0.0, T, endpoint=False))
    assert S.schedule_matrix("constant:0.2", 4).shape == (1, 4)
    assert S.schedule_matrix([], 4).shape == (0, 4)


def test_check_learning_rates_names_first_bad_step():
    close(S.check_learning_rates([0.1, 0.0]), [0.1, 0.0])
    with pytest.raises(ValueError, match=r"at step 2 is nan \(not finite\)"):
        S.check_learning_rates([0.1, 0.2, np.nan, -1.0])
    with pytest.raises(ValueError, match=r"at step 1 is -0.1 \(negative\)"):
        S.check_learning_rates([0.1, -0.1])
    with pytest.raises(ValueError, match=r"schedule 1 at step 0 is inf"):
        S.check_learning_rates([[0.1, 0.2], [np.inf, 0.1]])


def test_schedules_pickle_and_hash():
    for spec in ROUND_TRIP_SPECS:
        s = S.parse_schedule(spec)
        back = pickle.loads(pickle.dumps(s))
        assert back == s and hash(back) == hash(s)
        assert np.array_equal(back.values(64), s.values(64))
    a = S.from_array([0.1, 0.2])
    assert a == S.from_array([0.1, 0.2]) and a != S.from_array([0.1, 0.3])


# ---------------------------------------------------------------------------------------------- files


def test_file_round_trip(tmp_path):
    lr = S.parse_schedule("wsd:1,0.3,0,shape=sqrt+warmup=5").values(40)
    path = S.write_schedule_csv(tmp_path / "sub" / "lr.csv", lr)
    lines = path.read_text().splitlines()
    assert lines[0] == "step,lr" and len(lines) == 1 + 40 + 1
    assert lines[1] == "0,0.0" and lines[-1] == "40,"  # the conventions' closing row
    assert np.array_equal(S.read_schedule_csv(path), lr)  # repr round-trips bit for bit
    s = S.parse_schedule(f"file:{path}")
    assert s.spec == f"file:{path}" and s.name == "file" and s.length == 40
    assert np.array_equal(s.values(40), lr)
    assert S.parse_schedule(s.spec) == s
    with pytest.raises(ValueError, match=r"defined for exactly T = 40 steps, got T = 41"):
        s.values(41)
    # a warmup in front: the file is the base over T − W steps
    w = S.parse_schedule(f"file:{path}+warmup=10,from=0.5")
    assert w.length == 50
    close(w.values(50)[10:], lr)
    close(w.values(50)[0], 0.5 * lr.max())


def test_file_without_closing_row_and_extra_columns(tmp_path):
    path = tmp_path / "lr.csv"
    path.write_text("lr,step,loss\n0.5,0,3.2\n0.25,1,3.1\n")
    close(S.from_file(path).values(2), [0.5, 0.25])


def test_file_path_with_plus_sign(tmp_path):
    path = S.write_schedule_csv(tmp_path / "a+b.csv", [0.3, 0.2])
    assert np.array_equal(S.parse_schedule(f"file:{path}").values(2), [0.3, 0.2])
    assert S.parse_schedule(f"file:{path}+warmup=1").values(3)[1] == 0.3


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("", ["is empty", "step,lr"]),
        ("step,eta\n0,0.1\n", ["missing column 'lr'", "expected columns step,lr"]),
        ("t,lr\n0,0.1\n", ["missing column 'step'"]),
        ("step,lr\n1,0.1\n2,0.1\n", ["first step is 1", "start at 0"]),
        ("step,lr\n0,0.1\n1,0.1\n1,0.1\n", ["line 4: step 1 does not increase", "previous step 1"]),
        ("step,lr\n0,0.1\n2,0.1\n", ["step 2 follows step 0", "consecutive"]),
        ("step,lr\n0,0.1\nx,0.1\n", ["step = 'x' is not an integer"]),
        ("step,lr\n0,0.1\n1,nan\n2,\n", ["lr = 'nan' at step 1 is not finite"]),
        ("step,lr\n0,0.1\n1,-0.2\n", ["lr = -0.2 at step 1 is negative", ">= 0"]),
        ("step,lr\n0,0.1\n1,abc\n", ["lr = 'abc' at step 1 is not a number"]),
        ("step,lr\n0,0.1\n1,\n2,0.1\n", ["missing lr at step 1", "only the last row"]),
        ("step,lr\n0,\n", ["holds no learning rates"]),
    ],
)
def test_malformed_files(tmp_path, text, fragments):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        S.parse_schedule(f"file:{path}")
    for fragment in fragments:
        assert fragment in str(err.value), (fragment, str(err.value))
    assert str(path) in str(err.value)


def test_write_rejects_bad_learning_rates(tmp_path):
    with pytest.raises(ValueError, match="step 1 is nan"):
        S.write_schedule_csv(tmp_path / "x.csv", [0.1, np.nan])
    assert not (tmp_path / "x.csv").exists()


# ---------------------------------------------------------------------------------------------- family records


def _direct(spec: str, T: int) -> np.ndarray:
    """η_t of the few specs below, written out from conventions.md with plain NumPy (no schedules code).

    The operations are those of each formula as documented, in the same order, so the parser's values must
    match bit for bit (np.array_equal, no tolerance): the family records changed how specs are parsed, never
    what is computed.
    """
    t = np.arange(T, dtype=np.int64)
    table = {
        "constant:0.5": lambda: np.full(T, 0.5),
        "power:1,0.5": lambda: 1.0 * (1.0 + t) ** (-0.5),
        "cosine:1,0.1": lambda: 0.1 + (1.0 - 0.1) * 0.5 * (1.0 + np.cos(np.pi * t / T)),
        "linear:0.3,0": lambda: 0.3 + (0.0 - 0.3) * (t / T),
        "exp:1,0.001": lambda: 1.0 * (0.001 / 1.0) ** (t / T),
        # decay starts at s = T·(1 − 0.2) = 0.8 T (an integer at the horizons used below)
        "wsd:1,0.2,0.01": lambda: 1.0 * (0.01 / 1.0) ** np.clip((t - 0.8 * T) / (T - 0.8 * T), 0.0, None),
        "wsd:1,0.2,0,shape=linear":
            lambda: 0.0 + (1.0 - 0.0) * (1.0 - np.clip((t - 0.8 * T) / (T - 0.8 * T), 0.0, None)),
        "step811:0.25": lambda: np.where(10 * t < 8 * T, 0.25,
                                         np.where(10 * t < 9 * T, 0.25 / math.sqrt(10.0), 0.25 / 10.0)),
        "cyclic:1,0.1,7.5": lambda: 0.1 + (1.0 - 0.1) * (1.0 - np.abs(2.0 * (np.mod(t, 7.5) / 7.5) - 1.0)),
    }
    return table[spec]()


@pytest.mark.parametrize("spec", ["constant:0.5", "power:1,0.5", "cosine:1,0.1", "linear:0.3,0", "exp:1,0.001",
                                  "wsd:1,0.2,0.01", "wsd:1,0.2,0,shape=linear", "step811:0.25", "cyclic:1,0.1,7.5"])
@pytest.mark.parametrize("T", [10, 100, 1000])
def test_parsed_values_equal_the_direct_formula_bit_for_bit(spec, T):
    assert np.array_equal(S.parse_schedule(spec).values(T), _direct(spec, T))


def test_warmup_equals_the_direct_ramp_then_shifted_base_bit_for_bit():
    T, W = 100, 10
    t = np.arange(W, dtype=np.int64)
    ramp = 1.0 * (0.25 + (1.0 - 0.25) * t / W)
    expected = np.concatenate([ramp, _direct("cosine:1,0.1", T - W)])
    assert np.array_equal(S.parse_schedule("cosine:1,0.1+warmup=10,from=0.25").values(T), expected)


def test_every_family_is_one_record_and_the_tables_derive_from_it():
    records = S.SCHEDULE_FAMILIES
    assert list(records) == ["constant", "power", "cosine", "linear", "exp", "wsd", "step811", "cyclic", "file"]
    assert S.FAMILIES == {name: record.form for name, record in records.items()}
    assert S.FAMILIES["wsd"] == "wsd:PEAK,FRACTION,FINAL[,shape=exp|linear|sqrt|power][,power=P]"
    assert S.WARMUP_FORM == S.WARMUP.form == "+warmup=W[,from=F]"
    for name, record in records.items():
        assert record.name == name and record.rule and callable(record.factory)
        if not record.takes_path:  # the factory takes the positional parameters in grammar order
            assert S.parse_schedule(f"{name}:" + ",".join(["1"] * len(record.params))) == record.factory(
                *[1.0] * len(record.params))


def test_a_new_family_is_one_record(monkeypatch):
    """Adding a record is all the parser needs: arity, form and option errors follow from it."""
    half = S.ScheduleFamily("half", ("PEAK",), lambda peak: S.constant(peak / 2), "PEAK >= 0")
    monkeypatch.setitem(S.SCHEDULE_FAMILIES, "half", half)
    assert S.parse_schedule("half:1+warmup=2").values(4).tolist() == [0.0, 0.25, 0.5, 0.5]
    with pytest.raises(ValueError, match=r"half expects 1 number \(half:PEAK\)"):
        S.parse_schedule("half:1,2")
    with pytest.raises(ValueError, match=r"PEAK = 'x' is not a number \(expected half:PEAK\)"):
        S.parse_schedule("half:x")
    with pytest.raises(ValueError, match="half takes no options"):
        S.parse_schedule("half:1,shape=linear")
    with pytest.raises(ValueError, match=r"valid families: constant, .*, file, half \(forms: .* \| half:PEAK,"):
        S.parse_schedule("quarter:1")


def test_entry_points_carry_a_docstring_example():
    """Each public factory / entry point shows its use; tests/test_doctests.py runs every example."""
    import importlib

    module = importlib.import_module("lrwb.numerics.schedules")
    for name in ("constant", "power", "cosine", "linear", "exp_decay", "wsd", "step811", "cyclic", "from_array",
                 "from_file", "with_warmup", "parse_schedule", "as_schedule", "schedule_matrix", "ScheduleFamily"):
        assert ">>>" in (getattr(module, name).__doc__ or ""), name
