"""Reshape and Flatten: views, no arithmetic."""

import math

from .base import Layer


class Reshape(Layer):
    """(N, ...) -> (N, *shape), e.g. ``Reshape(256, 7, 7)`` after a Dense."""

    _pending = ("in_shape",)

    def __init__(self, *shape):
        super().__init__()
        self.shape = tuple(shape)
        self.in_shape = None

    def forward(self, x):
        size = math.prod(self.shape)
        if not hasattr(x, "shape") or x.ndim < 1 or math.prod(x.shape[1:]) != size:
            given = tuple(getattr(x, "shape", ()))
            raise ValueError(f"{self!r}: expected input of shape (N, ...) with {size} values "
                             f"per sample, got {given}")
        self.check_input(x, (None,) * x.ndim)
        self.in_shape = x.shape
        return self.keep_output(x.reshape((x.shape[0],) + self.shape))

    def backward(self, dy, param_grads=True, input_grad=True):
        self.check_backward(dy, "in_shape")
        shape, self.in_shape = self.in_shape, None
        return dy.reshape(shape) if input_grad else None

    def jvp_forward(self, x, xt):
        y = self.forward(x)
        return y, xt.reshape(y.shape)

    def jvp_backward(self, dy, dyt, param_grads=True, input_grad=True):
        self.check_backward(dyt, "in_shape")
        if dy is not None:
            self.check_backward(dy, "in_shape")
        shape, self.in_shape = self.in_shape, None
        return (None if dy is None else dy.reshape(shape)), dyt.reshape(shape)

    def __repr__(self):
        return f"Reshape{self.shape}"


class Flatten(Reshape):
    """(N, C, H, W) -> (N, C*H*W)."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        self.shape = (math.prod(x.shape[1:]),) if getattr(x, "ndim", 0) >= 1 else ()
        return super().forward(x)

    def __repr__(self):
        return "Flatten()"
