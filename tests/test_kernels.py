"""Every fast kernel agrees with the reference (kernels/reference.py) on
hypothesis-generated shapes.

Tolerances: float64 rtol = atol = 1e-10 (only the summation order differs);
float32 rtol = atol = 2e-5 (float32 rounding of sums of up to a few hundred
terms; reductions accumulate in float64 everywhere, and BatchNorm is computed
in float64 and rounded once, in the reference too).

Shapes are drawn to reach every branch of the fast kernels: Numba's col2im
works on blocks of several samples once N*C >= 32 (with one loop for stride 1
and one for larger strides), and its BatchNorm on blocks of several channels
once C > 8; ``@example`` pins one case of each.
Numba runs small work on one thread (each kernel's ``one_thread_below``),
which most test shapes are: so the Numba kernels are tested twice, as they
run and with every parallel loop on all threads ("numba-parallel").
"""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from minigan import backend, kernels
from minigan.kernels import reference

from .helpers import assert_same_trajectory, trajectories

FAST = [b for b in backend.BACKENDS if b != "numpy"] + ["numba-parallel"]
TOL = {np.float32: 2e-5, np.float64: 1e-10}
dtypes = st.sampled_from([np.float32, np.float64])


@pytest.fixture(params=FAST)
def fast(request, monkeypatch):
    """(kernel module, to-device function) of a fast backend."""
    name = request.param.replace("-parallel", "")
    try:
        with backend.use_backend(name):
            pass
    except RuntimeError:
        pytest.skip(f"backend {name} is not available here")
    mod = kernels.implementation(name)
    if request.param == "numba-parallel":
        monkeypatch.setattr(mod, "ALWAYS_PARALLEL", True)
    if request.param == "cupy":
        import cupy
        return mod, cupy.asarray
    return mod, np.asarray


def close(got, want, dtype):
    got = backend.to_numpy(got) if not np.isscalar(got) else got
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype])


conv = st.tuples(st.integers(1, 6), st.integers(1, 12), st.integers(1, 5), st.integers(1, 3),
                 st.integers(0, 3), st.integers(1, 9), st.integers(1, 9))
BLOCKED_COL2IM = (4, 8, 5, 2, 2, 7, 6)         # N*C = 32: several samples per task


@given(conv, dtypes, st.integers(0, 2**31 - 1))
@example(BLOCKED_COL2IM, np.float32, 0)
def test_im2col(fast, cfg, dtype, seed):
    mod, dev = fast
    N, C, K, s, p, H, W = cfg
    H, W = max(H, K - 2 * p), max(W, K - 2 * p)
    x = np.random.default_rng(seed).standard_normal((N, C, H, W)).astype(dtype)
    want = reference.im2col(x, K, K, s, p)
    got = mod.im2col(dev(x), K, K, s, p)
    assert got.shape == want.shape and got.dtype == want.dtype
    close(got, want, dtype)


@given(conv, dtypes, st.integers(0, 2**31 - 1))
@example(BLOCKED_COL2IM, np.float32, 0)
@example((6, 12, 5, 1, 2, 3, 4), np.float64, 1)
def test_col2im(fast, cfg, dtype, seed):
    mod, dev = fast
    N, C, K, s, p, H, W = cfg
    H, W = max(H, K - 2 * p), max(W, K - 2 * p)
    OH, OW = (H + 2 * p - K) // s + 1, (W + 2 * p - K) // s + 1
    cols = np.random.default_rng(seed).standard_normal((C * K * K, N * OH * OW)).astype(dtype)
    want = reference.col2im(cols, (N, C, H, W), K, K, s, p)
    got = mod.col2im(dev(cols), (N, C, H, W), K, K, s, p)
    assert got.shape == want.shape and got.dtype == want.dtype
    close(got, want, dtype)


ncl = st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 20))


@given(ncl, dtypes, st.booleans(), st.sampled_from([None, 0.0, 0.2]), st.integers(0, 2**31 - 1))
@example((3, 5, 1), np.float32, True, 0.2, 0)        # L = 1: a Dense layer's output
def test_bias_act_forward(fast, shape, dtype, with_bias, slope, seed):
    mod, dev = fast
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype) if with_bias else None
    want = reference.bias_act_forward(y.copy(), b, slope)
    got = dev(y.copy())
    out = mod.bias_act_forward(got, None if b is None else dev(b), slope)
    close(got, want, dtype)                     # in place
    close(out, want, dtype)                     # and returned


@given(ncl, dtypes, st.sampled_from([0.0, 0.2, 0.3]), st.integers(0, 2**31 - 1))
def test_leaky_relu_backward_and_channel_sum(fast, shape, dtype, slope, seed):
    mod, dev = fast
    rng = np.random.default_rng(seed)
    dy, y = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    close(mod.leaky_relu_backward(dev(dy), dev(y), slope),
          reference.leaky_relu_backward(dy, y, slope), dtype)
    close(mod.channel_sum(dev(dy)), reference.channel_sum(dy), dtype)


@given(st.tuples(st.integers(2, 8), st.integers(1, 20), st.integers(1, 30)), dtypes,
       st.integers(0, 2**31 - 1))
@example((3, 17, 5), np.float32, 0)               # C > 8: blocks of several channels
@example((4, 19, 1), np.float64, 0)               # (N, C): the 2D kernels, blocks as above
def test_batchnorm(fast, shape, dtype, seed):
    mod, dev = fast
    rng = np.random.default_rng(seed)
    x = rng.normal(1.0, 2.0, shape).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, shape[1]).astype(dtype)
    beta = rng.standard_normal(shape[1]).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    want = reference.batchnorm_forward(x, gamma, beta, 1e-5)
    got = mod.batchnorm_forward(dev(x), dev(gamma), dev(beta), 1e-5)
    for g, w in zip(got, want):
        close(g, w, dtype)
    _, mean, var = want
    want_b = reference.batchnorm_backward(dy, x, mean, var, gamma, 1e-5)
    got_b = mod.batchnorm_backward(dev(dy), dev(x), dev(mean), dev(var), dev(gamma), 1e-5)
    for g, w in zip(got_b, want_b):
        close(g, w, dtype)


@given(st.integers(1, 50), dtypes, st.sampled_from([1.0, 0.0, 0.9, "array"]),
       st.integers(0, 2**31 - 1))
def test_bce_with_logits(fast, n, dtype, target, seed):
    mod, dev = fast
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, 1)) * 10 ** rng.uniform(-1, 4, (n, 1))).astype(dtype)
    t = (rng.uniform(size=(n, 1)) if target == "array" else np.full((n, 1), target)).astype(dtype)
    loss_w, dx_w = reference.bce_with_logits(x, t)
    loss_g, dx_g = mod.bce_with_logits(dev(x), dev(t))
    assert isinstance(loss_g, float) or loss_g.shape == ()
    assert float(loss_g) == pytest.approx(loss_w, rel=TOL[dtype], abs=TOL[dtype])
    close(dx_g, dx_w, dtype)


@given(st.integers(1, 200), dtypes, st.integers(1, 5), st.sampled_from([0.0, 0.01]),
       st.sampled_from([1.0, 0.3]), st.integers(0, 2**31 - 1))
def test_adam_update(fast, n, dtype, step, wd, scale, seed):
    mod, dev = fast
    rng = np.random.default_rng(seed)
    p, g = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    m, v = (0.1 * rng.standard_normal(n)).astype(dtype), rng.uniform(0, 0.1, n).astype(dtype)
    args = (2e-4, 0.5, 0.999, 1e-8, step, wd, scale)
    want = [a.copy() for a in (p, m, v)]
    reference.adam_update(want[0], g, want[1], want[2], *args)
    got = [dev(a.copy()) for a in (p, m, v)]
    mod.adam_update(got[0], dev(g), got[1], got[2], *args)
    for gi, wi in zip(got, want):
        close(gi, wi, dtype)


def test_every_reference_kernel_has_a_twin(fast):
    """Same names and same signatures; every public function of the reference
    is a listed kernel or a shared helper."""
    import inspect
    mod, _ = fast
    public = {n for n, f in vars(reference).items() if callable(f) and not n.startswith("_")
              and getattr(f, "__module__", "") == reference.__name__}
    helpers = {"conv_output_size", "conv_transpose_output_size", "splitmix64", "dropout_key",
               "dropout_uniform"}
    assert public == set(reference.KERNELS) | helpers
    for name in reference.KERNELS:
        twin, spec = getattr(mod, name), getattr(reference, name)
        assert twin is not spec, f"{name} is the reference itself"
        assert inspect.signature(twin) == inspect.signature(spec), name


@given(ncl, dtypes, st.integers(0, 2**31 - 1))
def test_layout_changes(fast, shape, dtype, seed):
    mod, dev = fast
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    a2 = reference.channels_first(a)
    close(mod.channels_first(dev(a)), a2, dtype)
    close(mod.batch_first(dev(a2), shape[0]), reference.batch_first(a2, shape[0]), dtype)


@given(ncl, dtypes, st.sampled_from([0.0, 0.3, 0.5]), st.integers(0, 2**64 - 1),
       st.integers(0, 2**31 - 1))
def test_dropout(fast, shape, dtype, p, key, seed):
    """The same key drops the same elements on every backend (bit for bit)."""
    mod, dev = fast
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    for got, want in zip(mod.dropout(dev(x), p, key), reference.dropout(x, p, key)):
        np.testing.assert_array_equal(backend.to_numpy(got), want)


@given(st.integers(1, 6), st.integers(1, 5), st.integers(1, 6), dtypes, st.booleans(),
       st.integers(0, 2**31 - 1))
def test_maxout(fast, N, F, K, dtype, ties, seed):
    """Forward and backward, exactly (no arithmetic), with tied pieces drawn
    often (small integers) so that the first-wins rule is compared too."""
    mod, dev = fast
    rng = np.random.default_rng(seed)
    x = (rng.integers(0, 3, (N, F * K)) if ties else rng.standard_normal((N, F * K)))
    x = x.astype(dtype)
    dy = rng.standard_normal((N, F)).astype(dtype)
    y, winner = mod.maxout_forward(dev(x), K)
    want_y, want_winner = reference.maxout_forward(x, K)
    np.testing.assert_array_equal(backend.to_numpy(y), want_y)
    np.testing.assert_array_equal(backend.to_numpy(winner), want_winner)
    np.testing.assert_array_equal(backend.to_numpy(mod.maxout_backward(dev(dy), winner, K)),
                                  reference.maxout_backward(dy, want_winner, K))


def test_the_dropout_generator_is_splitmix64():
    """SplitMix64 from seed 1234567 (the sequence of its authors' reference
    implementation, whose first output is 6457827717110365317), and uniform
    draws that look uniform and independent of their neighbours."""
    from minigan.kernels.reference import GOLDEN, splitmix64
    assert splitmix64(1234567 + GOLDEN) == 6457827717110365317
    u = reference.dropout_uniform(reference.dropout_key(0, 0), 200_000)
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01
    other = reference.dropout_uniform(reference.dropout_key(0, 1), 200_000)
    assert abs(np.corrcoef(u, other)[0, 1]) < 0.01
    assert (reference.dropout(np.ones(100_000), 0.3, 5)[1] == 0).mean() == \
        pytest.approx(0.3, abs=0.01)


@given(st.tuples(st.integers(2, 8), st.integers(1, 40)), dtypes, st.integers(0, 2**31 - 1))
def test_batchnorm_of_dense_outputs(fast, shape, dtype, seed):
    """(N, C) inputs, seen as (N, C, 1), take their own path in fast kernels."""
    mod, dev = fast
    rng = np.random.default_rng(seed)
    x = rng.normal(1.0, 2.0, shape + (1,)).astype(dtype)
    dy = rng.standard_normal(shape + (1,)).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, shape[1]).astype(dtype)
    beta = rng.standard_normal(shape[1]).astype(dtype)
    want = reference.batchnorm_forward(x, gamma, beta, 1e-5)
    for g, w in zip(mod.batchnorm_forward(dev(x), dev(gamma), dev(beta), 1e-5), want):
        close(g, w, dtype)
    mean, var = want[1], want[2]
    for g, w in zip(mod.batchnorm_backward(dev(dy), dev(x), dev(mean), dev(var), dev(gamma), 1e-5),
                    reference.batchnorm_backward(dy, x, mean, var, gamma, 1e-5)):
        close(g, w, dtype)


def test_col2im_at_a_dcgan_layer(fast):
    """The real shapes of D's second convolution's input gradient (batch 32)."""
    mod, dev = fast
    x_shape, K, s, p = (32, 64, 14, 14), 5, 2, 2
    cols = np.random.default_rng(0).standard_normal((64 * K * K, 32 * 7 * 7)).astype(np.float32)
    close(mod.col2im(dev(cols), x_shape, K, K, s, p), reference.col2im(cols, x_shape, K, K, s, p),
          np.float32)


@pytest.mark.parametrize("n", [2, 5])
def test_batchnorm_of_a_channel_whose_variance_is_below_eps(fast, n):
    """Two samples whose values nearly coincide (variance ~3e-6 < eps): the
    output multiplies any rounding of the mean by 1/sqrt(var + eps) ~ 280, so
    every implementation must compute in float64 and round once. Both are held
    to the float64 computation of the same formula."""
    mod, dev = fast
    rng = np.random.default_rng(2)
    base = rng.normal(1.0, 2.0, (1, 37, 1))
    x = (base + 1.7e-3 * rng.standard_normal((n, 37, 1))).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, 37).astype(np.float32)
    beta = rng.standard_normal(37).astype(np.float32)
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axis=(0, 2)), x64.var(axis=(0, 2))
    exact = (x64 - mean[None, :, None]) * (gamma / np.sqrt(var + 1e-5))[None, :, None] \
        + beta[None, :, None]
    for impl in (reference, mod):
        y = backend.to_numpy(impl.batchnorm_forward(dev(x), dev(gamma), dev(beta), 1e-5)[0])
        np.testing.assert_allclose(y, exact, rtol=1e-6, atol=1e-6)


ALL = list(backend.BACKENDS)


@pytest.fixture(params=ALL)
def impl(request):
    """(kernel module, to-device function) of every backend, the reference included."""
    if request.param == "numpy":
        return reference, np.asarray
    return _fast(request.param)


def _fast(name):
    try:
        with backend.use_backend(name):
            pass
    except RuntimeError as e:
        pytest.skip(f"backend {name} cannot run here: {e}")
    mod = kernels.implementation(name)
    if name == "cupy":
        import cupy
        return mod, cupy.asarray
    return mod, np.asarray


def z(*shape):
    return np.zeros(shape, np.float32)


@pytest.mark.parametrize("call,message", [
    (lambda m, d: m.leaky_relu_backward(d(z(2, 3, 5)), d(z(2, 3, 4)), 0.2),
     r"leaky_relu_backward: expected dy of shape \(2, 3, 4\)"),
    (lambda m, d: m.dropout(d(z(2, 3, 4)), 1.0, 0), r"dropout: expected 0 <= p < 1"),
    (lambda m, d: m.bce_with_logits(d(z(4, 1)), d(z(5, 1))),
     r"bce_with_logits: expected t of shape \(4, 1\)"),
    (lambda m, d: m.adam_update(d(z(4)), d(z(5)), d(z(4)), d(z(4)), 1e-3, 0.5, 0.9, 1e-8, 1,
                                0.0, 1.0), r"adam_update: expected g of shape \(4,\)"),
    (lambda m, d: m.batchnorm_backward(d(z(2, 3, 5)), d(z(2, 3, 4)), d(z(3)), d(z(3)), d(z(3)),
                                       1e-5), r"batchnorm_backward: expected dy of shape"),
    (lambda m, d: m.batchnorm_forward(d(z(2, 3, 4)), d(z(2)), d(z(3)), 1e-5),
     r"batchnorm_forward: expected gamma of shape \(3,\)"),
    (lambda m, d: m.bias_act_forward(d(z(2, 3, 4)), d(z(4)), 0.2),
     r"bias_act_forward: expected b of shape \(3,\)"),
    (lambda m, d: m.col2im(d(z(9, 10)), (1, 1, 4, 4), 3, 3, 1, 1),
     r"col2im: expected cols of shape \(9, 16\), got \(9, 10\)"),
    (lambda m, d: m.im2col(d(z(1, 1, 2, 2)), 5, 5, 1, 0),
     r"im2col: a 5x5 kernel does not fit"),
    (lambda m, d: m.batch_first(d(z(3, 10)), 4), r"batch_first: 10 columns do not split"),
    (lambda m, d: m.maxout_forward(d(z(2, 7)), 5), r"maxout_forward: 7 features do not split"),
    (lambda m, d: m.maxout_backward(d(z(2, 3)), d(np.zeros((2, 4), np.int64)), 5),
     r"maxout_backward: expected winner of shape \(2, 3\)"),
])
def test_kernels_check_sizes_before_indexing(impl, call, message):
    """A size that does not match is an error, never a read past an array's end."""
    mod, dev = impl
    with pytest.raises(ValueError, match=message):
        call(mod, dev)


def test_a_maxout_winner_out_of_range_is_never_an_index(fast):
    """A winner outside [0, pieces) (not one maxout_forward gives) is an error
    where the kernel indexes with it (the reference, numba on one thread and
    over the threads); the cupy kernel only compares it with each piece, so
    that unit's gradient is 0."""
    mod, dev = fast
    winner = np.array([[0, 4], [5, 1]], np.int64)
    dy = np.ones((2, 2), np.float32)
    if mod.__name__.endswith("cupy_gpu"):
        dx = backend.to_numpy(mod.maxout_backward(dev(dy), dev(winner), 5)).reshape(2, 2, 5)
        np.testing.assert_array_equal(dx.sum(axis=2), [[1, 1], [0, 1]])
        return
    for w in (5, -1):
        winner[1, 0] = w
        for m in (mod, reference):
            with pytest.raises(ValueError, match=r"maxout_backward: winner outside \[0, 5\) "
                                                 r"in 1 units"):
                m.maxout_backward(dev(dy), dev(winner), 5)


def test_numba_training_steps_equal_the_reference_steps(tmp_path):
    """Three dcgan steps (Dropout in D, BatchNorm in G) on the numba backend
    give the numpy reference's weights and losses, not just finite ones: a
    wrong fast kernel shows here even where a kernel test misses its shape.
    Batch 16 with 4-channel layers puts the col2im of D's second conv on its
    blocked path (N*C = 64 >= 32)."""
    runs = trajectories(tmp_path, ("numpy", "numba"), 3, dropout=0.3, width=4, ema=0.0)
    assert_same_trajectory(runs["numpy"], runs["numba"], rtol=1e-4, atol=2e-6)
