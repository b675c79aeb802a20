"""Maxout (Goodfellow et al. 2013): each output unit is the largest of
``pieces`` linear pieces, so a layer learns a convex piecewise-linear
activation of its own.

The input of a maxout layer with F units and K pieces is (N, F*K): unit
``f`` takes the K contiguous values ``x[:, f*K:(f+1)*K]`` (a ``Dense(in, F*K)``
in front of it computes the pieces)::

    y[n, f] = max_k x[n, f*K + k]
    dx[n, f*K + k] = dy[n, f]   if k is the piece that won, else 0

On a tie the first of the tied pieces wins (``argmax``'s rule on every
backend), so the gradient goes to exactly one piece, deterministically.
"""

from .. import backend


def _pieces(x, pieces):
    N, FK = x.shape
    if pieces < 1 or FK % pieces:
        raise ValueError(f"maxout: {FK} input features do not split into units of {pieces} "
                         f"pieces")
    return x.reshape(N, FK // pieces, pieces)


def maxout_forward(x, pieces):
    """``y`` (N, F) of ``x`` (N, F*pieces). Returns ``(y, cache)``."""
    x3 = _pieces(x, pieces)
    winner = x3.argmax(axis=2)                       # (N, F): the first of tied maxima
    return x3.max(axis=2), (winner, x.shape)


def _route(d, winner, shape):
    """``d`` (N, F) put where the winning pieces are, zeros elsewhere: (N, F*K)."""
    xp = backend.get_array_module(d)
    N, FK = shape
    K = FK // winner.shape[1]
    onehot = winner[:, :, None] == xp.arange(K)[None, None, :]
    return (onehot * d[:, :, None]).astype(d.dtype).reshape(shape)


def maxout_backward(dy, cache):
    """``dx``: ``dy`` routed to the winning piece of each unit."""
    winner, shape = cache
    return _route(dy, winner, shape)


def maxout_tangent(xt, cache):
    """The tangent pass: ``yt`` (N, F), the entries of the direction ``xt``
    (N, F*K) at the winning pieces (maxout is linear there)."""
    winner, shape = cache
    xp = backend.get_array_module(xt)
    K = shape[1] // winner.shape[1]
    onehot = winner[:, :, None] == xp.arange(K)[None, None, :]
    return (onehot * xt.reshape(winner.shape + (K,))).sum(axis=2).astype(xt.dtype)
