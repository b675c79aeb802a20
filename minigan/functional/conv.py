"""2D convolution and its adjoint, the transposed convolution, by im2col.

Shapes (NCHW, PyTorch's weight layouts):

=====================  =====================  =========================
op                     x                      W
=====================  =====================  =========================
conv2d                 (N, C, H, W)           (OC, C, KH, KW)
conv_transpose2d       (N, C, H, W)           (C, OC, KH, KW)
=====================  =====================  =========================

Convolution (cross-correlation, as in every framework)::

    y[n, o, oh, ow] = b[o] + sum_{c,i,j} W[o, c, i, j] * x[n, c, oh*s + i - p, ow*s + j - p]
    OH = (H + 2p - KH) // s + 1

With ``cols = im2col(x)`` of shape (C*KH*KW, N*OH*OW) this is one matrix
product, ``W.reshape(OC, -1) @ cols`` (``kernels.matmul``, which is BLAS on
every backend). Its backward pass is two more::

    dW   = dy2 @ cols.T                   dy2 = dy as (OC, N*OH*OW)
    dx   = col2im(W.reshape(OC, -1).T @ dy2)

The transposed convolution is *defined* as the adjoint of that map
``x -> conv(x)`` (linear in x for fixed W): its forward pass is the
convolution's input-gradient and its input-gradient is the convolution's
forward pass. Its output size, for output padding ``op < s``::

    OH = (H - 1)*s - 2p + KH + op
"""

import numpy as np

from .. import kernels
from ..backend import get_array_module
from ..kernels.reference import conv_output_size, conv_transpose_output_size  # noqa: F401


def _channels_first(a):
    """(N, C, H, W) -> (C, N*H*W) copy: the layout of the columns' outputs."""
    N, C = a.shape[:2]
    return kernels.channels_first(a.reshape(N, C, -1))


def _batch_first(a2, N, C, H, W):
    """(C, N*H*W) -> contiguous (N, C, H, W): inverse of :func:`_channels_first`."""
    return kernels.batch_first(a2, N).reshape(N, C, H, W)


def conv2d_forward(x, W, b=None, stride=1, padding=0):
    """Convolution of ``x`` with ``W``, plus ``b``. Returns ``(y, cache)``,
    y of shape (N, OC, OH, OW)."""
    N, C, H, Wd = x.shape
    OC, _, KH, KW = W.shape
    OH = conv_output_size(H, KH, stride, padding)
    OW = conv_output_size(Wd, KW, stride, padding)
    cols = kernels.im2col(x, KH, KW, stride, padding)
    y2 = kernels.matmul(W.reshape(OC, -1), cols)            # (OC, N*OH*OW)
    y = _batch_first(y2, N, OC, OH, OW)
    kernels.bias_act_forward(y.reshape(N, OC, -1), b, None)
    return y, (cols, W, x.shape, stride, padding, b is not None)


def conv2d_backward(dy, cache, param_grads=True, input_grad=True):
    """Gradients of :func:`conv2d_forward`. Returns ``(dx, dW, db)``."""
    cols, W, x_shape, stride, padding, has_bias = cache
    OC, _, KH, KW = W.shape
    dy2 = _channels_first(dy)                               # (OC, N*OH*OW)
    dW = db = dx = None
    if param_grads:
        dW = kernels.matmul(dy2, cols.T).reshape(W.shape)
        if has_bias:
            db = kernels.channel_sum(dy.reshape(dy.shape[0], OC, -1))
    if input_grad:
        dcols = kernels.matmul(W.reshape(OC, -1).T, dy2)    # (C*KH*KW, N*OH*OW)
        dx = kernels.col2im(dcols, x_shape, KH, KW, stride, padding)
    return dx, dW, db


def conv_transpose2d_forward(x, W, b=None, stride=1, padding=0, output_padding=0):
    """Transposed convolution: the adjoint of :func:`conv2d_forward` with the
    same ``W``. Returns ``(y, cache)``, y of shape (N, OC, OH, OW)."""
    N, C, H, Wd = x.shape
    _, OC, KH, KW = W.shape
    OH = conv_transpose_output_size(H, KH, stride, padding, output_padding)
    OW = conv_transpose_output_size(Wd, KW, stride, padding, output_padding)
    x2 = _channels_first(x)                                 # (C, N*H*W)
    # A contiguous copy of the (small) transposed weight: OpenBLAS multiplies
    # a transposed left operand of this shape 2x slower than a plain one.
    Wt = W.reshape(C, -1).T.copy()                          # (OC*KH*KW, C)
    cols = kernels.matmul(Wt, x2)                           # (OC*KH*KW, N*H*W)
    y = kernels.col2im(cols, (N, OC, OH, OW), KH, KW, stride, padding)
    kernels.bias_act_forward(y.reshape(N, OC, -1), b, None)
    return y, (x2, W, x.shape, stride, padding, b is not None)


def conv_transpose2d_backward(dy, cache, param_grads=True, input_grad=True):
    """Gradients of :func:`conv_transpose2d_forward`. Returns ``(dx, dW, db)``."""
    x2, W, x_shape, stride, padding, has_bias = cache
    C, OC, KH, KW = W.shape
    N, _, H, Wd = x_shape
    dcols = kernels.im2col(dy, KH, KW, stride, padding)     # (OC*KH*KW, N*H*W)
    dW = db = dx = None
    if param_grads:
        dW = kernels.matmul(x2, dcols.T).reshape(W.shape)
        if has_bias:
            db = kernels.channel_sum(dy.reshape(N, OC, -1))
    if input_grad:
        dx = _batch_first(kernels.matmul(W.reshape(C, -1), dcols), N, C, H, Wd)
    return dx, dW, db


# ------------------------------------------------ constant input channels
#
# A conditional critic sees its label (or cluster) as K extra input channels,
# each constant over its plane: channel k holds v[n, k] everywhere. Their
# share of the convolution does not depend on the pixel values, only on
# where the kernel overlaps the padding, so it is K fixed maps per step::
#
#     y = conv(x_image, W_image) + sum_k v[n, k] * M[k]
#     M[k, o, a, b] = sum over taps (i, j) that read inside the image of W[o, C + k, i, j]
#
# which costs K*OC*OH*OW multiply-adds per sample instead of K*KH*KW times
# that, and no im2col rows for the K planes (20 of the default critic's 21
# input channels). Same function, same weight layout (OC, C + K, KH, KW).
#
# The gradient for the constant channels is the one along constant planes:
# dL/dv[n, k] / (H*W) on every pixel of plane k, the mean over the plane of
# the per-pixel gradient (a direction that keeps the planes constant, e.g.
# adding t to all of plane k, sees exactly dL/dv * t).


def _tap_mask(n_out, n_in, k, stride, padding, xp, dtype):
    """(n_out, k): 1 where tap i of output o reads inside the input, 0 where
    it reads the zero padding."""
    pos = xp.arange(n_out)[:, None] * stride + xp.arange(k)[None, :] - padding
    return ((pos >= 0) & (pos < n_in)).astype(dtype)


def _constant_maps(Wc, masks):
    """(K, OC*OH*OW): M[k, o, a, b] = sum_ij A[a, i] Wc[o, k, i, j] B[b, j]."""
    A, B = masks
    m = A @ (Wc @ B.T)                                      # (OC, K, OH, OW)
    return m.transpose(1, 0, 2, 3).reshape(Wc.shape[1], -1)


def _constant_values(x, C, xp):
    """The K = x.shape[1] - C constant channels' values (N, K), checked to be
    constant over their planes. On the host a violation raises; on a device
    (where a check would stall the stream) the output is made NaN instead."""
    planes = x[:, C:]
    v = xp.ascontiguousarray(planes[:, :, 0, 0])
    same = (planes == v[:, :, None, None]).all()
    if xp is np:
        if not same:
            raise ValueError(f"conv2d: input channels {C}..{x.shape[1] - 1} are declared "
                             f"constant over each plane (constant_channels="
                             f"{x.shape[1] - C}), but they vary within a plane")
        return v, None
    return v, xp.where(same, 0, float("nan")).astype(x.dtype)


def conv2d_constant_forward(x, W, b=None, stride=1, padding=0, constant=0):
    """:func:`conv2d_forward` for an ``x`` whose last ``constant`` channels
    are each constant over their plane (checked). Returns ``(y, cache)``."""
    xp = get_array_module(x)
    N, Ct, H, Wd = x.shape
    C = Ct - constant
    OC, _, KH, KW = W.shape
    y, cache = conv2d_forward(xp.ascontiguousarray(x[:, :C]), xp.ascontiguousarray(W[:, :C]),
                              b, stride, padding)
    OH, OW = y.shape[2:]
    masks = (_tap_mask(OH, H, KH, stride, padding, xp, W.dtype),
             _tap_mask(OW, Wd, KW, stride, padding, xp, W.dtype))
    v, poison = _constant_values(x, C, xp)
    maps = _constant_maps(W[:, C:], masks)                  # (K, OC*OH*OW)
    y += kernels.matmul(v, maps).reshape(y.shape)
    if poison is not None:
        y += poison
    return y, (cache, v, maps, masks, (H, Wd))


def conv2d_constant_backward(dy, cache, param_grads=True, input_grad=True):
    """Gradients of :func:`conv2d_constant_forward`. Returns ``(dx, dW, db)``."""
    xp = get_array_module(dy)
    inner, v, maps, (A, B), (H, Wd) = cache
    N, K = v.shape
    OC, OH, OW = dy.shape[1:]
    dx, dW, db = conv2d_backward(dy, inner, param_grads, input_grad)
    dy2 = xp.ascontiguousarray(dy).reshape(N, -1)
    if param_grads:
        S = kernels.matmul(v.T.copy(), dy2).reshape(K, OC, OH, OW)
        dWc = (A.T @ S @ B).transpose(1, 0, 2, 3)           # (OC, K, KH, KW)
        dW = xp.concatenate([dW, dWc], axis=1)
    if input_grad:
        dv = kernels.matmul(dy2, maps.T.copy()) / (H * Wd)  # (N, K)
        planes = xp.broadcast_to(dv[:, :, None, None], (N, K, H, Wd))
        dx = xp.concatenate([dx, planes], axis=1)
    return dx, dW, db
