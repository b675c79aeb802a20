"""CuPy twins of the reference kernels (``reference.py`` is the spec).

Same names, same signatures, same results (to rounding), on CuPy arrays.
Everything that CuPy's NumPy API already does well stays in it: ``a @ b`` is
cuBLAS, the layout changes are transposes, the reductions are CuPy's (in
float64 where the reference reduces in float64). Custom CUDA is used where
one fused pass beats several array expressions, and always in gather form,
**one thread per output element, no atomics**:

==============  =============================================================
kernel          thread ``i`` computes
==============  =============================================================
im2col          one entry of ``cols`` (row (c, ki, kj), column (n, oh, ow))
col2im          one input pixel: the sum of the column entries that read it
bias_act        one activation, in place
leaky_backward  one input gradient
bn_apply        one normalized value (the statistics come from reductions)
bn_backward     one input gradient (the two channel sums come from reductions)
dropout         one output and its mask value, its uniform drawn in the thread
bce             one loss term (float64) and one logit gradient
adam            one parameter, its two moments updated in the same pass
maxout          one unit's maximum and winning piece; backward, one input gradient
==============  =============================================================

Each custom kernel's CUDA source is *data*: a :class:`KernelSpec` at module
level (name, CuPy parameter lists, body). It becomes a
``cupy.ElementwiseKernel`` on first use, cached here. The tests run the same
specs on the CPU through :mod:`minigan.kernels.cuda_host` (a C++ loop with one
pass per thread and bounds-checked indexing) and compare them with the
reference, so no source reaches a GPU unexecuted.

Index arithmetic never divides a number that can be negative: C's ``/`` and
``%`` truncate toward zero, unlike Python's, so every possibly negative
offset is compared with 0 first.
"""

import numpy as np

from . import contract
from .cuda_host import KernelSpec
from .reference import conv_output_size  # noqa: F401  (the shape helper, shared)

# ------------------------------------------------------------------- specs

IM2COL = KernelSpec(
    "minigan_im2col",
    "raw T x, int32 C, int32 H, int32 W, int32 KH, int32 KW, int32 S, int32 P, int32 OH, "
    "int32 OW, int64 NP",
    "raw T cols",
    """
    // cols is (C*KH*KW, NP) with NP = N*OH*OW; i = r*NP + q, both >= 0
    const long long r = i / NP, q = i % NP;
    const int kj = (int)(r % KW), ki = (int)((r / KW) % KH);
    const long long c = r / ((long long)KW * KH);
    const int ow = (int)(q % OW), oh = (int)((q / OW) % OH);
    const long long n = q / ((long long)OW * OH);
    const int h = oh * S + ki - P, w = ow * S + kj - P;   // may be negative: compared only
    cols[i] = (h >= 0 && h < H && w >= 0 && w < W) ? x[((n * C + c) * H + h) * W + w] : (T)0;
    """)

COL2IM = KernelSpec(
    "minigan_col2im",
    "raw T cols, int32 C, int32 H, int32 W, int32 KH, int32 KW, int32 S, int32 P, int32 OH, "
    "int32 OW, int64 NP",
    "raw T x",
    """
    // x is (N, C, H, W); pixel (h, w) of image (n, c) is read by output (oh, ow) at
    // kernel offset (ki, kj) when oh*S + ki - P == h, i.e. oh = (h + P - ki) / S exactly
    const int w = (int)(i % W), h = (int)((i / W) % H);
    const long long c = (i / ((long long)W * H)) % C, n = i / ((long long)W * H * C);
    double acc = 0.0;
    for (int ki = 0; ki < KH; ++ki) {
        const int dh = h + P - ki;
        if (dh < 0 || dh % S != 0) continue;      // dh < 0 first: C's % keeps the sign
        const int oh = dh / S;
        if (oh >= OH) continue;
        for (int kj = 0; kj < KW; ++kj) {
            const int dw = w + P - kj;
            if (dw < 0 || dw % S != 0) continue;
            const int ow = dw / S;
            if (ow >= OW) continue;
            acc += cols[((c * KH + ki) * KW + kj) * NP + (n * OH + oh) * OW + ow];
        }
    }
    x[i] = (T)acc;
    """)

BIAS_ACT = KernelSpec(
    "minigan_bias_act",
    "raw T b, int32 C, int64 L, bool has_bias, bool has_act, float64 slope",
    "raw T y",
    """
    // y is (N, C, L), updated in place: act(y + b[c])
    const long long c = (i / L) % C;
    T u = y[i];
    if (has_bias) u = u + b[c];
    if (has_act && u <= (T)0) u = u * (T)slope;
    y[i] = u;
    """)

LEAKY_BACKWARD = KernelSpec(
    "minigan_leaky_backward",
    "raw T dy, raw T y, float64 slope",
    "raw T dx",
    """
    dx[i] = y[i] > (T)0 ? dy[i] : dy[i] * (T)slope;
    """)

BN_APPLY = KernelSpec(
    "minigan_bn_apply",
    "raw T x, raw float64 mean, raw float64 scale, raw T beta, int32 C, int64 L",
    "raw T y",
    """
    // scale = gamma / sqrt(var + eps), per channel, from the float64 statistics
    const long long c = (i / L) % C;
    y[i] = (T)(((double)x[i] - mean[c]) * scale[c] + (double)beta[c]);
    """)

BN_BACKWARD = KernelSpec(
    "minigan_bn_backward",
    "raw T dy, raw T x, raw float64 mean, raw float64 invstd, raw float64 coef, "
    "raw float64 dbeta, raw float64 dgamma, int32 C, int64 L, int64 M",
    "raw T dx",
    """
    // dx = gamma*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)); coef = gamma*invstd/M
    const long long c = (i / L) % C;
    const double xhat = ((double)x[i] - mean[c]) * invstd[c];
    dx[i] = (T)(coef[c] * ((double)M * (double)dy[i] - dbeta[c] - xhat * dgamma[c]));
    """)

DROPOUT = KernelSpec(
    "minigan_dropout",
    "raw T x, float64 p, uint64 key, T scale",
    "raw T y, raw T mask",
    """
    // the counter-based uniform of reference.dropout_uniform: SplitMix64 of
    // key + (i + 1) * golden, unsigned 64-bit arithmetic (wraps mod 2^64)
    unsigned long long z = key + ((unsigned long long)i + 1ULL) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z = z ^ (z >> 31);
    const double u = (double)(z >> 40) * 5.9604644775390625e-08;     // 2^-24
    const T m = u >= p ? scale : (T)0;
    mask[i] = m;
    y[i] = x[i] * m;
    """)

BCE = KernelSpec(
    "minigan_bce",
    "raw T x, raw T t, int64 n",
    "raw float64 loss, raw T dx",
    """
    // max(x, 0) - x*t + log1p(exp(-|x|)) and (sigmoid(x) - t) / n, exp never overflows
    const double v = x[i], e = exp(-fabs(v));
    loss[i] = (v > 0.0 ? v : 0.0) - v * (double)t[i] + log1p(e);
    const double sig = v >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    dx[i] = (T)((sig - (double)t[i]) / (double)n);
    """)

ADAM = KernelSpec(
    "minigan_adam",
    "raw T g, float64 lr, float64 b1, float64 b2, float64 eps, float64 c1, float64 c2, "
    "float64 wd, float64 scale",
    "raw T p, raw T m, raw T v",
    """
    // one parameter: moments and parameter updated in one pass (c1, c2: bias corrections)
    const double gk = (double)g[i] * scale + wd * (double)p[i];
    const double mk = b1 * (double)m[i] + (1.0 - b1) * gk;
    const double vk = b2 * (double)v[i] + (1.0 - b2) * gk * gk;
    m[i] = (T)mk;
    v[i] = (T)vk;
    p[i] = (T)((double)p[i] - lr * (mk / c1) / (sqrt(vk / c2) + eps));
    """)

MAXOUT_FORWARD = KernelSpec(
    "minigan_maxout_forward",
    "raw T x, int32 K",
    "raw T y, raw int64 winner",
    """
    // unit i = n*F + f reads its K contiguous pieces x[i*K .. i*K + K-1]
    T best = x[i * K];
    long long arg = 0;
    for (int k = 1; k < K; ++k) {
        if (x[i * K + k] > best) { best = x[i * K + k]; arg = k; }   // first tie wins
    }
    y[i] = best;
    winner[i] = arg;
    """)

MAXOUT_BACKWARD = KernelSpec(
    "minigan_maxout_backward",
    "raw T dy, raw int64 winner, int32 K",
    "raw T dx",
    """
    // input element i = unit*K + k gets the unit's gradient if piece k won
    const long long unit = i / K, k = i % K;
    dx[i] = winner[unit] == k ? dy[unit] : (T)0;
    """)

SPECS = (IM2COL, COL2IM, BIAS_ACT, LEAKY_BACKWARD, BN_APPLY, BN_BACKWARD, DROPOUT, BCE, ADAM,
         MAXOUT_FORWARD, MAXOUT_BACKWARD)

_compiled = {}


def _launch(spec, *args, size):
    """Run ``spec`` on ``size`` threads (a ``cupy.ElementwiseKernel`` built on
    first use and kept)."""
    kernel = _compiled.get(spec.name)
    if kernel is None:
        import cupy
        kernel = cupy.ElementwiseKernel(spec.in_params, spec.out_params, spec.body, spec.name)
        _compiled[spec.name] = kernel
    if size:
        kernel(*args, size=size)


def _cp():
    import cupy
    return cupy


# ------------------------------------------------------------ matrix product

def matmul(a, b):
    return a @ b


# ------------------------------------------------------------ layout changes

def channels_first(a):
    contract.channels_first(a)
    N, C, L = a.shape
    return _cp().ascontiguousarray(a.transpose(1, 0, 2)).reshape(C, N * L)


def batch_first(a2, N):
    contract.batch_first(a2, N)
    C = a2.shape[0]
    return _cp().ascontiguousarray(a2.reshape(C, N, -1).transpose(1, 0, 2))


# ---------------------------------------------------------------- im2col

def im2col(x, KH, KW, stride, padding):
    cp = _cp()
    N, C, H, W = x.shape
    OH, OW = contract.im2col(x, KH, KW, stride, padding)
    cols = cp.empty((C * KH * KW, N * OH * OW), dtype=x.dtype)
    _launch(IM2COL, cp.ascontiguousarray(x), C, H, W, KH, KW, stride, padding, OH, OW,
            N * OH * OW, cols, size=cols.size)
    return cols


def col2im(cols, x_shape, KH, KW, stride, padding):
    cp = _cp()
    N, C, H, W = x_shape
    OH, OW = contract.col2im(cols, x_shape, KH, KW, stride, padding)
    x = cp.empty((N, C, H, W), dtype=cols.dtype)
    _launch(COL2IM, cp.ascontiguousarray(cols), C, H, W, KH, KW, stride, padding, OH, OW,
            N * OH * OW, x, size=x.size)
    return x


# ---------------------------------------------------------- bias + activation

def bias_act_forward(y, b, slope):
    contract.bias_act_forward(y, b)
    if b is None and slope is None:
        return y
    cp = _cp()
    if not y.flags.c_contiguous:
        raise ValueError("kernel bias_act_forward: y must be C-contiguous (updated in place)")
    bias = b if b is not None else cp.zeros(1, dtype=y.dtype)
    _launch(BIAS_ACT, cp.ascontiguousarray(bias), y.shape[1], y.shape[2], b is not None,
            slope is not None, 0.0 if slope is None else float(slope), y, size=y.size)
    return y


def leaky_relu_backward(dy, y, slope):
    contract.leaky_relu_backward(dy, y)
    cp = _cp()
    dx = cp.empty(dy.shape, dtype=dy.dtype)
    _launch(LEAKY_BACKWARD, cp.ascontiguousarray(dy), cp.ascontiguousarray(y), float(slope),
            dx, size=dx.size)
    return dx


def channel_sum(dy):
    contract.channel_sum(dy)
    return dy.sum(axis=(0, 2))


# ----------------------------------------------------------------- BatchNorm

def batchnorm_forward(x, gamma, beta, eps):
    contract.batchnorm_forward(x, gamma, beta)
    cp = _cp()
    N, C, L = x.shape
    x64 = x.astype(cp.float64)
    mean = x64.mean(axis=(0, 2))
    var = x64.var(axis=(0, 2))
    scale = gamma.astype(cp.float64) / cp.sqrt(var + eps)
    y = cp.empty(x.shape, dtype=x.dtype)
    _launch(BN_APPLY, cp.ascontiguousarray(x), mean, scale, cp.ascontiguousarray(beta), C, L,
            y, size=y.size)
    return y, mean.astype(x.dtype), var.astype(x.dtype)


def batchnorm_backward(dy, x, mean, var, gamma, eps):
    contract.batchnorm_backward(dy, x, mean, var, gamma)
    cp = _cp()
    N, C, L = x.shape
    M = N * L
    mean64 = mean.astype(cp.float64)
    invstd = 1.0 / cp.sqrt(var.astype(cp.float64) + eps)
    dy64 = dy.astype(cp.float64)
    xhat = (x.astype(cp.float64) - mean64[None, :, None]) * invstd[None, :, None]
    dbeta = dy64.sum(axis=(0, 2))
    dgamma = (dy64 * xhat).sum(axis=(0, 2))
    coef = gamma.astype(cp.float64) * invstd / M
    dx = cp.empty(x.shape, dtype=x.dtype)
    _launch(BN_BACKWARD, cp.ascontiguousarray(dy), cp.ascontiguousarray(x), mean64, invstd,
            coef, dbeta, dgamma, C, L, M, dx, size=dx.size)
    return dx, dgamma.astype(x.dtype), dbeta.astype(x.dtype)


# ------------------------------------------------------------------ dropout

def dropout(x, p, key):
    contract.dropout(x, p, key)
    cp = _cp()
    y = cp.empty(x.shape, dtype=x.dtype)
    mask = cp.empty(x.shape, dtype=x.dtype)
    _launch(DROPOUT, cp.ascontiguousarray(x), float(p), np.uint64(key),   # keys use all 64 bits
            float(x.dtype.type(1 / (1 - p))), y, mask, size=y.size)
    return y, mask


# ------------------------------------------------------------------- maxout

def maxout_forward(x, pieces):
    contract.maxout_forward(x, pieces)
    cp = _cp()
    y = cp.empty((x.shape[0], x.shape[1] // pieces), dtype=x.dtype)
    winner = cp.empty(y.shape, dtype=cp.int64)
    _launch(MAXOUT_FORWARD, cp.ascontiguousarray(x), pieces, y, winner, size=y.size)
    return y, winner


def maxout_backward(dy, winner, pieces):
    contract.maxout_backward(dy, winner, pieces)
    cp = _cp()
    dx = cp.empty((dy.shape[0], dy.shape[1] * pieces), dtype=dy.dtype)
    _launch(MAXOUT_BACKWARD, cp.ascontiguousarray(dy), cp.ascontiguousarray(winner), pieces, dx,
            size=dx.size)
    return dx


# ------------------------------------------------------------------- losses

def bce_with_logits(x, t):
    contract.bce_with_logits(x, t)
    cp = _cp()
    loss = cp.empty(x.shape, dtype=cp.float64)
    dx = cp.empty(x.shape, dtype=x.dtype)
    _launch(BCE, cp.ascontiguousarray(x), cp.ascontiguousarray(t), x.size, loss, dx,
            size=x.size)
    return loss.sum() / x.size, dx            # a 0-d device array: no transfer here


# --------------------------------------------------------------- optimizers

def adam_update(p, g, m, v, lr, beta1, beta2, eps, step, weight_decay, grad_scale):
    contract.adam_update(p, g, m, v)
    if not (p.flags.c_contiguous and m.flags.c_contiguous and v.flags.c_contiguous):
        raise ValueError("adam_update: parameters and moments must be C-contiguous "
                         "(they are updated in place)")
    _launch(ADAM, _cp().ascontiguousarray(g), float(lr), float(beta1), float(beta2),
            float(eps), 1 - beta1 ** step, 1 - beta2 ** step, float(weight_decay),
            float(grad_scale), p, m, v, size=p.size)
