"""The shape contract every kernel checks before it indexes anything.

A compiled kernel trusts its sizes: if it loops over ``dy.size`` and reads
``y[k]``, a ``dy`` longer than ``y`` reads past ``y``'s end. So each kernel
wrapper (reference, Numba and CuPy alike) states what it expects with these
checks first, and the loops then only use sizes that were checked.
"""


def shapes(kernel, **arrays):
    """Raise ``ValueError`` unless the named arrays all have one shape."""
    items = [(k, tuple(v.shape)) for k, v in arrays.items()]
    first_name, first = items[0]
    for name, shape in items[1:]:
        if shape != first:
            raise ValueError(f"kernel {kernel}: expected {name} of shape {first} (that of "
                             f"{first_name}), got {shape}")


def shape_is(kernel, name, a, shape):
    """Raise ``ValueError`` unless ``a.shape == shape``."""
    if tuple(a.shape) != tuple(shape):
        raise ValueError(f"kernel {kernel}: expected {name} of shape {tuple(shape)}, got "
                         f"{tuple(a.shape)}")


def rank(kernel, name, a, n):
    """Raise ``ValueError`` unless ``a`` has ``n`` axes."""
    if a.ndim != n:
        raise ValueError(f"kernel {kernel}: expected {name} with {n} axes, got shape "
                         f"{tuple(a.shape)}")


# ---------------------------------------------------------------- per kernel
# One function per kernel of reference.py, same name, same leading arguments:
# every implementation calls it before its loops.

def conv_geometry(kernel, x_shape, KH, KW, stride, padding):
    """``(OH, OW)`` of a convolution of ``x_shape`` (N, C, H, W), checked."""
    from .reference import conv_output_size
    if len(x_shape) != 4:
        raise ValueError(f"kernel {kernel}: expected an image shape (N, C, H, W), got "
                         f"{tuple(x_shape)}")
    if KH < 1 or KW < 1 or stride < 1 or padding < 0:
        raise ValueError(f"kernel {kernel}: expected KH, KW, stride >= 1 and padding >= 0, "
                         f"got {KH}, {KW}, {stride}, {padding}")
    OH = conv_output_size(x_shape[2], KH, stride, padding)
    OW = conv_output_size(x_shape[3], KW, stride, padding)
    if OH < 1 or OW < 1:
        raise ValueError(f"kernel {kernel}: a {KH}x{KW} kernel does not fit the padded "
                         f"image {tuple(x_shape)} (padding {padding})")
    return OH, OW


def im2col(x, KH, KW, stride, padding):
    return conv_geometry("im2col", x.shape, KH, KW, stride, padding)


def col2im(cols, x_shape, KH, KW, stride, padding):
    OH, OW = conv_geometry("col2im", x_shape, KH, KW, stride, padding)
    N, C = x_shape[:2]
    shape_is("col2im", "cols", cols, (C * KH * KW, N * OH * OW))
    return OH, OW


def channels_first(a):
    rank("channels_first", "a", a, 3)


def batch_first(a2, N):
    rank("batch_first", "a2", a2, 2)
    if N < 1 or a2.shape[1] % N:
        raise ValueError(f"kernel batch_first: {a2.shape[1]} columns do not split into "
                         f"N = {N} samples")


def bias_act_forward(y, b):
    rank("bias_act_forward", "y", y, 3)
    if b is not None:
        shape_is("bias_act_forward", "b", b, (y.shape[1],))


def leaky_relu_backward(dy, y):
    shapes("leaky_relu_backward", y=y, dy=dy)


def channel_sum(dy):
    rank("channel_sum", "dy", dy, 3)


def batchnorm_forward(x, gamma, beta):
    rank("batchnorm_forward", "x", x, 3)
    for name, a in (("gamma", gamma), ("beta", beta)):
        shape_is("batchnorm_forward", name, a, (x.shape[1],))


def batchnorm_backward(dy, x, mean, var, gamma):
    rank("batchnorm_backward", "x", x, 3)
    shapes("batchnorm_backward", x=x, dy=dy)
    for name, a in (("mean", mean), ("var", var), ("gamma", gamma)):
        shape_is("batchnorm_backward", name, a, (x.shape[1],))


def dropout(x, p, key):
    if not 0 <= p < 1:
        raise ValueError(f"kernel dropout: expected 0 <= p < 1, got {p}")
    if not 0 <= key < 2 ** 64:
        raise ValueError(f"kernel dropout: expected a 64-bit unsigned key, got {key}")


def bce_with_logits(x, t):
    shapes("bce_with_logits", x=x, t=t)


def adam_update(p, g, m, v):
    shapes("adam_update", p=p, g=g, m=m, v=v)


def maxout_forward(x, pieces):
    rank("maxout_forward", "x", x, 2)
    if pieces < 1 or x.shape[1] % pieces:
        raise ValueError(f"kernel maxout_forward: {x.shape[1]} features do not split into "
                         f"units of {pieces} pieces")


def maxout_backward(dy, winner, pieces):
    rank("maxout_backward", "dy", dy, 2)
    shapes("maxout_backward", dy=dy, winner=winner)
    if pieces < 1:
        raise ValueError(f"kernel maxout_backward: expected pieces >= 1, got {pieces}")
