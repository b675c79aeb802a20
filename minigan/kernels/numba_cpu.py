"""Numba twins of the reference kernels (``reference.py`` is the spec).

Same names, same signatures, same results (to rounding). Each public
function is a thin Python wrapper that turns optional arguments into flags
and calls a compiled ``_kernel``. Rules kept throughout:

* ``@njit(cache=True)``: compiled once per machine, then loaded from the
  on-disk cache (``__pycache__``) by every later process;
* ``prange`` only over independent outputs: every parallel iteration owns
  the slice it writes (a row of ``cols``, a channel), so there is never a
  racing ``+=``. col2im sums into the channel (of a block of samples) that
  its iteration owns, reading ``cols`` rows in order (on the GPU, where
  threads are per pixel, it is a gather instead);
* no ``fastmath``: results must agree with the reference to rounding;
* reductions (BatchNorm statistics, BCE) accumulate in float64;
* large outputs come from the workspace pool (``workspace.py``), which
  spares the page faults of fresh 100 MB allocations every step;
* OpenMP threads wait passively (``OMP_WAIT_POLICY=PASSIVE``, set as a
  default when minigan is imported: see ``minigan/backend.py``), and small
  work never wakes them (``_Kernel``, ``ONE_THREAD_BELOW``);
* hot loops index flat views with unsigned integers (see "Flat unsigned
  indexing" below).
"""

import functools
import math
import types

import numpy as np
from numba import njit, prange

from . import contract, workspace
from .reference import GOLDEN, MIX1, MIX2, conv_output_size


# Small work on one thread. The OpenMP threads wait passively (so that they
# never spin against BLAS's threads), and waking them costs about 100 us per
# parallel kernel on a 2-core machine: more than a bias pass over a (64, 1024)
# batch takes on one thread (8 us). So every kernel is compiled twice, with
# its parallel loops and as plain loops, and work on fewer elements than the
# kernel's ``one_thread_below`` runs the plain one (no threads to wake). The
# thresholds are the crossovers measured by ``benchmarks/threads.py`` on 2
# cores (benchmarks/README.md): memory-bound passes (bias, leaky ReLU,
# layout changes) gain from a second thread only past 2^21 to 2^22
# elements, BatchNorm and maxout past 2^17, Adam (whose parallel loop is
# also vectorized) past 2^15; the kernels it does not time keep 2^18.
ONE_THREAD_BELOW = 1 << 18
ALWAYS_PARALLEL = False          # tests set it to run every parallel loop


class _Kernel:
    """One kernel body, compiled as ``parallel`` (prange over the threads) and
    as ``one_thread`` (prange as range). The second is a copy of the function
    under its own name, so that Numba caches the two apart."""

    def __init__(self, fn, one_thread_below=ONE_THREAD_BELOW):
        plain = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_one_thread",
                                   fn.__defaults__, fn.__closure__)
        plain.__qualname__ = fn.__qualname__ + "_one_thread"
        self.parallel = njit(cache=True, parallel=True)(fn)
        self.one_thread = njit(cache=True)(plain)
        self.one_thread_below = one_thread_below


def _kernel(one_thread_below):
    """``@_kernel(n)``: a :class:`_Kernel` that runs on one thread below n elements."""
    return functools.partial(_Kernel, one_thread_below=one_thread_below)


def _in_parallel(kernel, size):
    """Whether :func:`_launch` runs ``kernel`` on ``size`` elements over the threads."""
    return ALWAYS_PARALLEL or size >= kernel.one_thread_below


def _launch(kernel, size, *args):
    """Run a :class:`_Kernel` on ``args``, on one thread when ``size`` is small."""
    if _in_parallel(kernel, size):
        return kernel.parallel(*args)
    return kernel.one_thread(*args)


def matmul(a, b):
    """``a @ b`` by BLAS, written into a pooled workspace array."""
    return np.matmul(a, b, out=workspace.empty((a.shape[0], b.shape[1]),
                                               np.result_type(a, b)))


# ------------------------------------------------------------ layout changes


@_kernel(1 << 21)
def _channels_first(a, out):
    N, C, L = a.shape
    for c in prange(C):                      # one output row per iteration
        for n in range(N):
            for l in range(L):
                out[c, n * L + l] = a[n, c, l]


def channels_first(a):
    contract.channels_first(a)
    N, C, L = a.shape
    out = workspace.empty((C, N * L), a.dtype)
    _launch(_channels_first, a.size, np.ascontiguousarray(a), out)
    return out


@_kernel(1 << 21)
def _batch_first(a2, out):
    N, C, L = out.shape
    for n in prange(N):                      # one output sample per iteration
        for c in range(C):
            for l in range(L):
                out[n, c, l] = a2[c, n * L + l]


def batch_first(a2, N):
    contract.batch_first(a2, N)
    C = a2.shape[0]
    out = workspace.empty((N, C, a2.shape[1] // N), a2.dtype)
    _launch(_batch_first, a2.size, np.ascontiguousarray(a2), out)
    return out


# ---------------------------------------------------------------- im2col

# Flat unsigned indexing. Numba wraps negative indices around (a[-1] is the
# last element), so every signed index costs a compare and a select per
# dimension; in these copy loops, whose rows are only 7 to 28 elements long,
# that bookkeeping was most of the time. The hot loops index flat views with
# unsigned integers (``U``), which Numba never wraps (with the gather table
# below, im2col and col2im became 3-4x faster: benchmarks/README.md). Every
# index is in range by construction (the wrapper checked the sizes;
# ``_valid_range`` or the gather table bounds the taps), and is formed as a
# non-negative signed integer before it is cast.
U = np.uint64


@njit(cache=True)
def _valid_range(n_out, n_in, k, s, p):
    """The outputs o in [lo, hi) whose input index o*s + k - p is inside [0, n_in)."""
    lo = max(0, (p - k + s - 1) // s)
    hi = min(n_out, (n_in - 1 + p - k) // s + 1)
    return lo, max(lo, hi)


@functools.lru_cache(maxsize=64)
def _tap_table(H, W, KH, KW, s, p):
    """(KH*KW, OH*OW) int64: for tap t = i*KW + j and output pixel q = oh*OW + ow,
    the offset h*W + w in an input plane that it reads, or -1 where it reads
    the zero padding. One gather table lets the copy loops run over a whole
    output plane (OH*OW elements) instead of rows of OW; every offset is in
    [0, H*W) by construction."""
    OH, OW = conv_output_size(H, KH, s, p), conv_output_size(W, KW, s, p)
    h = np.arange(OH)[None, :, None] * s + np.arange(KH)[:, None, None] - p    # (KH, OH, 1)
    w = np.arange(OW)[None, None, :] * s + np.arange(KW)[:, None, None] - p    # (KW, 1, OW)
    inside = ((h >= 0) & (h < H))[:, None] & ((w >= 0) & (w < W))[None, :]     # (KH, KW, OH, OW)
    table = np.where(inside, h[:, None] * W + w[None, :], -1).reshape(KH * KW, OH * OW)
    table.flags.writeable = False
    return table


@_Kernel
def _im2col(x, table, cols):
    N, C, H, W = x.shape
    T, P = table.shape
    NP = N * P
    xf = x.reshape(-1)                       # flat views, indexed by unsigned ints
    cf = cols.reshape(-1)                    # (see "Flat unsigned indexing" above)
    for r in prange(C * T):                  # one row of cols per iteration
        c = r // T
        t = r % T
        for n in range(N):
            plane = (n * C + c) * H * W
            dst = r * NP + n * P
            for q in range(P):
                k = table[U(t), U(q)]
                cf[U(dst + q)] = xf[U(plane + k)] if k >= 0 else 0


def im2col(x, KH, KW, stride, padding):
    N, C, H, W = x.shape
    OH, OW = contract.im2col(x, KH, KW, stride, padding)
    cols = workspace.empty((C * KH * KW, N * OH * OW), x.dtype)
    _launch(_im2col, cols.size, np.ascontiguousarray(x), _tap_table(H, W, KH, KW, stride, padding),
            cols)
    return cols


@_Kernel
def _col2im(cols, KH, KW, s, p, OH, OW, nb, x):
    N, C, H, W = x.shape
    P = OH * OW
    NP = N * P
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    blocks = (N + nb - 1) // nb
    for task in prange(C * blocks):          # one channel of a block of samples per
        c = task // blocks                   # iteration: it sums into x[n0:n1, c]
        n0 = (task % blocks) * nb            # only, which no other iteration
        n1 = min(N, n0 + nb)                 # touches; cols rows are read in order
        for n in range(n0, n1):
            plane = (n * C + c) * H * W
            for k in range(H * W):
                xf[U(plane + k)] = 0
        for i in range(KH):
            oh_lo, oh_hi = _valid_range(OH, H, i, s, p)
            for j in range(KW):
                ow_lo, ow_hi = _valid_range(OW, W, j, s, p)
                r = (c * KH + i) * KW + j
                for n in range(n0, n1):
                    plane = (n * C + c) * H * W
                    for oh in range(oh_lo, oh_hi):
                        dst = plane + (oh * s + i - p) * W + j - p
                        src = r * NP + n * P + oh * OW
                        for ow in range(ow_lo, ow_hi):
                            xf[U(dst + ow * s)] += cf[U(src + ow)]


@_Kernel
def _col2im_strided(cols, table, nb, x):
    """:func:`_col2im` through the gather table (used for stride > 1, where
    the rows of taps are short and strided and a whole plane per loop wins)."""
    N, C, H, W = x.shape
    T, P = table.shape
    NP = N * P
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    blocks = (N + nb - 1) // nb
    for task in prange(C * blocks):          # as _col2im: x[n0:n1, c] is this task's own
        c = task // blocks
        n0 = (task % blocks) * nb
        n1 = min(N, n0 + nb)
        for n in range(n0, n1):
            plane = (n * C + c) * H * W
            for k in range(H * W):
                xf[U(plane + k)] = 0
        for t in range(T):
            for n in range(n0, n1):
                plane = (n * C + c) * H * W
                src = (c * T + t) * NP + n * P
                for q in range(P):
                    k = table[U(t), U(q)]
                    if k >= 0:
                        xf[U(plane + k)] += cf[U(src + q)]


def col2im(cols, x_shape, KH, KW, stride, padding):
    N, C, H, W = x_shape
    OH, OW = contract.col2im(cols, x_shape, KH, KW, stride, padding)
    x = workspace.empty((N, C, H, W), cols.dtype)
    # samples per task: whole batch when there are channels enough to share
    # out, else blocks so that there are at least 16 tasks
    nb = max(1, min(N, (N * C) // 16))
    cols = np.ascontiguousarray(cols)
    if stride > 1:
        _launch(_col2im_strided, cols.size, cols, _tap_table(H, W, KH, KW, stride, padding), nb, x)
    else:
        _launch(_col2im, cols.size, cols, KH, KW, stride, padding, OH, OW, nb, x)
    return x


# ---------------------------------------------------------- bias + activation


@_kernel(1 << 21)
def _bias_act(y, b, has_bias, bias_on_last, has_act, slope):
    N, C, L = y.shape
    yf = y.reshape(-1)
    for n in prange(N):
        for c in range(C):
            row = (n * C + c) * L
            for l in range(L):
                u = yf[U(row + l)]
                if has_bias:
                    u += b[U(l)] if bias_on_last else b[U(c)]
                if has_act and u <= 0:
                    u = u * slope
                yf[U(row + l)] = u


def bias_act_forward(y, b, slope):
    contract.bias_act_forward(y, b)
    if b is None and slope is None:
        return y
    bias = b if b is not None else np.zeros(1, dtype=y.dtype)
    N, C, L = y.shape
    # one value per channel (a Dense layer's output): the channels as the
    # inner loop, so that the loop is long and the bias is read in order
    work = np.ascontiguousarray(y)          # y itself, unless it is a strided view
    _launch(_bias_act, y.size, work.reshape(N, 1, C) if L == 1 else work, bias,
            b is not None, L == 1, slope is not None, 0.0 if slope is None else slope)
    if work is not y:
        y[...] = work
    return y


@_kernel(1 << 22)
def _leaky_backward(dy, y, slope, dx):
    for k in prange(dy.size):
        dx[k] = dy[k] if y[k] > 0 else dy[k] * slope


def leaky_relu_backward(dy, y, slope):
    contract.leaky_relu_backward(dy, y)
    dx = workspace.empty(dy.shape, dy.dtype)
    _launch(_leaky_backward, dy.size, np.ascontiguousarray(dy).reshape(-1),
            np.ascontiguousarray(y).reshape(-1),
                    slope, dx.reshape(-1))
    return dx


@_Kernel
def _channel_sum(dy, out):
    N, C, L = dy.shape
    for c in prange(C):
        acc = 0.0
        for n in range(N):
            for l in range(L):
                acc += dy[n, c, l]
        out[c] = acc


def channel_sum(dy):
    contract.channel_sum(dy)
    out = np.empty(dy.shape[1], dtype=dy.dtype)
    _launch(_channel_sum, dy.size, dy, out)
    return out


# ----------------------------------------------------------------- BatchNorm


def _channel_block(C, kernel, size):
    """Channels per task: about 8 tasks when ``kernel`` runs over the threads,
    so that each sweeps the samples in memory order over a contiguous block
    of channels; all C in one block on one thread."""
    return max(1, -(-C // 8)) if _in_parallel(kernel, size) else C


@_kernel(1 << 17)
def _bn_forward(x, gamma, beta, eps, cb, y, mean, var):
    N, C, L = x.shape
    M = N * L
    for blk in prange((C + cb - 1) // cb):   # one block of channels per iteration
        c0 = blk * cb
        c1 = min(C, c0 + cb)
        s = np.zeros(c1 - c0)                # float64 sums
        for n in range(N):
            for c in range(c0, c1):
                for l in range(L):
                    s[c - c0] += x[n, c, l]
        mu = s / M
        q = np.zeros(c1 - c0)
        for n in range(N):
            for c in range(c0, c1):
                for l in range(L):
                    d = x[n, c, l] - mu[c - c0]
                    q[c - c0] += d * d
        v = q / M
        scale = gamma[c0:c1] / np.sqrt(v + eps)
        shift = beta[c0:c1] - mu * scale
        for n in range(N):
            for c in range(c0, c1):
                for l in range(L):
                    y[n, c, l] = x[n, c, l] * scale[c - c0] + shift[c - c0]
        for c in range(c0, c1):
            mean[c] = mu[c - c0]
            var[c] = v[c - c0]


@_kernel(1 << 17)
def _bn_forward_2d(x, gamma, beta, eps, cb, y, mean, var):
    """The (N, C) case (BatchNorm after a Dense): the channel loop innermost,
    over one sample's row of the block (a contiguous slice indexed from 0,
    which Numba vectorizes; ``x[n, c]`` for c from c0 does not)."""
    N, C = x.shape
    for blk in prange((C + cb - 1) // cb):
        c0 = blk * cb
        c1 = min(C, c0 + cb)
        W = c1 - c0
        s = np.zeros(W)
        for n in range(N):
            xr = x[n, c0:c1]
            for k in range(W):
                s[k] += xr[k]
        mu = s / N
        q = np.zeros(W)
        for n in range(N):
            xr = x[n, c0:c1]
            for k in range(W):
                d = xr[k] - mu[k]
                q[k] += d * d
        v = q / N
        scale = gamma[c0:c1] / np.sqrt(v + eps)
        shift = beta[c0:c1] - mu * scale
        for n in range(N):
            xr = x[n, c0:c1]
            yr = y[n, c0:c1]
            for k in range(W):
                yr[k] = xr[k] * scale[k] + shift[k]
        mean[c0:c1] = mu
        var[c0:c1] = v


def batchnorm_forward(x, gamma, beta, eps):
    contract.batchnorm_forward(x, gamma, beta)
    N, C, L = x.shape
    y = workspace.empty(x.shape, x.dtype)
    mean = np.empty(C, dtype=x.dtype)
    var = np.empty(C, dtype=x.dtype)
    if L == 1:
        _launch(_bn_forward_2d, x.size, x.reshape(N, C), gamma, beta, eps,
                _channel_block(C, _bn_forward_2d, x.size), y.reshape(N, C), mean, var)
    else:
        _launch(_bn_forward, x.size, x, gamma, beta, eps, _channel_block(C, _bn_forward, x.size),
                y, mean, var)
    return y, mean, var


@_kernel(1 << 17)
def _bn_backward(dy, x, mean, var, gamma, eps, cb, dx, dgamma, dbeta):
    N, C, L = x.shape
    M = N * L
    for blk in prange((C + cb - 1) // cb):   # one block of channels per iteration
        c0 = blk * cb
        c1 = min(C, c0 + cb)
        invstd = 1.0 / np.sqrt(var[c0:c1].astype(np.float64) + eps)
        mu = mean[c0:c1].astype(np.float64)
        sdy = np.zeros(c1 - c0)
        sdyx = np.zeros(c1 - c0)
        for n in range(N):
            for c in range(c0, c1):
                k = c - c0
                for l in range(L):
                    g = dy[n, c, l]
                    sdy[k] += g
                    sdyx[k] += g * (x[n, c, l] - mu[k]) * invstd[k]
        coef = gamma[c0:c1] * invstd / M
        for n in range(N):
            for c in range(c0, c1):
                k = c - c0
                for l in range(L):
                    xhat = (x[n, c, l] - mu[k]) * invstd[k]
                    dx[n, c, l] = coef[k] * (M * dy[n, c, l] - sdy[k] - xhat * sdyx[k])
        for c in range(c0, c1):
            dgamma[c] = sdyx[c - c0]
            dbeta[c] = sdy[c - c0]


@_kernel(1 << 17)
def _bn_backward_2d(dy, x, mean, var, gamma, eps, cb, dx, dgamma, dbeta):
    """The (N, C) case: the channel loop innermost, over rows as in the forward."""
    N, C = x.shape
    for blk in prange((C + cb - 1) // cb):
        c0 = blk * cb
        c1 = min(C, c0 + cb)
        W = c1 - c0
        invstd = 1.0 / np.sqrt(var[c0:c1].astype(np.float64) + eps)
        mu = mean[c0:c1].astype(np.float64)
        sdy = np.zeros(W)
        sdyx = np.zeros(W)
        for n in range(N):
            xr = x[n, c0:c1]
            gr = dy[n, c0:c1]
            for k in range(W):
                g = gr[k]
                sdy[k] += g
                sdyx[k] += g * (xr[k] - mu[k]) * invstd[k]
        coef = gamma[c0:c1] * invstd / N
        for n in range(N):
            xr = x[n, c0:c1]
            gr = dy[n, c0:c1]
            dr = dx[n, c0:c1]
            for k in range(W):
                xhat = (xr[k] - mu[k]) * invstd[k]
                dr[k] = coef[k] * (N * gr[k] - sdy[k] - xhat * sdyx[k])
        dgamma[c0:c1] = sdyx
        dbeta[c0:c1] = sdy


def batchnorm_backward(dy, x, mean, var, gamma, eps):
    contract.batchnorm_backward(dy, x, mean, var, gamma)
    N, C, L = x.shape
    dx = workspace.empty(x.shape, x.dtype)
    dgamma = np.empty(C, dtype=x.dtype)
    dbeta = np.empty(C, dtype=x.dtype)
    if L == 1:
        _launch(_bn_backward_2d, x.size, dy.reshape(N, C), x.reshape(N, C), mean, var, gamma,
                eps,
                _channel_block(C, _bn_backward_2d, x.size), dx.reshape(N, C), dgamma, dbeta)
    else:
        _launch(_bn_backward, x.size, dy, x, mean, var, gamma, eps,
                _channel_block(C, _bn_backward, x.size), dx, dgamma, dbeta)
    return dx, dgamma, dbeta


# ------------------------------------------------------------------ dropout


@_kernel(1 << 19)
def _dropout(x, p, key, scale, y, mask):
    # the counter-based draw of reference.dropout_uniform, one element per pass;
    # every constant is uint64 so that Numba keeps the arithmetic mod 2**64
    golden, mix1, mix2 = np.uint64(GOLDEN), np.uint64(MIX1), np.uint64(MIX2)
    s30, s27, s31, s40 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(40)
    for k in prange(x.size):
        z = key + (np.uint64(k) + np.uint64(1)) * golden
        z = (z ^ (z >> s30)) * mix1
        z = (z ^ (z >> s27)) * mix2
        z = z ^ (z >> s31)
        u = np.float64(z >> s40) * 5.9604644775390625e-08      # 2**-24
        m = scale if u >= p else scale * 0
        mask[k] = m
        y[k] = x[k] * m


def dropout(x, p, key):
    contract.dropout(x, p, key)
    y = workspace.empty(x.shape, x.dtype)
    mask = workspace.empty(x.shape, x.dtype)
    _launch(_dropout, x.size, np.ascontiguousarray(x).reshape(-1), p, np.uint64(key),
            x.dtype.type(1 / (1 - p)),
             y.reshape(-1), mask.reshape(-1))
    return y, mask


# ------------------------------------------------------------------- maxout


@_kernel(1 << 17)
def _maxout_forward(x, K, y, winner):
    N, F = y.shape
    for n in prange(N):                      # one sample's units per iteration
        for f in range(F):
            best, arg = x[n, f * K], 0
            for k in range(1, K):
                if x[n, f * K + k] > best:       # strictly greater: the first tie wins
                    best, arg = x[n, f * K + k], k
            y[n, f] = best
            winner[n, f] = arg


def maxout_forward(x, pieces):
    contract.maxout_forward(x, pieces)
    N = x.shape[0]
    y = np.empty((N, x.shape[1] // pieces), dtype=x.dtype)
    winner = np.empty(y.shape, dtype=np.int64)
    _launch(_maxout_forward, x.size, np.ascontiguousarray(x), pieces, y, winner)
    return y, winner


@_kernel(1 << 17)
def _maxout_backward(dy, winner, K, dx):
    """Returns how many winners lie outside [0, K) (those units' gradients are
    not written: a winner is an index, checked before it is used)."""
    N, F = dy.shape
    bad = 0
    for n in prange(N):
        row = dx[n]
        row[:] = 0                           # the losing pieces (a vectorized fill)
        for f in range(F):
            w = winner[n, f]
            if 0 <= w < K:
                row[f * K + w] = dy[n, f]
            else:
                bad += 1
    return bad


def maxout_backward(dy, winner, pieces):
    contract.maxout_backward(dy, winner, pieces)
    N, F = dy.shape
    dx = np.empty((N, F * pieces), dtype=dy.dtype)
    bad = _launch(_maxout_backward, dx.size, np.ascontiguousarray(dy),
                  np.ascontiguousarray(winner), pieces, dx)
    if bad:
        raise ValueError(f"kernel maxout_backward: winner outside [0, {pieces}) in {bad} units "
                         "(a winner is the index of a unit's largest piece)")
    return dx


# ------------------------------------------------------------------- losses


@njit(cache=True)
def _bce_logits(x, t, dx):
    n = x.size
    acc = 0.0
    for k in range(n):
        v = x[k]
        e = math.exp(-abs(v))                # in (0, 1]: never overflows
        acc += max(v, 0.0) - v * t[k] + math.log1p(e)
        sig = 1.0 / (1.0 + e) if v >= 0 else e / (1.0 + e)
        dx[k] = (sig - t[k]) / n
    return acc / n


def bce_with_logits(x, t):
    contract.bce_with_logits(x, t)
    dx = np.empty_like(x)
    loss = _bce_logits(np.ascontiguousarray(x).reshape(-1),
                       np.ascontiguousarray(t).reshape(-1), dx.reshape(-1))
    return float(loss), dx


# --------------------------------------------------------------- optimizers


@_kernel(1 << 15)
def _adam(p, g, m, v, lr, b1, b2, eps, c1, c2, wd, scale):
    for k in prange(p.size):                 # one parameter per iteration
        gk = g[k] * scale + wd * p[k]
        mk = b1 * m[k] + (1 - b1) * gk
        vk = b2 * v[k] + (1 - b2) * gk * gk
        m[k] = mk
        v[k] = vk
        p[k] -= lr * (mk / c1) / (math.sqrt(vk / c2) + eps)


def adam_update(p, g, m, v, lr, beta1, beta2, eps, step, weight_decay, grad_scale):
    contract.adam_update(p, g, m, v)
    if not (p.flags.c_contiguous and m.flags.c_contiguous and v.flags.c_contiguous):
        raise ValueError("adam_update: parameters and moments must be C-contiguous "
                         "(they are updated in place)")
    _launch(_adam, p.size, p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), lr,
            beta1, beta2, eps,
          1 - beta1 ** step, 1 - beta2 ** step, weight_decay, grad_scale)
