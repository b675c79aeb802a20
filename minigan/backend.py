"""The backend switch: which implementation of the kernels runs.

Three backends share one API:

``numpy``
    the readable reference (``minigan/kernels/reference.py``), the spec;
``numba``
    the same kernels JIT-compiled for the CPU (``minigan/kernels/numba_cpu.py``),
    the default;
``cupy``
    the same kernels on an NVIDIA GPU (``minigan/kernels/cupy_gpu.py``). With
    ``MINIGAN_FAKE_CUPY=1`` it runs on the CPU instead, through a stand-in for
    CuPy whose kernels execute their CUDA source in a C++ loop
    (``minigan/kernels/fake_cupy.py``): for tests and dry runs, never for speed.

The choice is made once, here: by :func:`set_backend`, or by the environment
variable ``MINIGAN_BACKEND`` read at import time. Layers never test which
backend is active; they ask :func:`xp` for the array module and call
``minigan.kernels``, which dispatches.
"""

import os

# Numba's OpenMP threads would otherwise spin after every parallel kernel and
# fight the BLAS threads for the cores: on 2 cores that made a whole MLP
# training step 10x slower. libgomp reads this once, when Numba first starts
# its threads, so it is set here, at ``import minigan``; a value the user set
# is kept. (Import minigan before running Numba-parallel code of your own.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

BACKENDS = ("numpy", "numba", "cupy")
DEFAULT = "numba"

_state = {"name": None}


def _check_name(name):
    if name not in BACKENDS:
        raise ValueError(
            f"unknown backend {name!r}: expected one of {', '.join(BACKENDS)}")


def set_backend(name):
    """Select the backend by name (``'numpy'``, ``'numba'`` or ``'cupy'``).

    Raises ``ValueError`` for an unknown name and ``RuntimeError`` with one
    clear line when the backend cannot run here (Numba or CuPy missing, or
    no GPU).
    """
    _check_name(name)
    if name == "numba":
        try:
            import numba  # noqa: F401
        except ImportError as e:  # pragma: no cover - numba is a dependency
            raise RuntimeError(f"backend 'numba' needs Numba: {e}") from None
    if name == "cupy":
        _check_cupy()
    _state["name"] = name


def fake_cupy_requested():
    """Whether ``MINIGAN_FAKE_CUPY`` asks for the CPU stand-in for CuPy."""
    return os.environ.get("MINIGAN_FAKE_CUPY", "") not in ("", "0")


def install_fake_cupy():
    """Make ``import cupy`` give the CPU stand-in (``kernels/fake_cupy.py``)."""
    import sys
    from .kernels import cuda_host, fake_cupy
    cuda_host.compiler()                     # its kernels need a C++ compiler: say so now
    if sys.modules.get("cupy") is not fake_cupy:
        sys.modules["cupy"] = fake_cupy
        fake_cupy.announce()


def _check_cupy():
    """Raise RuntimeError, in one line, unless the cupy backend can run here."""
    if fake_cupy_requested():
        from .kernels.cuda_host import CompilerMissing
        try:
            install_fake_cupy()
        except CompilerMissing as e:
            raise RuntimeError(f"backend 'cupy' with MINIGAN_FAKE_CUPY: {e}") from None
        return
    try:
        import cupy
    except ImportError:
        raise RuntimeError(
            "backend 'cupy' needs CuPy and an NVIDIA GPU: pip install 'minigan[gpu-cuda12]' "
            "or 'minigan[gpu-cuda13]' (MINIGAN_FAKE_CUPY=1 runs it on the CPU, for "
            "tests)") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDA driver missing or broken
        raise RuntimeError(f"backend 'cupy': no usable GPU ({str(e).splitlines()[0]})") from None
    if count == 0:
        raise RuntimeError("backend 'cupy': CuPy is installed but no GPU was found")


def get_backend():
    """The name of the active backend."""
    if _state["name"] is None:
        set_backend(os.environ.get("MINIGAN_BACKEND", DEFAULT))
    return _state["name"]


class use_backend:
    """Context manager: ``with use_backend('numpy'): ...`` restores the old one."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.old = get_backend()
        set_backend(self.name)
        return self.name

    def __exit__(self, *exc):
        set_backend(self.old)


def xp():
    """The array module of the active backend: ``numpy`` or ``cupy``."""
    if get_backend() == "cupy":
        import cupy
        return cupy
    return np


def get_array_module(x):
    """The array module that owns ``x`` (``cupy`` for CuPy arrays, else ``numpy``)."""
    if type(x).__module__.startswith("cupy"):
        import cupy
        return cupy
    return np


def to_numpy(x):
    """A host NumPy copy-or-view of ``x`` (CuPy arrays are copied to the host)."""
    if get_array_module(x) is np:
        return np.asarray(x)
    return x.get()


def asarray(x, dtype=None):
    """``x`` as an array of the active backend (copied to the GPU for cupy)."""
    return xp().asarray(x, dtype=dtype)


def scalar(a):
    """A reduction's result as the backend keeps it: a Python float from a
    host array, a 0-d device array on the GPU (fetching it would stall the
    GPU; :func:`fetch` brings several home in one transfer)."""
    return float(a) if get_array_module(a) is np else a


def fetch(values):
    """Python floats of ``values`` (floats or 0-d device arrays), with at
    most one transfer from the device for all of them."""
    values = list(values)
    on_device = [k for k, v in enumerate(values) if get_array_module(v) is not np]
    if on_device:
        xp = get_array_module(values[on_device[0]])
        host = xp.stack([values[k].astype(xp.float64).reshape(()) for k in on_device]).get()
        for k, v in zip(on_device, host):
            values[k] = v
    return [float(v) for v in values]
