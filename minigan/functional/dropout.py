"""Inverted dropout: zero each value with probability ``p`` and scale the
survivors by ``1 / (1 - p)``, so the expected output equals the input and
eval mode is the identity.

The masks come from a counter-based generator (``kernels/reference.py``):
draw number ``counter`` of a layer with ``seed`` is a pure function of the
two, computed inside the kernel on every backend, so numpy, numba and cupy
drop the same elements and nothing is drawn on the host.
"""

from .. import kernels
from ..kernels.reference import dropout_key


def dropout_forward(x, p, seed, counter, training=True):
    """Returns ``(y, mask)``; ``mask`` is ``None`` in eval mode or for ``p = 0``.

    The same ``(seed, counter)`` gives the same mask, on every backend."""
    if not training or p == 0:
        return x, None
    return kernels.dropout(x, p, dropout_key(seed, counter))


def dropout_backward(dy, mask):
    """``dx = dy * mask`` (the identity in eval mode)."""
    return dy if mask is None else dy * mask
