"""Spectral normalization (Miyato et al. 2018): divide a weight by its
largest singular value, so that the layer is 1-Lipschitz.

The weight ``W`` is viewed as a matrix ``M`` of shape (rows, rest): (out, in)
for a Dense layer, (out channels, in channels*k*k) for a convolution. A unit
vector ``u`` (rows,) is kept between steps and refined by power iteration::

    v = M.T u / ||M.T u||,   u = M v / ||M v||        (n times, training only)

and with that ``u``::

    sigma(W) = ||M.T u|| = u.T M v,   v = M.T u / sigma,   W_sn = W / sigma

For a fixed ``u`` this ``sigma`` is an exact, differentiable function of W
(it is the largest singular value once ``u`` has converged), with
``dsigma/dM = u v.T``. The backward pass follows (G = dL/dW_sn)::

    dL/dW = (G - <G, W_sn> u v.T) / sigma

(``<A, B>`` = sum of A*B). ``u`` itself is treated as a constant, as in the
paper: it changes only through the power iteration, between forwards.
"""

from .. import backend


def _normalize(a, eps):
    xp = backend.get_array_module(a)
    return a / (xp.sqrt((a * a).sum()) + eps)


def spectral_norm_forward(W, u, n_iterations=1, eps=1e-12):
    """``W / sigma(W)``; ``u`` (rows,) is refined in place by ``n_iterations``
    power iterations first (0 in eval mode). Returns ``(W_sn, cache)``."""
    M = W.reshape(W.shape[0], -1)
    for _ in range(n_iterations):
        v = _normalize(M.T @ u, eps)
        u[...] = _normalize(M @ v, eps)
    v = M.T @ u
    xp = backend.get_array_module(W)
    sigma = xp.sqrt((v * v).sum()) + eps
    v = v / sigma
    W_sn = W / sigma
    return W_sn, (u.copy(), v, sigma, W_sn)


def spectral_norm_backward(dW_sn, cache):
    """``dL/dW`` from ``dL/dW_sn`` (see the module docstring)."""
    u, v, sigma, W_sn = cache
    G = dW_sn.reshape(u.shape[0], -1)
    inner = (G * W_sn.reshape(G.shape)).sum()
    return ((G - inner * (u[:, None] * v[None, :])) / sigma).reshape(dW_sn.shape)
