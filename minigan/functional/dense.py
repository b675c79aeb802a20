"""Fully connected layer: ``y = x @ W.T + b``.

Shapes: x (N, IN), W (OUT, IN) as in PyTorch, b (OUT,), y (N, OUT).
"""

from .. import kernels


def dense_forward(x, W, b=None):
    """``y = x @ W.T + b``. Returns ``(y, cache)``."""
    y = kernels.matmul(x, W.T)
    N, OUT = y.shape
    kernels.bias_act_forward(y.reshape(N, OUT, 1), b, None)
    return y, (x, W, b is not None)


def dense_backward(dy, cache, param_grads=True, input_grad=True):
    """Gradients of :func:`dense_forward`::

        dx = dy @ W        dW = dy.T @ x        db = dy.sum(axis=0)

    Returns ``(dx, dW, db)``; entries not asked for are ``None``.
    """
    x, W, has_bias = cache
    dx = kernels.matmul(dy, W) if input_grad else None
    dW = db = None
    if param_grads:
        dW = kernels.matmul(dy.T, x)
        if has_bias:
            db = dy.sum(axis=0)
    return dx, dW, db
