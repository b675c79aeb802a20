"""Stateless forward/backward pairs: where minigan's maths lives.

Every op is a pair sharing one interface (the CS231n pattern)::

    y, cache = op_forward(x, *params, **settings)
    dx, *dparams = op_backward(dy, cache, param_grads=True, input_grad=True)

``cache`` holds what the backward pass needs from the forward pass.
``param_grads=False`` skips the weight gradients (returned as ``None``), and
``input_grad=False`` skips ``dx``: both are real savings, not just results
thrown away. The hot loops run through :mod:`minigan.kernels`, so the same
pair runs on every backend. Layer classes (:mod:`minigan.layers`) only hold
parameters and call these.
"""

from .activations import (leaky_relu_backward, leaky_relu_forward, sigmoid_backward,
                          sigmoid_forward, tanh_backward, tanh_forward)
from .batchnorm import batchnorm_backward, batchnorm_forward
from .conv import (conv2d_backward, conv2d_constant_backward, conv2d_constant_forward,
                   conv2d_forward, conv_transpose2d_backward, conv_transpose2d_forward,
                   conv_transpose_output_size)
from .dense import dense_backward, dense_forward
from .dropout import dropout_backward, dropout_forward
from .losses import bce, bce_with_logits, mse, softmax_cross_entropy
from .maxout import maxout_backward, maxout_forward, maxout_tangent
from .spectral_norm import spectral_norm_backward, spectral_norm_forward

__all__ = [
    "dense_forward", "dense_backward",
    "conv2d_forward", "conv2d_backward", "conv2d_constant_forward", "conv2d_constant_backward",
    "conv_transpose2d_forward", "conv_transpose2d_backward", "conv_transpose_output_size",
    "leaky_relu_forward", "leaky_relu_backward", "tanh_forward", "tanh_backward",
    "sigmoid_forward", "sigmoid_backward",
    "batchnorm_forward", "batchnorm_backward",
    "dropout_forward", "dropout_backward",
    "maxout_forward", "maxout_backward", "maxout_tangent",
    "bce_with_logits", "bce", "mse", "softmax_cross_entropy",
    "spectral_norm_forward", "spectral_norm_backward",
]
