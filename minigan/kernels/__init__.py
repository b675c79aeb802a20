"""The one dispatch point for kernels.

``from minigan import kernels; kernels.im2col(x, 5, 5, 2, 2)`` runs the
implementation of the active backend (see :mod:`minigan.backend`):

=========  ==========================  ====================================
backend    module                      what it is
=========  ==========================  ====================================
numpy      ``kernels/reference.py``    the readable spec in plain NumPy
numba      ``kernels/numba_cpu.py``    the same names, JIT-compiled
cupy       ``kernels/cupy_gpu.py``     the same names, on the GPU
=========  ==========================  ====================================

Every implementation has the same function names and signatures (the tests
check that each kernel in ``reference.KERNELS`` has its own twin, with the
same signature). Nothing else in minigan chooses an implementation.
"""

import importlib

from .. import backend
from . import contract, workspace  # noqa: F401  (helpers, not kernels: never dispatched)

_MODULES = {"numpy": "reference", "numba": "numba_cpu", "cupy": "cupy_gpu"}
_loaded = {}


def implementation(name=None):
    """The kernel module of backend ``name`` (default: the active one)."""
    name = name or backend.get_backend()
    mod = _loaded.get(name)
    if mod is None:
        mod = importlib.import_module(f".{_MODULES[name]}", __name__)
        _loaded[name] = mod
    return mod


def __getattr__(attr):
    if attr.startswith("__"):
        raise AttributeError(attr)
    return getattr(implementation(), attr)
