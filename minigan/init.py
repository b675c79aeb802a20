"""Weight initializers. Each one is ``init(shape, rng, dtype=float32)`` and
takes an explicit ``numpy.random.Generator``: the same generator state gives
the same weights on every backend (weights are drawn on the host, then moved).

Fan-in and fan-out follow PyTorch's convention for every weight layout:
``fan_in = shape[1] * receptive``, ``fan_out = shape[0] * receptive`` with
``receptive = prod(shape[2:])``.

==================  =================================================  ============================
initializer         distribution                                       reference
==================  =================================================  ============================
normal              N(mean, std**2); std 0.02 is the DCGAN recipe       Radford et al. 2016
uniform             U(low, high)
glorot_uniform      U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))   Glorot & Bengio 2010
glorot_normal       N(0, gain**2 * 2 / (fan_in + fan_out))              Glorot & Bengio 2010
he_uniform          U(-a, a), a = gain * sqrt(3 / fan_in)               He et al. 2015
he_normal           N(0, gain**2 / fan_in)                              He et al. 2015
torch_default       U(-1/sqrt(fan_in), 1/sqrt(fan_in))                  PyTorch's Linear/Conv default
==================  =================================================  ============================

For He, ``gain = sqrt(2 / (1 + a**2))`` for a leaky ReLU of slope ``a``
(:func:`leaky_relu_gain`).
"""

import math

import numpy as np

from . import backend


def fans(shape):
    """``(fan_in, fan_out)`` of a weight of this shape (PyTorch's convention)."""
    if len(shape) < 2:
        raise ValueError(f"fans: expected a weight of at least 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def leaky_relu_gain(slope=0.0):
    """``sqrt(2 / (1 + slope**2))``: the He gain for a (leaky) ReLU."""
    return math.sqrt(2.0 / (1.0 + slope ** 2))


def _check_rng(name, rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"init.{name}: expected a numpy.random.Generator, got "
                        f"{type(rng).__name__}; use numpy.random.default_rng(seed)")


def _out(a, dtype):
    return backend.asarray(np.asarray(a, dtype=dtype))


def normal(shape, rng, mean=0.0, std=0.02, dtype=np.float32):
    _check_rng("normal", rng)
    return _out(rng.normal(mean, std, size=shape), dtype)


def uniform(shape, rng, low=-0.05, high=0.05, dtype=np.float32):
    _check_rng("uniform", rng)
    return _out(rng.uniform(low, high, size=shape), dtype)


def zeros(shape, rng=None, dtype=np.float32):
    return backend.xp().zeros(shape, dtype=dtype)


def ones(shape, rng=None, dtype=np.float32):
    return backend.xp().ones(shape, dtype=dtype)


def glorot_uniform(shape, rng, gain=1.0, dtype=np.float32):
    fan_in, fan_out = fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, rng, -a, a, dtype)


def glorot_normal(shape, rng, gain=1.0, dtype=np.float32):
    fan_in, fan_out = fans(shape)
    return normal(shape, rng, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), dtype)


def he_uniform(shape, rng, gain=math.sqrt(2.0), dtype=np.float32):
    a = gain * math.sqrt(3.0 / fans(shape)[0])
    return uniform(shape, rng, -a, a, dtype)


def he_normal(shape, rng, gain=math.sqrt(2.0), dtype=np.float32):
    return normal(shape, rng, 0.0, gain / math.sqrt(fans(shape)[0]), dtype)


def torch_default(shape, rng, dtype=np.float32):
    """PyTorch's default for Linear and Conv weights (kaiming_uniform with
    a=sqrt(5), which works out to U(-1/sqrt(fan_in), 1/sqrt(fan_in)))."""
    bound = 1.0 / math.sqrt(fans(shape)[0])
    return uniform(shape, rng, -bound, bound, dtype)


def dcgan(shape, rng, dtype=np.float32):
    """N(0, 0.02**2): the DCGAN paper's initialization for every weight."""
    return normal(shape, rng, 0.0, 0.02, dtype)


def as_rng(rng):
    """A ``numpy.random.Generator`` from a Generator, an int seed or None."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def add_weight_and_bias(layer, w_shape, n_bias, bias, rng, init, dtype):
    """Register ``W`` of ``w_shape`` and, if ``bias``, ``b`` of length ``n_bias``.

    ``init=None`` gives PyTorch's defaults, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    for both; an explicit ``init(shape, rng, dtype)`` sets W and a zero bias.
    """
    rng = as_rng(rng)
    if init is None:
        layer.add_param("W", torch_default(w_shape, rng, dtype=dtype))
        if bias:
            bound = 1.0 / math.sqrt(fans(w_shape)[0])
            layer.add_param("b", uniform((n_bias,), rng, -bound, bound, dtype))
    else:
        layer.add_param("W", init(w_shape, rng, dtype=dtype))
        if bias:
            layer.add_param("b", zeros((n_bias,), dtype=dtype))
