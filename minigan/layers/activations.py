"""Activation layers (no parameters); maths in ``functional/activations.py``."""

from .. import functional as F
from .base import Layer


class _Activation(Layer):
    """An elementwise op whose backward needs only its output ``y``."""

    def forward(self, x):
        self.check_input(x, (None,) * max(getattr(x, "ndim", 1), 1))
        y, self.cache = self._forward(x)
        return self.keep_output(y)

    def backward(self, dy, param_grads=True, input_grad=True):
        self.check_backward(dy)
        dx = self._backward(dy, self.cache) if input_grad else None
        self.cache = None
        return dx

    # The tangent pass: yt = f'(x) * xt, and its backward pass
    #     dxt = f'(x) * dyt,    dx = f'(x) * dy + f''(x) * xt * dyt
    # f'(x) * a is what _backward(a, y) computes; f'' is _second(y), None
    # where it is zero (the piecewise-linear ReLUs).
    _second = staticmethod(lambda y: None)

    def jvp_forward(self, x, xt):
        y = self.forward(x)
        self.cache = (y, xt)
        return y, self._backward(xt, y)

    def jvp_backward(self, dy, dyt, param_grads=True, input_grad=True):
        self.check_backward(dyt)
        if dy is not None:
            self.check_backward(dy)
        (y, xt), self.cache = self.cache, None
        dxt = self._backward(dyt, y)
        dx = None if dy is None else self._backward(dy, y)
        curvature = self._second(y)
        if curvature is not None:
            term = curvature * xt * dyt
            dx = term if dx is None else dx + term
        return dx, dxt


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
    _second = staticmethod(lambda y: -2 * y * (1 - y * y))       # tanh'' = -2 tanh tanh'

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
    _second = staticmethod(lambda y: y * (1 - y) * (1 - 2 * y))  # s'' = s'(1 - 2s)

    def __repr__(self):
        return "Sigmoid()"


class Maxout(Layer):
    """``max`` over ``pieces`` contiguous inputs per unit: (N, F*pieces) -> (N, F)
    (maths in ``functional/maxout.py``). Put a ``Dense(in, F*pieces)`` in front
    of it for a maxout layer of F units. Piecewise linear, so its tangent pass
    routes the direction like the gradient (no curvature term)."""

    def __init__(self, pieces):
        super().__init__()
        if pieces < 1:
            raise ValueError(f"Maxout: expected pieces >= 1, got {pieces}")
        self.pieces = pieces
        self.cache = None

    def forward(self, x):
        shape = self.check_input(x, (None, None))
        if shape[1] % self.pieces:
            raise ValueError(f"{self!r}: expected input of shape (N, F*{self.pieces}), got "
                             f"{shape}")
        y, self.cache = F.maxout_forward(x, self.pieces)
        return self.keep_output(y)

    def backward(self, dy, param_grads=True, input_grad=True):
        self.check_backward(dy)
        cache, self.cache = self.cache, None
        return F.maxout_backward(dy, cache) if input_grad else None

    def jvp_forward(self, x, xt):
        y = self.forward(x)
        return y, F.maxout_tangent(xt, self.cache)

    def jvp_backward(self, dy, dyt, param_grads=True, input_grad=True):
        self.check_backward(dyt)
        if dy is not None:
            self.check_backward(dy)
        cache, self.cache = self.cache, None
        dx = None if dy is None else F.maxout_backward(dy, cache)
        return dx, F.maxout_backward(dyt, cache)

    def __repr__(self):
        return f"Maxout({self.pieces})"

