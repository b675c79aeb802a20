"""Inverted dropout: zero each value with probability ``p`` and scale the
survivors by ``1 / (1 - p)``, so the expected output equals the input and
eval mode is the identity."""

from .. import backend, kernels


def dropout_forward(x, p, rng, training=True):
    """Returns ``(y, mask)``; ``mask`` is ``None`` in eval mode or for ``p = 0``.

    ``rng`` is a ``numpy.random.Generator``: the same generator state gives
    the same mask, on every backend (the mask is drawn on the host).
    """
    if not training or p == 0:
        return x, None
    u = rng.random(x.shape, dtype=x.dtype)                  # drawn on the host
    return kernels.dropout_apply(x, backend.get_array_module(x).asarray(u), p)


def dropout_backward(dy, mask):
    """``dx = dy * mask`` (the identity in eval mode)."""
    return dy if mask is None else dy * mask
