"""Batch normalization (Ioffe & Szegedy 2015) for (N, C) and (N, C, H, W).

Statistics are per channel C, over N (and H, W). In training mode the batch
statistics normalize and the running ones are updated with PyTorch's
``momentum`` meaning::

    running = (1 - momentum) * running + momentum * batch_stat

where the variance entering ``running_var`` is the *unbiased* batch variance
(``M / (M - 1)`` times the biased one, ``M = N*H*W``). In eval mode the
running statistics normalize and nothing is updated.

The backward pass is derived step by step (into x-hat, the variance, the
mean, then x) in ``lessons/09_batchnorm_dropout.py``; it comes to
``dx = gamma * s / M * (M * dy - dbeta - x_hat * dgamma)`` with
``s = 1 / sqrt(var + eps)``, which the kernels compute.
"""

from .. import backend, kernels
from .shapes import as_ncl


def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum=0.1,
                      eps=1e-5, training=True):
    """Normalize ``x`` per channel. Updates ``running_*`` in place when
    ``training``. Returns ``(y, cache)``."""
    x3 = as_ncl(x)
    if training:
        if x3.shape[0] * x3.shape[2] < 2:
            raise ValueError(f"BatchNorm in training mode: expected more than one value per "
                             f"channel to take statistics over, got input of shape "
                             f"{tuple(x.shape)}; use eval mode for single samples")
        y3, mean, var = kernels.batchnorm_forward(x3, gamma, beta, eps)
        M = x3.shape[0] * x3.shape[2]
        unbiased = var * (M / max(M - 1, 1))
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * unbiased
    else:
        mean, var = running_mean, running_var
        xp = backend.get_array_module(x)
        scale = gamma / xp.sqrt(var + eps)
        y3 = x3 * scale[None, :, None] + (beta - mean * scale)[None, :, None]
    return y3.reshape(x.shape), (x3, mean.copy(), var.copy(), gamma, eps, training)


def batchnorm_backward(dy, cache, param_grads=True, input_grad=True):
    """Gradients of :func:`batchnorm_forward`. Returns ``(dx, dgamma, dbeta)``.

    Training mode (mean and variance depend on x)::

        dx = gamma * invstd / M * (M*dy - sum(dy) - xhat * sum(dy*xhat))

    Eval mode (fixed statistics): ``dx = gamma * invstd * dy``.
    """
    x3, mean, var, gamma, eps, training = cache
    dy3 = as_ncl(dy)
    if training:
        dx3, dgamma, dbeta = kernels.batchnorm_backward(dy3, x3, mean, var, gamma, eps)
    else:
        xp = backend.get_array_module(dy)
        invstd = 1 / xp.sqrt(var + eps)
        dx3 = dy3 * (gamma * invstd)[None, :, None]
        xhat = (x3 - mean[None, :, None]) * invstd[None, :, None]
        dgamma = (dy3 * xhat).sum(axis=(0, 2))
        dbeta = dy3.sum(axis=(0, 2))
    dx = dx3.reshape(dy.shape) if input_grad else None
    if not param_grads:
        dgamma = dbeta = None
    return dx, dgamma, dbeta
