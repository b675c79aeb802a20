"""The backend switch: which implementation of the kernels runs.

Three backends share one API:

``numpy``
    the readable reference (``minigan/kernels/reference.py``), the spec;
``numba``
    the same kernels JIT-compiled for the CPU (``minigan/kernels/numba_cpu.py``),
    the default;
``cupy``
    the same kernels on an NVIDIA GPU (``minigan/kernels/cupy_gpu.py``, not
    written yet).

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
        import importlib.util
        if importlib.util.find_spec("minigan.kernels.cupy_gpu") is None:
            raise RuntimeError("backend 'cupy': minigan's CuPy kernels are not written yet; "
                               "use 'numba' (the default) or 'numpy'")
        try:
            import cupy
        except ImportError:
            raise RuntimeError(
                "backend 'cupy' needs CuPy: pip install 'minigan[gpu]' "
                "(and an NVIDIA GPU)") from None
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as e:  # CUDA driver missing or broken
            raise RuntimeError(f"backend 'cupy': no usable GPU ({e})") from None
        if count == 0:
            raise RuntimeError("backend 'cupy': CuPy is installed but no GPU was found")
    _state["name"] = name


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
