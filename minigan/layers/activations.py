"""Activation layers (no parameters); maths in ``functional/activations.py``."""

from .. import functional as F
from .base import Layer


class _Activation(Layer):
    """An elementwise op whose backward needs only its output ``y``."""

    def forward(self, x):
        self.check_input(x, (None,) * max(getattr(x, "ndim", 1), 1))
        y, self.cache = self._forward(x)
        return y

    def backward(self, dy, param_grads=True, input_grad=True):
        self.check_backward(dy)
        dx = self._backward(dy, self.cache) if input_grad else None
        self.cache = None
        return dx


class LeakyReLU(_Activation):
    """``max(x, slope*x)`` for ``0 <= slope < 1``."""

    def __init__(self, slope=0.2):
        super().__init__()
        if not 0 <= slope < 1:
            raise ValueError(f"LeakyReLU: expected 0 <= slope < 1, got {slope}")
        self.slope = slope
        self.cache = None

    def _forward(self, x):
        return F.leaky_relu_forward(x, self.slope)

    def _backward(self, dy, y):
        return F.leaky_relu_backward(dy, y, self.slope)

    def __repr__(self):
        return f"LeakyReLU({self.slope})"


class ReLU(LeakyReLU):
    """``max(x, 0)``."""

    def __init__(self):
        super().__init__(0.0)

    def __repr__(self):
        return "ReLU()"


class Tanh(_Activation):
    """``tanh(x)``: the generator's output layer for images in [-1, 1]."""

    def __init__(self):
        super().__init__()
        self.cache = None

    _forward = staticmethod(F.tanh_forward)
    _backward = staticmethod(F.tanh_backward)

    def __repr__(self):
        return "Tanh()"


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))``, computed without overflow. A discriminator
    should output logits and use ``bce_with_logits`` instead."""

    def __init__(self):
        super().__init__()
        self.cache = None

    _forward = staticmethod(F.sigmoid_forward)
    _backward = staticmethod(F.sigmoid_backward)

    def __repr__(self):
        return "Sigmoid()"
