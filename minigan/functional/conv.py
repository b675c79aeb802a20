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

from .. import kernels
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
