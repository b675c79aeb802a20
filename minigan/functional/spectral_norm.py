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

**Per piece.** A Dense layer that feeds a ``Maxout(k)`` holds k weights in
one: row ``f*k + p`` is piece p of unit f. Normalizing the whole matrix
makes the pieces share one norm (each piece's largest singular value is at
most 1, about ``1/sqrt(k)`` when they are alike). With ``u`` of shape
(k, rows/k) each piece ``M_p`` (the rows ``p, p+k, ...``) is normalized by
its own ``sigma_p`` with its own ``u_p``; the formulas above hold piece by
piece. The maxout layer's Lipschitz bound is then ``sqrt(k)``, not 1, since
``|max_p a_p - max_p b_p| <= max_p |a_p - b_p|``.
"""

from .. import backend


def _normalize(a, eps):
    xp = backend.get_array_module(a)
    return a / (xp.sqrt((a * a).sum()) + eps)


def spectral_norm_forward(W, u, n_iterations=1, eps=1e-12):
    """``W / sigma(W)``; ``u`` (rows,) is refined in place by ``n_iterations``
    power iterations first (0 in eval mode). With ``u`` of shape (k, rows/k)
    each of the k interleaved pieces has its own sigma (see the module
    docstring). Returns ``(W_sn, cache)``."""
    if u.ndim == 2:
        return _per_piece_forward(W, u, n_iterations, eps)
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
    if u.ndim == 2:
        return _per_piece_backward(dW_sn, cache)
    G = dW_sn.reshape(u.shape[0], -1)
    inner = (G * W_sn.reshape(G.shape)).sum()
    return ((G - inner * (u[:, None] * v[None, :])) / sigma).reshape(dW_sn.shape)


def _pieces(A, k):
    """(rows, ...) -> (k, rows/k, rest): piece p is the rows p, p+k, ..."""
    return A.reshape(A.shape[0] // k, k, -1).swapaxes(0, 1)


def _unit_rows(a, eps):
    xp = backend.get_array_module(a)
    return a / (xp.sqrt((a * a).sum(axis=1, keepdims=True)) + eps)


def _per_piece_forward(W, u, n_iterations, eps):
    k = u.shape[0]
    M = _pieces(W, k)                                   # (k, F, rest), a view of W
    for _ in range(n_iterations):
        v = _unit_rows((M.swapaxes(1, 2) @ u[:, :, None])[:, :, 0], eps)
        u[...] = _unit_rows((M @ v[:, :, None])[:, :, 0], eps)
    v = (M.swapaxes(1, 2) @ u[:, :, None])[:, :, 0]     # (k, rest)
    xp = backend.get_array_module(W)
    sigma = xp.sqrt((v * v).sum(axis=1)) + eps          # (k,)
    v = v / sigma[:, None]
    W_sn = (M / sigma[:, None, None]).swapaxes(0, 1).reshape(W.shape)
    return W_sn, (u.copy(), v, sigma, W_sn)


def _per_piece_backward(dW_sn, cache):
    u, v, sigma, W_sn = cache
    k = u.shape[0]
    G = _pieces(dW_sn, k)
    inner = (G * _pieces(W_sn, k)).sum(axis=(1, 2))      # (k,)
    dM = (G - inner[:, None, None] * (u[:, :, None] * v[:, None, :])) / sigma[:, None, None]
    return dM.swapaxes(0, 1).reshape(dW_sn.shape)
