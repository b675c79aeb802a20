"""Shared test fixtures.

``backend_name`` runs a test once per backend (numpy, numba, cupy). Where no
GPU is usable, the cupy backend runs on the CPU through the stand-in for
CuPy (``minigan/kernels/fake_cupy.py``: its CUDA kernels execute in a C++ loop
through the host harness), so its code runs on every machine with a C++
compiler; without one, its cases skip saying so. The run's header says which. Test modules that must hold
on every backend say ``pytestmark = pytest.mark.usefixtures("backend_name")``
and build their inputs with :func:`arr`.
"""

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import minigan
from minigan import backend

# The backend fixture only flips a global switch, so reusing it across
# hypothesis examples is safe; numba compiles on first use, so no deadline.
settings.register_profile(
    "minigan", max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile("minigan")


def _real_gpu():
    """Whether real CuPy works here (then the cupy tests use the GPU): a device,
    one tiny kernel compiled and run, one matrix product. Where CuPy is
    installed but fails, one line says why the stand-in is used instead."""
    try:
        import cupy
    except ImportError:
        return False
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no device")
        a = cupy.ElementwiseKernel("T x", "T y", "y = x + 1", "minigan_probe")(
            cupy.ones((4, 4), cupy.float32))
        float((a @ a).sum())
        return True
    except Exception as e:
        sys.stderr.write(f"CuPy is installed but no GPU works here ({type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else ''}); the cupy tests use the "
                         f"CPU stand-in\n")
        return False


if not backend.fake_cupy_requested() and not _real_gpu():
    os.environ["MINIGAN_FAKE_CUPY"] = "1"          # this process only: the CPU stand-in


def pytest_report_header(config):
    if backend.fake_cupy_requested():
        return ("cupy backend: on the CPU, through the stand-in for CuPy and the host harness "
                "(no GPU in use)")
    return "cupy backend: on the GPU"


def _why_not(name):
    """Why backend ``name`` cannot run here ("" when it can)."""
    try:
        with backend.use_backend(name):
            return ""
    except RuntimeError as e:
        return str(e)


@pytest.fixture(autouse=True)
def _restore_backend():
    """Whatever a test switches to (the trainer sets its own), the next test
    starts on the backend that was active before."""
    before = backend.get_backend()
    yield
    backend.set_backend(before)


@pytest.fixture(params=list(backend.BACKENDS))
def backend_name(request):
    name = request.param
    why = _why_not(name)
    if why:
        pytest.skip(f"backend {name} cannot run here: {why}")
    with backend.use_backend(name):
        yield name


def arr(a, dtype=None):
    """A host array as an array of the active backend."""
    return backend.asarray(np.asarray(a), dtype=dtype)


def host(a):
    return backend.to_numpy(a)


WORST_GRADCHECK = {}   # backend -> worst relative error seen: printed after the run


def record_gradcheck(errors):
    """Remember the worst gradient-check error per backend for the summary."""
    name = backend.get_backend()
    WORST_GRADCHECK[name] = max(WORST_GRADCHECK.get(name, 0.0), *errors.values())


def pytest_terminal_summary(terminalreporter):
    for name, err in sorted(WORST_GRADCHECK.items()):
        terminalreporter.write_line(f"worst gradient-check relative error on {name}: {err:.2e}")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


__all__ = ["arr", "host", "minigan"]
