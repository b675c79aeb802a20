"""Elementwise activations. Each backward pass uses the forward *output* y,
so the cache is one array.

=============  =============================  ===============================
activation     y                              dx
=============  =============================  ===============================
leaky ReLU     max(x, a*x), 0 <= a < 1        dy * (1 if y > 0 else a)
tanh           tanh(x)                        dy * (1 - y**2)
sigmoid        1 / (1 + exp(-x))              dy * y * (1 - y)
=============  =============================  ===============================
"""


from .. import backend, kernels
from .shapes import as_ncl


def leaky_relu_forward(x, slope):
    """``y = max(x, slope*x)``; ``slope = 0`` is ReLU. Returns ``(y, y)``."""
    y = x.copy()
    kernels.bias_act_forward(as_ncl(y), None, slope)
    return y, y


def leaky_relu_backward(dy, y, slope):
    """``dx = dy`` where ``y > 0``, else ``slope * dy``."""
    return kernels.leaky_relu_backward(dy, y, slope)


def tanh_forward(x):
    y = backend.get_array_module(x).tanh(x)
    return y, y


def tanh_backward(dy, y):
    return dy * (1 - y * y)


def sigmoid_forward(x):
    """Sigmoid in the form that never overflows: ``exp`` only of ``-|x|``."""
    xp = backend.get_array_module(x)
    e = xp.exp(-xp.abs(x))
    y = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
    return y, y


def sigmoid_backward(dy, y):
    return dy * y * (1 - y)


__all__ = ["leaky_relu_forward", "leaky_relu_backward", "tanh_forward",
           "tanh_backward", "sigmoid_forward", "sigmoid_backward"]
