"""A stand-in for CuPy on a machine without a GPU, for tests and dry runs.

With it, the cupy backend runs end to end on the CPU: arrays are NumPy arrays
of a subclass that reports itself as a CuPy array, CuPy's NumPy-like API is
NumPy's, and ``ElementwiseKernel`` runs the kernel's CUDA source through the
host harness (:mod:`minigan.kernels.cuda_host`, one loop pass per thread,
bounds-checked). It is selected by ``MINIGAN_FAKE_CUPY=1`` (or by the test
suite where no GPU is usable) and says so on stderr when it starts.

What it checks that a GPU would also check: every custom kernel's source
runs, and a plain NumPy array mixed into a device computation raises
``TypeError`` (CuPy refuses it too). What it adds: it counts the transfers
between host and device (:data:`transfers`: ``to_device`` for
``asarray`` of host data, ``to_host`` for ``.get()``, ``asnumpy``, ``float()``,
``int()``, ``bool()`` and ``.item()``), so a test can hold a training step to
the transfers it documents. What it cannot show: that NVRTC compiles the
sources, cuBLAS, races between threads, and speed.
"""

import sys

import numpy as np

from . import cuda_host

transfers = {"to_device": 0, "to_host": 0}
_announced = []


def announce():
    if not _announced:
        sys.stderr.write("minigan: the cupy backend is running on the CPU through a stand-in "
                         "for CuPy (MINIGAN_FAKE_CUPY); its CUDA kernels run through the host "
                         "harness. No GPU is used.\n")
        _announced.append(True)


def reset_transfers():
    transfers.update(to_device=0, to_host=0)


def _plain(a):
    """A plain NumPy array given where a device array is expected?"""
    return isinstance(a, np.ndarray) and not isinstance(a, ndarray)


def _check(where, values):
    for v in values:
        if _plain(v):
            raise TypeError(f"{where}: a NumPy array (shape {v.shape}) was mixed into a device "
                            f"computation; move it with cupy.asarray first")
        if isinstance(v, (list, tuple)):
            _check(where, v)


def _wrap(result):
    if isinstance(result, np.ndarray) and not isinstance(result, ndarray):
        return result.view(ndarray)
    if isinstance(result, np.generic) and result.dtype.kind in "fiub":
        return np.asarray(result).view(ndarray)
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    if isinstance(result, list):
        return [_wrap(r) for r in result]
    return result


def _base(v):
    if isinstance(v, ndarray):
        return v.view(np.ndarray)
    if isinstance(v, (list, tuple)):
        return type(v)(_base(x) for x in v)
    return v


class ndarray(np.ndarray):
    """A device array: NumPy underneath, CuPy's name and rules on top."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _check(f"cupy.{ufunc.__name__}", inputs + tuple(kwargs.get("out", ())))
        inputs = [_base(v) for v in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(_base(v) for v in kwargs["out"])
        return _wrap(getattr(ufunc, method)(*inputs, **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        _check(f"cupy.{func.__name__}", tuple(args) + tuple(kwargs.values()))
        return _wrap(func(*_base(list(args)), **{k: _base(v) for k, v in kwargs.items()}))

    # -- transfers to the host -------------------------------------------------
    def get(self):
        transfers["to_host"] += 1
        return np.array(self.view(np.ndarray))

    def item(self, *args):
        transfers["to_host"] += 1
        return self.view(np.ndarray).item(*args)

    def __float__(self):
        transfers["to_host"] += 1
        return float(self.view(np.ndarray))

    def __int__(self):
        transfers["to_host"] += 1
        return int(self.view(np.ndarray))

    def __bool__(self):
        transfers["to_host"] += 1
        return bool(self.view(np.ndarray))

    def __index__(self):
        transfers["to_host"] += 1
        return self.view(np.ndarray).__index__()


ndarray.__module__ = "cupy"


# ------------------------------------------------------- the module's API

def asarray(a, dtype=None, order=None):
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    transfers["to_device"] += 1
    return np.array(a, dtype=dtype, order=order or "K").view(ndarray)


def array(a, dtype=None, copy=True, order="K"):
    if isinstance(a, ndarray):
        return np.array(a.view(np.ndarray), dtype=dtype, copy=copy, order=order).view(ndarray)
    return asarray(a, dtype=dtype)


def asnumpy(a):
    return a.get() if isinstance(a, ndarray) else np.asarray(a)


def get_array_module(*args):
    return sys.modules[__name__]


class ElementwiseKernel:
    """CuPy's ElementwiseKernel, run by the host harness (raw parameters only)."""

    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        self.spec = cuda_host.KernelSpec(name, in_params, out_params, operation)

    def __call__(self, *args, size=None):
        if size is None:
            raise TypeError(f"kernel {self.spec.name}: minigan's kernels take raw arrays and "
                            f"an explicit size")
        _check(f"kernel {self.spec.name}", args)
        cuda_host.run(self.spec, [_base(a) for a in args], size)


class _Runtime:
    @staticmethod
    def getDeviceCount():
        return 1

    @staticmethod
    def getDeviceProperties(i):
        return {"name": b"stand-in (CPU, host harness)", "totalGlobalMem": 0}

    @staticmethod
    def runtimeGetVersion():
        return 0


class _Device:
    def __init__(self, i=0):
        pass

    def synchronize(self):
        pass


class cuda:                                  # noqa: N801  (cupy.cuda)
    runtime = _Runtime
    Device = _Device


def __getattr__(name):
    """Everything else: NumPy's function of that name, on device arrays only."""
    attr = getattr(np, name)
    if callable(attr) and not isinstance(attr, type):
        def on_device(*args, **kwargs):
            _check(f"cupy.{name}", tuple(args) + tuple(kwargs.values()))
            return _wrap(attr(*_base(list(args)), **{k: _base(v) for k, v in kwargs.items()}))
        on_device.__name__ = name
        return on_device
    return attr


__version__ = "0+stand-in"
