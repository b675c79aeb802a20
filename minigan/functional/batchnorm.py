"""Batch normalization (Ioffe & Szegedy 2015) for (N, C) and (N, C, H, W).

Statistics are per channel C, over N (and H, W). In training mode the batch
statistics normalize and the running ones are updated with PyTorch's
``momentum`` meaning::

    running = (1 - momentum) * running + momentum * batch_stat

where the variance entering ``running_var`` is the *unbiased* batch variance
(``M / (M - 1)`` times the biased one, ``M = N*H*W``). In eval mode the
running statistics normalize and nothing is updated.

``stats="std"`` keeps the Blocks library's population statistics instead (the
PacGAN authors' G): the running average of each batch's standard deviation
``sqrt(biased variance + eps)``, which eval mode divides by. The buffer passed
as ``running_var`` then holds that standard deviation.

The backward pass is derived step by step (into x-hat, the variance, the
mean, then x) in ``lessons/09_batchnorm_dropout.py``; it comes to
``dx = gamma * s / M * (M * dy - dbeta - x_hat * dgamma)`` with
``s = 1 / sqrt(var + eps)``, which the kernels compute.
"""

from .. import backend, kernels
from .shapes import as_ncl


def _grouped(a3, groups):
    """(N, C, L) -> (N/g, g*C, L): sample i*g + j's channel c becomes channel
    j*C + c of row i, so each of the g interleaved groups (the samples with
    the same index mod g) has its own statistics (a view, no copy)."""
    N, C, L = a3.shape
    return a3.reshape(N // groups, groups * C, L)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum=0.1,
                      eps=1e-5, training=True, groups=1, stats="var"):
    """Normalize ``x`` per channel. Updates ``running_*`` in place when
    ``training``. Returns ``(y, cache)``.

    ``groups`` g > 1 (training mode): the samples with the same index mod g
    form one batch each, normalized by its own statistics, as if each had
    been a separate forward pass (PacGAN's generator runs once per packed
    slot); the running statistics follow the mean of the g groups'."""
    x3 = as_ncl(x)
    if training:
        xp = backend.get_array_module(x)
        if x3.shape[0] % groups:
            raise ValueError(f"BatchNorm with {groups} groups: the batch ({x3.shape[0]}) must "
                             f"be a multiple of the groups")
        if x3.shape[0] // groups * x3.shape[2] < 2:
            raise ValueError(f"BatchNorm in training mode: expected more than one value per "
                             f"channel to take statistics over, got input of shape "
                             f"{tuple(x.shape)}" + (f" in {groups} groups" if groups > 1 else "")
                             + "; use eval mode for single samples")
        if groups > 1:
            x3 = _grouped(x3, groups)
            gamma, beta = xp.tile(gamma, groups), xp.tile(beta, groups)
        y3, mean, var = kernels.batchnorm_forward(x3, gamma, beta, eps)
        M = x3.shape[0] * x3.shape[2]
        unbiased = var * (M / max(M - 1, 1))
        C = running_mean.shape[0]
        running_mean *= 1 - momentum
        running_mean += momentum * mean.reshape(groups, C).mean(axis=0)
        running_var *= 1 - momentum
        if stats == "std":
            running_var += momentum * xp.sqrt(var + eps).reshape(groups, C).mean(axis=0)
        else:
            running_var += momentum * unbiased.reshape(groups, C).mean(axis=0)
    else:
        # the variance that eps turns into the running standard deviation
        mean = running_mean
        var = running_var if stats == "var" else running_var * running_var - eps
        xp = backend.get_array_module(x)
        scale = gamma / xp.sqrt(var + eps)
        y3 = x3 * scale[None, :, None] + (beta - mean * scale)[None, :, None]
    return y3.reshape(x.shape), (x3, mean.copy(), var.copy(), gamma, eps, training, groups)


def batchnorm_backward(dy, cache, param_grads=True, input_grad=True):
    """Gradients of :func:`batchnorm_forward`. Returns ``(dx, dgamma, dbeta)``.

    Training mode (mean and variance depend on x)::

        dx = gamma * invstd / M * (M*dy - sum(dy) - xhat * sum(dy*xhat))

    Eval mode (fixed statistics): ``dx = gamma * invstd * dy``.
    """
    x3, mean, var, gamma, eps, training, groups = cache
    dy3 = as_ncl(dy)
    if training:
        if groups > 1:
            dy3 = _grouped(dy3, groups)
        dx3, dgamma, dbeta = kernels.batchnorm_backward(dy3, x3, mean, var, gamma, eps)
        if groups > 1:                      # gamma and beta are shared by the groups
            C = dgamma.shape[0] // groups
            dgamma = dgamma.reshape(groups, C).sum(axis=0)
            dbeta = dbeta.reshape(groups, C).sum(axis=0)
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
