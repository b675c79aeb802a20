"""Maxout (Goodfellow et al. 2013): each output unit is the largest of
``pieces`` linear pieces, so a layer learns a convex piecewise-linear
activation of its own.

The input of a maxout layer with F units and K pieces is (N, F*K): unit
``f`` takes the K contiguous values ``x[:, f*K:(f+1)*K]`` (a ``Dense(in, F*K)``
in front of it computes the pieces)::

    y[n, f] = max_k x[n, f*K + k]
    dx[n, f*K + k] = dy[n, f]   if k is the piece that won, else 0

On a tie the first of the tied pieces wins, on every backend, so the
gradient goes to exactly one piece, deterministically. The loops are the
kernels ``maxout_forward`` / ``maxout_backward`` (``kernels/reference.py``).
"""

from .. import backend, kernels


def maxout_forward(x, pieces):
    """``y`` (N, F) of ``x`` (N, F*pieces). Returns ``(y, cache)``."""
    y, winner = kernels.maxout_forward(x, pieces)
    return y, (winner, pieces)


def maxout_backward(dy, cache):
    """``dx``: ``dy`` routed to the winning piece of each unit."""
    winner, pieces = cache
    return kernels.maxout_backward(dy, winner, pieces)


def maxout_tangent(xt, cache):
    """The tangent pass: ``yt`` (N, F), the entries of the direction ``xt``
    (N, F*K) at the winning pieces (maxout is linear there)."""
    winner, pieces = cache
    xp = backend.get_array_module(xt)
    x3 = xt.reshape(winner.shape + (pieces,))
    return xp.take_along_axis(x3, winner[:, :, None], axis=2)[:, :, 0]
