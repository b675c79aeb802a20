"""Every custom CUDA kernel of the cupy backend, run on the CPU.

Each spec of ``kernels/cupy_gpu.py`` goes through the host harness (its CUDA
body in a C++ loop, one pass per GPU thread, every array access bounds
checked, the undefined-behaviour sanitizer on) and is compared with the
reference kernel computed in float64 on the same inputs: float32 results to
1e-6 relative (plus an absolute term of 1e-6 of the output's scale, where
terms cancel), float64 to 1e-12. The shapes include paddings and strides
under which the index arithmetic meets negative numbers, where C's ``/``
and ``%`` differ from Python's. Planted bugs show that these tests catch
what they are for.
"""

import dataclasses

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from minigan.kernels import cuda_host, cupy_gpu, reference

try:
    cuda_host.compiler()
except cuda_host.CompilerMissing as e:
    pytest.skip(str(e), allow_module_level=True)

dtypes = st.sampled_from([np.float32, np.float64])
RTOL = {np.float32: 1e-6, np.float64: 1e-12}


def close(got, want, dtype):
    """``got`` (dtype) against the float64 ``want``."""
    want = np.asarray(want, np.float64)
    scale = float(np.abs(want).max()) if want.size else 0.0
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=RTOL[dtype],
                               atol=RTOL[dtype] * scale + 1e-300)


def conv_args(spec, C, H, W, K, s, p, OH, OW, N):
    return [C, H, W, K, K, s, p, OH, OW, N * OH * OW]


# (N, C, K, stride, padding, H, W): padding up to K-1 and beyond, strides to 3
conv = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 3),
                 st.integers(0, 4), st.integers(1, 9), st.integers(1, 9))


def fit(cfg):
    N, C, K, s, p, H, W = cfg
    H, W = max(H, K - 2 * p, 1), max(W, K - 2 * p, 1)
    return N, C, K, s, p, H, W, (H + 2 * p - K) // s + 1, (W + 2 * p - K) // s + 1


def run_im2col(spec, x, K, s, p):
    N, C, H, W = x.shape
    OH, OW = (H + 2 * p - K) // s + 1, (W + 2 * p - K) // s + 1
    cols = np.full((C * K * K, N * OH * OW), np.nan, x.dtype)     # unwritten shows as NaN
    cuda_host.run(spec, [x] + conv_args(spec, C, H, W, K, s, p, OH, OW, N) + [cols], cols.size)
    return cols


def run_col2im(spec, cols, x_shape, K, s, p):
    N, C, H, W = x_shape
    OH, OW = (H + 2 * p - K) // s + 1, (W + 2 * p - K) // s + 1
    x = np.full(x_shape, np.nan, cols.dtype)
    cuda_host.run(spec, [cols] + conv_args(spec, C, H, W, K, s, p, OH, OW, N) + [x], x.size)
    return x


@given(conv, dtypes, st.integers(0, 2**31 - 1))
@example((2, 3, 3, 2, 2, 5, 4), np.float32, 0)     # h + P - ki < 0 and odd: C's % is negative
def test_im2col_spec(cfg, dtype, seed):
    N, C, K, s, p, H, W, OH, OW = fit(cfg)
    x = np.random.default_rng(seed).standard_normal((N, C, H, W)).astype(dtype)
    close(run_im2col(cupy_gpu.IM2COL, x, K, s, p),
          reference.im2col(x.astype(np.float64), K, K, s, p), dtype)


@given(conv, dtypes, st.integers(0, 2**31 - 1))
@example((2, 3, 3, 2, 2, 5, 4), np.float32, 0)
@example((1, 1, 5, 3, 4, 2, 2), np.float64, 0)     # padding beyond the kernel
def test_col2im_spec(cfg, dtype, seed):
    N, C, K, s, p, H, W, OH, OW = fit(cfg)
    cols = np.random.default_rng(seed).standard_normal((C * K * K, N * OH * OW)).astype(dtype)
    close(run_col2im(cupy_gpu.COL2IM, cols, (N, C, H, W), K, s, p),
          reference.col2im(cols.astype(np.float64), (N, C, H, W), K, K, s, p), dtype)


ncl = st.tuples(st.integers(1, 5), st.integers(1, 6), st.integers(1, 12))


@given(ncl, dtypes, st.booleans(), st.sampled_from([None, 0.0, 0.2]),
       st.integers(0, 2**31 - 1))
def test_bias_act_spec(shape, dtype, with_bias, slope, seed):
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    want = reference.bias_act_forward(y.astype(np.float64), b.astype(np.float64) if with_bias
                                      else None, slope)
    got = y.copy()
    cuda_host.run(cupy_gpu.BIAS_ACT, [b, shape[1], shape[2], with_bias, slope is not None,
                                      slope or 0.0, got], got.size)
    close(got, want.astype(dtype), dtype)        # (one rounding of y + b, as on the GPU)


@given(ncl, dtypes, st.sampled_from([0.0, 0.2, 0.3]), st.integers(0, 2**31 - 1))
def test_leaky_backward_spec(shape, dtype, slope, seed):
    rng = np.random.default_rng(seed)
    dy, y = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    dx = np.full(shape, np.nan, dtype)
    cuda_host.run(cupy_gpu.LEAKY_BACKWARD, [dy, y, slope, dx], dx.size)
    close(dx, reference.leaky_relu_backward(dy.astype(np.float64), y.astype(np.float64),
                                            slope), dtype)


@given(st.tuples(st.integers(2, 6), st.integers(1, 6), st.integers(1, 12)), dtypes,
       st.integers(0, 2**31 - 1))
def test_batchnorm_specs(shape, dtype, seed):
    """The apply and backward kernels, with the statistics from reductions (as
    ``cupy_gpu.batchnorm_*`` computes them)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(1.0, 2.0, shape).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, shape[1]).astype(dtype)
    beta = rng.standard_normal(shape[1]).astype(dtype)
    N, C, L = shape
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axis=(0, 2)), x64.var(axis=(0, 2))
    y = np.full(shape, np.nan, dtype)
    cuda_host.run(cupy_gpu.BN_APPLY, [x, mean, gamma / np.sqrt(var + 1e-5), beta, C, L, y],
                  y.size)
    g64 = gamma.astype(np.float64)
    want_y, _, _ = reference.batchnorm_forward(x64, g64, beta.astype(np.float64), 1e-5)
    close(y, want_y, dtype)
    m, v = mean.astype(dtype), var.astype(dtype)            # stored in x's dtype
    invstd = 1 / np.sqrt(v.astype(np.float64) + 1e-5)
    xhat = (x64 - m.astype(np.float64)[None, :, None]) * invstd[None, :, None]
    dbeta, dgamma = dy.astype(np.float64).sum(axis=(0, 2)), (dy * xhat).sum(axis=(0, 2))
    dx = np.full(shape, np.nan, dtype)
    cuda_host.run(cupy_gpu.BN_BACKWARD, [dy, x, m.astype(np.float64), invstd,
                                         g64 * invstd / (N * L), dbeta, dgamma, C, L, N * L, dx],
                  dx.size)
    want_dx, _, _ = reference.batchnorm_backward(dy.astype(np.float64), x64,
                                                 m.astype(np.float64), v.astype(np.float64),
                                                 g64, 1e-5)
    close(dx, want_dx, dtype)


@given(ncl, dtypes, st.sampled_from([0.0, 0.3, 0.5]), st.integers(0, 2**64 - 1),
       st.integers(0, 2**31 - 1))
def test_dropout_spec(shape, dtype, p, key, seed):
    """The counter-based draw in the thread gives the reference's mask, bit for bit."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    y, mask = np.full(shape, np.nan, dtype), np.full(shape, np.nan, dtype)
    scale = float(np.dtype(dtype).type(1 / (1 - p)))
    cuda_host.run(cupy_gpu.DROPOUT, [x, p, key, scale, y, mask], y.size)
    want_y, want_mask = reference.dropout(x, p, key)
    np.testing.assert_array_equal(mask, want_mask)
    np.testing.assert_array_equal(y, want_y)


@given(st.integers(1, 50), dtypes, st.integers(0, 2**31 - 1))
def test_bce_spec(n, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, 1)) * 10 ** rng.uniform(-1, 4, (n, 1))).astype(dtype)
    t = rng.uniform(size=(n, 1)).astype(dtype)
    loss, dx = np.full((n, 1), np.nan), np.full((n, 1), np.nan, dtype)
    cuda_host.run(cupy_gpu.BCE, [x, t, n, loss, dx], n)
    want_loss, want_dx = reference.bce_with_logits(x.astype(np.float64), t.astype(np.float64))
    assert loss.sum() / n == pytest.approx(want_loss, rel=1e-12)
    close(dx, want_dx, dtype)


@given(st.integers(1, 100), dtypes, st.integers(1, 5), st.sampled_from([0.0, 0.01]),
       st.sampled_from([1.0, 0.3]), st.integers(0, 2**31 - 1))
def test_adam_spec(n, dtype, step, wd, scale, seed):
    rng = np.random.default_rng(seed)
    p, g = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    m, v = (0.1 * rng.standard_normal(n)).astype(dtype), rng.uniform(0, 0.1, n).astype(dtype)
    want = [a.astype(np.float64) for a in (p, m, v)]
    reference.adam_update(want[0], g.astype(np.float64), want[1], want[2], 2e-4, 0.5, 0.999,
                          1e-8, step, wd, scale)
    got = [a.copy() for a in (p, m, v)]
    cuda_host.run(cupy_gpu.ADAM, [g, 2e-4, 0.5, 0.999, 1e-8, 1 - 0.5 ** step,
                                  1 - 0.999 ** step, wd, scale] + got, n)
    for a, w in zip(got, want):
        close(a, w, dtype)


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 6), dtypes, st.booleans(),
       st.integers(0, 2**31 - 1))
def test_maxout_specs(N, F, K, dtype, ties, seed):
    rng = np.random.default_rng(seed)
    x = (rng.integers(0, 3, (N, F * K)) if ties else rng.standard_normal((N, F * K)))
    x = x.astype(dtype)
    y, winner = np.full((N, F), np.nan, dtype), np.full((N, F), -1, np.int64)
    cuda_host.run(cupy_gpu.MAXOUT_FORWARD, [x, K, y, winner], y.size)
    want_y, want_winner = reference.maxout_forward(x, K)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(winner, want_winner)
    dy = rng.standard_normal((N, F)).astype(dtype)
    dx = np.full((N, F * K), np.nan, dtype)
    cuda_host.run(cupy_gpu.MAXOUT_BACKWARD, [dy, winner, K, dx], dx.size)
    np.testing.assert_array_equal(dx, reference.maxout_backward(dy, want_winner, K))


def test_the_maxout_backward_spec_never_indexes_by_a_winner():
    """A winner outside [0, K) matches no piece: the CUDA kernel compares, so
    that unit's gradient is 0 and nothing outside dx is written."""
    winner = np.array([[0, 7], [-1, 1]], np.int64)
    dy = np.ones((2, 2), np.float32)
    dx = np.full((2, 10), np.nan, np.float32)
    cuda_host.run(cupy_gpu.MAXOUT_BACKWARD, [dy, winner, 5, dx], dx.size)
    np.testing.assert_array_equal(dx.reshape(2, 2, 5).sum(axis=2), [[1, 0], [0, 1]])


def test_every_custom_kernel_has_a_test_here():
    tested = {"minigan_im2col", "minigan_col2im", "minigan_bias_act", "minigan_leaky_backward",
              "minigan_bn_apply", "minigan_bn_backward", "minigan_dropout", "minigan_bce",
              "minigan_adam", "minigan_maxout_forward", "minigan_maxout_backward"}
    assert {s.name for s in cupy_gpu.SPECS} == tested


# ------------------------------------------------------------ planted bugs

def planted(spec, old, new):
    assert old in spec.body, (spec.name, old)
    return dataclasses.replace(spec, body=spec.body.replace(old, new))


def test_a_dropped_bound_check_is_caught():
    """im2col without its row check reads outside x: the harness stops it."""
    bad = planted(cupy_gpu.IM2COL, "h >= 0 && h < H && ", "")
    x = np.ones((1, 1, 4, 4), np.float32)
    with pytest.raises(cuda_host.KernelFault, match=r"kernel minigan_im2col: thread \d+ indexes "
                                                    r"x\[-?\d+\], outside its 16 elements"):
        run_im2col(bad, x, 3, 1, 1)


def test_a_stride_off_by_one_is_caught():
    bad = planted(cupy_gpu.IM2COL, "const int h = oh * S + ki - P", "const int h = oh * (S - 1) "
                                                                    "+ ki - P")
    x = np.random.default_rng(0).standard_normal((2, 2, 7, 7)).astype(np.float32)
    with pytest.raises(AssertionError):
        close(run_im2col(bad, x, 3, 2, 1), reference.im2col(x.astype(np.float64), 3, 3, 2, 1),
              np.float32)


def test_a_negative_remainder_is_caught():
    """col2im that trusts ``%`` on a negative offset (C keeps the sign: -2 % 2
    is 0, -2 / 2 is -1) reads a column of output row -1."""
    bad = planted(cupy_gpu.COL2IM, "if (dh < 0 || dh % S != 0) continue;",
                  "if (dh % S != 0) continue;")
    cols = np.ones((9, 2 * 3 * 3), np.float32)
    with pytest.raises(cuda_host.KernelFault, match=r"indexes cols\["):
        run_col2im(bad, cols, (2, 1, 5, 5), 3, 2, 2)


def test_an_unwritten_output_shows():
    """A kernel that skips some threads leaves the NaN the output was filled with."""
    bad = planted(cupy_gpu.LEAKY_BACKWARD, "dx[i] =", "if (i % 2) dx[i] =")
    dy = np.ones((1, 2, 3), np.float32)
    dx = np.full(dy.shape, np.nan, np.float32)
    cuda_host.run(bad, [dy, dy, 0.2, dx], dx.size)
    assert np.isnan(dx).sum() == 3


def test_undefined_behaviour_is_caught():
    bad = planted(cupy_gpu.COL2IM, "double acc = 0.0;", "double acc = 0.0; int big = 2147483647;"
                                                        " big += (int)(i + 1); acc += big;")
    cols = np.ones((1, 4), np.float32)
    with pytest.raises(cuda_host.KernelFault, match="overflow"):
        run_col2im(bad, cols, (1, 1, 2, 2), 1, 1, 0)


def test_the_harness_refuses_wrong_arguments():
    x = np.ones((1, 1, 2, 2), np.float32)
    with pytest.raises(TypeError, match="expected 12 arguments"):
        cuda_host.run(cupy_gpu.IM2COL, [x], 4)
    with pytest.raises(TypeError, match="must share one float dtype"):
        cuda_host.run(cupy_gpu.LEAKY_BACKWARD, [x, x.astype(np.float64), 0.2, x], 4)
    with pytest.raises(TypeError, match="C-contiguous"):
        cuda_host.run(cupy_gpu.LEAKY_BACKWARD, [x.transpose(0, 1, 3, 2), x, 0.2, x], 4)


def test_a_kernel_that_writes_its_input_is_caught():
    bad = planted(cupy_gpu.LEAKY_BACKWARD, "dx[i] =", "dy[i] = 0; dx[i] =")
    dy = np.ones((1, 2, 3), np.float32)
    with pytest.raises(cuda_host.KernelFault, match="wrote into its input dy"):
        cuda_host.run(bad, [dy, dy.copy(), 0.2, np.empty_like(dy)], dy.size)
