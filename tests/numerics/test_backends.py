"""Back-end detection and choice (lrwb.numerics.backends): the one resolver, devices, the fallback warning."""

from __future__ import annotations

import doctest
import subprocess
import sys
import warnings

import pytest

from lrwb.numerics import backends
from lrwb.numerics.backends import DeviceFallbackWarning, check_device, resolve_backend

ALLOWED = ("auto", "numba", "numpy")


def test_doctests():
    result = doctest.testmod(backends)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("numba, expected", [(True, "numba"), (False, "numpy")])
def test_auto_picks_numba_only_when_present(numba, expected):
    assert resolve_backend("auto", ALLOWED, numba=numba) == expected
    assert resolve_backend("numpy", ALLOWED, numba=numba) == "numpy"


def test_default_flag_is_the_detected_one():
    assert backends.HAVE_NUMBA is backends.have_numba()
    assert resolve_backend("auto", ALLOWED) == ("numba" if backends.HAVE_NUMBA else "numpy")


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"backend = 'jax' must be one of auto, numba, numpy"):
        resolve_backend("jax", ALLOWED)
    with pytest.raises(ValueError, match="must be one of numpy, torch"):
        resolve_backend("auto", ("numpy", "torch"))  # "auto" only where the caller accepts it


def test_numba_without_numba_says_how_to_install():
    with pytest.raises(ValueError, match=r"needs numba \(pip install 'lr-workbench\[fast\]'\)"):
        resolve_backend("numba", ALLOWED, numba=False)


@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda:1"])
def test_valid_devices(device):
    assert check_device(device) == device


@pytest.mark.parametrize("device", ["tpu", "cudax", "", "gpu:0"])
def test_bad_device_names_the_valid_forms(device):
    with pytest.raises(ValueError, match="must be cpu, cuda or cuda:INDEX"):
        check_device(device)


def test_missing_torch_names_install_and_alternative(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(ImportError, match=r"pip install 'lr-workbench\[torch\]' \(or use backend='numpy'\)"):
        backends.import_torch()


def test_cuda_without_cuda_falls_back_with_a_warning(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        device = backends.torch_device(torch, "cuda:0", stacklevel=1)
    assert device.type == "cpu"
    assert [w.category for w in caught] == [DeviceFallbackWarning]
    assert caught[0].filename == __file__  # stacklevel=1: the warning points at the caller (here, this test)


def test_old_import_path_of_the_warning_still_works():
    from lrwb.numerics.simulate import DeviceFallbackWarning as from_simulate

    assert from_simulate is DeviceFallbackWarning


def test_no_import_cycle_and_no_eager_numba():
    # In a fresh interpreter: the torch engine no longer imports the simulator (the old cycle
    # dynamics → torch engine → simulate → dynamics), and the simulator does not import numba.
    code = "import sys; import lrwb.numerics.dynamics.torch_engine; assert 'lrwb.numerics.simulate' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
    code = "import sys; import lrwb.numerics.simulate; assert 'numba' not in sys.modules, 'simulate imported numba'"
    subprocess.run([sys.executable, "-c", code], check=True)
