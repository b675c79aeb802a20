"""The reference kernels: the hot loops of minigan in plain NumPy.

This file is the *spec*. ``numba_cpu.py`` and ``cupy_gpu.py`` implement the
same functions with the same names and signatures, and the tests assert
that they agree with these. Everything here is written for clarity first.

Layouts shared by every implementation
--------------------------------------
images      ``(N, C, H, W)``, C-contiguous.
columns     ``cols`` of shape ``(C*KH*KW, N*OH*OW)``: row ``(c, i, j)`` holds
            pixel ``x[n, c, oh*s + i - p, ow*s + j - p]`` in column
            ``(n, oh, ow)`` (zero where that falls in the padding). A
            convolution is then one matrix product ``W.reshape(OC, -1) @ cols``.
channels    BatchNorm sees its input as ``(N, C, L)`` (``L = H*W``, or 1 for
            ``(N, C)`` inputs) and normalizes over axes 0 and 2.

Output size of a convolution (integer division, never float)::

    OH = (H + 2*p - KH) // s + 1
"""

import numpy as np

from . import contract

# The kernels: every backend's module has a function of each name, with the
# same signature. The other public functions here (the output size, the
# dropout generator's helpers) are shared by all of them, not twinned.
KERNELS = ("matmul", "channels_first", "batch_first", "im2col", "col2im", "bias_act_forward",
           "leaky_relu_backward", "channel_sum", "batchnorm_forward", "batchnorm_backward",
           "dropout", "maxout_forward", "maxout_backward", "bce_with_logits", "adam_update")


def conv_output_size(H, K, stride, padding):
    """``(H + 2p - K) // s + 1``: output length of a convolution along one axis."""
    return (H + 2 * padding - K) // stride + 1


def conv_transpose_output_size(H, K, stride, padding, output_padding):
    """``(H - 1)*s - 2p + K + op``: output length of a transposed convolution
    (the input length of the convolution it is the adjoint of)."""
    return (H - 1) * stride - 2 * padding + K + output_padding


# ------------------------------------------------------------ matrix product

def matmul(a, b):
    """``a @ b`` (BLAS). A kernel of its own only so that fast backends can
    choose where the (large) result lives: see ``kernels/workspace.py``."""
    return a @ b


# ------------------------------------------------------------ layout changes

def channels_first(a):
    """(N, C, L) -> (C, N*L), a copy: the layout of the matrix products'
    operands and results (column ``n*L + l`` of row ``c`` is ``a[n, c, l]``)."""
    contract.channels_first(a)
    N, C, L = a.shape
    return a.transpose(1, 0, 2).reshape(C, N * L)


def batch_first(a2, N):
    """(C, N*L) -> (N, C, L), a copy: the inverse of :func:`channels_first`."""
    contract.batch_first(a2, N)
    C = a2.shape[0]
    return np.ascontiguousarray(a2.reshape(C, N, -1).transpose(1, 0, 2))


# ---------------------------------------------------------------- im2col

def im2col(x, KH, KW, stride, padding):
    """Unfold the patches of ``x`` into the columns of a matrix.

    Parameters
    ----------
    x : (N, C, H, W) array
    KH, KW, stride, padding : int

    Returns
    -------
    cols : (C*KH*KW, N*OH*OW) array, same dtype as ``x``.

    The loop runs over the ``KH*KW`` kernel offsets only; each offset copies
    one strided slice of the padded image (the idea of Chainer's im2col).
    """
    N, C, H, W = x.shape
    OH, OW = contract.im2col(x, KH, KW, stride, padding)
    p, s = padding, stride
    xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    cols = np.empty((C, KH, KW, N, OH, OW), dtype=x.dtype)
    for i in range(KH):
        for j in range(KW):
            patch = xpad[:, :, i:i + s * OH:s, j:j + s * OW:s]   # (N, C, OH, OW)
            cols[:, i, j] = patch.transpose(1, 0, 2, 3)
    return cols.reshape(C * KH * KW, N * OH * OW)


def col2im(cols, x_shape, KH, KW, stride, padding):
    """The adjoint of :func:`im2col`: fold columns back, summing overlaps.

    Parameters
    ----------
    cols : (C*KH*KW, N*OH*OW) array
    x_shape : (N, C, H, W), the shape of the image the columns came from.

    Returns
    -------
    x : (N, C, H, W) array with ``x[n, c, h, w]`` = the sum of every column
    entry that :func:`im2col` would have read from that pixel.
    """
    N, C, H, W = x_shape
    OH, OW = contract.col2im(cols, x_shape, KH, KW, stride, padding)
    p, s = padding, stride
    cols = cols.reshape(C, KH, KW, N, OH, OW)
    xpad = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=cols.dtype)
    for i in range(KH):
        for j in range(KW):
            xpad[:, :, i:i + s * OH:s, j:j + s * OW:s] += cols[:, i, j].transpose(1, 0, 2, 3)
    return np.ascontiguousarray(xpad[:, :, p:p + H, p:p + W])


# ---------------------------------------------------------- bias + activation

def bias_act_forward(y, b, slope):
    """``act(y + b)`` with ``b`` per channel, in place on ``y``; returns ``y``.

    ``y`` is ``(N, C, L)``; ``b`` is ``(C,)`` or ``None``. ``act`` is the leaky
    ReLU ``max(u, slope*u)`` when ``slope`` is a number (0 gives ReLU) and the
    identity when ``slope`` is ``None``.
    """
    contract.bias_act_forward(y, b)
    if b is not None:
        y += b[None, :, None]
    if slope is not None:
        np.copyto(y, np.where(y > 0, y, y * y.dtype.type(slope)))
    return y


def leaky_relu_backward(dy, y, slope):
    """``dx = dy * (1 if y > 0 else slope)``. Uses the *output* ``y``: for
    ``slope >= 0`` its sign is the sign of the input."""
    contract.leaky_relu_backward(dy, y)
    return np.where(y > 0, dy, dy * dy.dtype.type(slope))


def channel_sum(dy):
    """``dy.sum(axis=(0, 2))`` for ``dy`` of shape ``(N, C, L)``: a bias gradient."""
    contract.channel_sum(dy)
    return dy.sum(axis=(0, 2))


# ----------------------------------------------------------------- BatchNorm

def batchnorm_forward(x, gamma, beta, eps):
    """Training-mode BatchNorm over axes 0 and 2 of ``x`` (N, C, L).

    ``y = gamma * (x - mean) / sqrt(var + eps) + beta`` with the batch mean
    and the biased batch variance. Returns ``(y, mean, var)``, all in
    ``x``'s dtype.

    Computed in float64 and rounded once: in float32, a channel whose
    variance is below ``eps`` multiplies the rounding error of its mean by
    ``1/sqrt(var + eps)`` (up to ~300), and the output would carry that error.
    """
    contract.batchnorm_forward(x, gamma, beta)
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=(0, 2))
    var = x64.var(axis=(0, 2))
    invstd = 1.0 / np.sqrt(var + eps)
    y = (x64 - mean[None, :, None]) * (gamma * invstd)[None, :, None] + beta[None, :, None]
    return y.astype(x.dtype), mean.astype(x.dtype), var.astype(x.dtype)


def batchnorm_backward(dy, x, mean, var, gamma, eps):
    """Gradients of :func:`batchnorm_forward` (in float64, rounded once).

    With ``xhat = (x - mean) * invstd`` and ``M = N*L`` values per channel::

        dbeta  = sum(dy)
        dgamma = sum(dy * xhat)
        dx     = gamma * invstd / M * (M*dy - dbeta - xhat*dgamma)

    Returns ``(dx, dgamma, dbeta)`` in ``x``'s dtype.
    """
    contract.batchnorm_backward(dy, x, mean, var, gamma)
    M = x.shape[0] * x.shape[2]
    dy64 = dy.astype(np.float64)
    invstd = 1.0 / np.sqrt(var.astype(np.float64) + eps)
    xhat = (x - mean.astype(np.float64)[None, :, None]) * invstd[None, :, None]
    dbeta = dy64.sum(axis=(0, 2))
    dgamma = (dy64 * xhat).sum(axis=(0, 2))
    dx = (gamma * invstd / M)[None, :, None] * (
        M * dy64 - dbeta[None, :, None] - xhat * dgamma[None, :, None])
    return dx.astype(x.dtype), dgamma.astype(x.dtype), dbeta.astype(x.dtype)


# ------------------------------------------------------------------ dropout

# Dropout's masks come from a counter-based generator, the same on every
# backend: the uniform draw of element i of a layer's draw number ``counter``
# is a pure function of (seed, counter, i), so each GPU thread or CPU loop
# pass computes its own without a generator state to share, and every backend
# drops the same elements. The function is SplitMix64 (Steele, Lea & Flood,
# "Fast splittable pseudorandom number generators", OOPSLA 2014): its
# finalizer ``mix`` applied to a Weyl sequence with the golden-ratio step.
#
#     key   = mix(seed * GOLDEN + counter)          (per draw, on the host)
#     u_i   = (mix(key + (i + 1) * GOLDEN) >> 40) * 2**-24     (in [0, 1))
#
# all in unsigned 64-bit arithmetic (mod 2**64). The 24 bits of u are exact
# in float32 and float64 alike, so ``u >= p`` decides the same everywhere.

GOLDEN = 0x9E3779B97F4A7C15
MIX1, MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
MASK64 = (1 << 64) - 1


def splitmix64(z):
    """The SplitMix64 finalizer of a Python int (mod 2**64)."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


def dropout_key(seed, counter):
    """The key of draw number ``counter`` of a Dropout layer with ``seed``."""
    return splitmix64((seed * GOLDEN + counter) & MASK64)


def dropout_uniform(key, n):
    """``u_0 .. u_{n-1}`` of the draw with ``key`` (float64 in [0, 1), 24 bits)."""
    z = np.uint64(key) + (np.arange(n, dtype=np.uint64) + np.uint64(1)) * np.uint64(GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) * 2.0 ** -24


def dropout(x, p, key):
    """Inverted dropout of ``x`` with the draw ``key`` (:func:`dropout_key`)::

        mask = (u >= p) / (1 - p)        y = x * mask

    with ``u`` the draw's uniforms in C order of ``x``. Returns ``(y, mask)``."""
    contract.dropout(x, p, key)
    u = dropout_uniform(key, x.size).reshape(x.shape)
    mask = (u >= p).astype(x.dtype) * x.dtype.type(1 / (1 - p))
    return x * mask, mask


# ------------------------------------------------------------------- maxout

def maxout_forward(x, pieces):
    """Maxout of ``x`` (N, F*pieces): ``y[n, f] = max_k x[n, f*pieces + k]``.

    Returns ``(y (N, F), winner (N, F) int64)``, ``winner`` the piece that
    gave the maximum, the first of tied ones."""
    contract.maxout_forward(x, pieces)
    N = x.shape[0]
    x3 = x.reshape(N, -1, pieces)
    winner = x3.argmax(axis=2)
    return np.take_along_axis(x3, winner[:, :, None], axis=2)[:, :, 0], winner


def maxout_backward(dy, winner, pieces):
    """``dx`` (N, F*pieces): ``dy[n, f]`` at the winning piece, 0 elsewhere."""
    contract.maxout_backward(dy, winner, pieces)
    bad = int(((winner < 0) | (winner >= pieces)).sum())
    if bad:
        raise ValueError(f"kernel maxout_backward: winner outside [0, {pieces}) in {bad} units "
                         "(a winner is the index of a unit's largest piece)")
    N, F = dy.shape
    dx = np.zeros((N, F, pieces), dtype=dy.dtype)
    np.put_along_axis(dx, winner[:, :, None], dy[:, :, None], axis=2)
    return dx.reshape(N, F * pieces)


# ------------------------------------------------------------------- losses

def bce_with_logits(x, t):
    """Mean binary cross-entropy of logits ``x`` against targets ``t``.

    Per element, in the form that never overflows::

        loss = max(x, 0) - x*t + log1p(exp(-|x|))
        dloss/dx = sigmoid(x) - t

    ``t`` has the shape of ``x``. Returns ``(mean loss, gradient of the mean
    with respect to x)``: the mean loss is a Python float here (a 0-d device
    array on the GPU, see ``backend.scalar``).
    """
    contract.bce_with_logits(x, t)
    n = x.size
    loss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    e = np.exp(-np.abs(x))                      # in (0, 1]: never overflows
    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return float(loss.sum(dtype=np.float64) / n), ((sig - t) / n).astype(x.dtype)


# --------------------------------------------------------------- optimizers

def adam_update(p, g, m, v, lr, beta1, beta2, eps, step, weight_decay, grad_scale):
    """One Adam step on ``p`` in place (Kingma & Ba 2015, Algorithm 1).

    ``g`` is multiplied by ``grad_scale`` (norm clipping) and gets
    ``weight_decay * p`` added (L2 penalty, as in PyTorch's Adam) first::

        m = beta1*m + (1-beta1)*g
        v = beta2*v + (1-beta2)*g**2
        p -= lr * (m / (1-beta1**step)) / (sqrt(v / (1-beta2**step)) + eps)
    """
    contract.adam_update(p, g, m, v)
    g = g * grad_scale
    if weight_decay:
        g = g + weight_decay * p
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    mhat = m / (1 - beta1 ** step)
    vhat = v / (1 - beta2 ** step)
    p -= (lr * mhat / (np.sqrt(vhat) + eps)).astype(p.dtype)
