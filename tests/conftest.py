"""Shared test fixtures.

``backend_name`` runs a test once per backend (numpy, numba, cupy); cupy
skips cleanly where CuPy or a GPU is missing. Test modules that must hold
on every backend say ``pytestmark = pytest.mark.usefixtures("backend_name")``
and build their inputs with :func:`arr`.
"""

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


def _why_not(name):
    try:
        with backend.use_backend(name):
            return ""
    except RuntimeError as e:
        return str(e)


def _available(name):
    try:
        with backend.use_backend(name):
            return True
    except RuntimeError:
        return False


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
    if not _available(name):
        pytest.skip(f"backend {name} cannot run here: {_why_not(name)}")
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
