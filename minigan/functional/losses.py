"""Losses. Each returns ``(mean loss, gradient wrt its input)``; the mean loss
is a Python float on the CPU backends and a 0-d device array on the GPU
(``backend.scalar``: fetching it would stall the GPU, so the trainer fetches
a step's numbers together, once).

The discriminator outputs a *logit* ``x``; :func:`bce_with_logits` folds the
sigmoid into the loss so that nothing overflows::

    loss(x, t) = -t*log(sigmoid(x)) - (1-t)*log(1 - sigmoid(x))
               = max(x, 0) - x*t + log(1 + exp(-|x|))
    dloss/dx   = sigmoid(x) - t

:func:`bce` takes probabilities instead; it must clip them away from 0 and 1
and loses precision (and gradient) for saturated sigmoids: it is here for
comparison with older tutorials, not for training.
"""

from .. import backend, kernels


def _target_like(name, x, target):
    """``target`` broadcast to ``x``'s shape and dtype, or a clear ValueError."""
    xp = backend.get_array_module(x)
    if x.dtype.kind != "f":
        raise ValueError(f"{name}: expected a floating-point input, got dtype {x.dtype}")
    if isinstance(target, (int, float)):
        return xp.full(x.shape, target, dtype=x.dtype)   # made where x lives: no transfer
    t = xp.asarray(target, dtype=x.dtype)
    try:
        return xp.broadcast_to(t, x.shape)
    except ValueError:
        raise ValueError(f"{name}: expected target of shape {tuple(x.shape)} (or a "
                         f"scalar), got {tuple(t.shape)}") from None


def bce_with_logits(x, target):
    """Mean binary cross-entropy of logits ``x`` against ``target`` in [0, 1]
    (a scalar such as 1.0 or 0.9 for smoothed labels, or an array of x's shape).
    Finite and exact for logits of any size."""
    return kernels.bce_with_logits(x, _target_like("bce_with_logits", x, target))


def bce(p, target, eps=1e-7):
    """Mean binary cross-entropy of probabilities ``p``, clipped to
    ``[eps, 1 - eps]``: ``-t*log(p) - (1-t)*log(1-p)``. Less stable than
    :func:`bce_with_logits`; where the clip is active the gradient is 0."""
    xp = backend.get_array_module(p)
    t = _target_like("bce", p, target)
    pc = xp.clip(p, eps, 1 - eps)
    n = p.size
    loss = -(t * xp.log(pc) + (1 - t) * xp.log(1 - pc)).sum(dtype="float64") / n
    inside = (p > eps) & (p < 1 - eps)
    dp = xp.where(inside, (pc - t) / (pc * (1 - pc)), 0).astype(p.dtype) / n
    return backend.scalar(loss), dp


def softmax_cross_entropy(x, labels):
    """Mean cross-entropy of logits ``x`` (N, K) against integer ``labels`` (N,)::

        loss = mean_n( logsumexp(x[n]) - x[n, labels[n]] )
        dloss/dx = (softmax(x) - onehot(labels)) / N

    ``logsumexp`` subtracts each row's maximum first, so nothing overflows.
    (For the evaluator classifier of ``minigan.metrics``.)"""
    xp = backend.get_array_module(x)
    if x.ndim != 2:
        raise ValueError(f"softmax_cross_entropy: expected logits of shape (N, K), got "
                         f"{tuple(x.shape)}")
    labels = xp.asarray(labels)
    if labels.shape != (x.shape[0],):
        raise ValueError(f"softmax_cross_entropy: expected labels of shape ({x.shape[0]},), "
                         f"got {tuple(labels.shape)}")
    shifted = x - x.max(axis=1, keepdims=True)
    e = xp.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    rows = xp.arange(x.shape[0])
    loss = (xp.log(total[:, 0]) - shifted[rows, labels]).sum(dtype="float64") / x.shape[0]
    dx = e / total
    dx[rows, labels] -= 1
    return backend.scalar(loss), (dx / x.shape[0]).astype(x.dtype, copy=False)


def mse(x, target):
    """Mean squared error ``mean((x - t)**2)`` (least-squares GANs). Gradient
    ``2 (x - t) / n``."""
    t = _target_like("mse", x, target)
    d = x - t
    return backend.scalar((d * d).sum(dtype="float64") / x.size), (2 / x.size) * d
