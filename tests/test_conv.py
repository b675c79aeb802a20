"""Convolutions: the transposed convolution is the adjoint of the
convolution, and both agree with the definition written as nested loops."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan import backend, gan

from .conftest import arr, host

pytestmark = pytest.mark.usefixtures("backend_name")


def conv_by_loops(x, W, b, s, p):
    """y[n,o,oh,ow] = b[o] + sum_{c,i,j} W[o,c,i,j] x[n,c,oh*s+i-p, ow*s+j-p]."""
    N, C, H, Wd = x.shape
    OC, _, K, _ = W.shape
    xp_ = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    OH, OW = (H + 2 * p - K) // s + 1, (Wd + 2 * p - K) // s + 1
    y = np.zeros((N, OC, OH, OW))
    for n in range(N):
        for o in range(OC):
            for oh in range(OH):
                for ow in range(OW):
                    patch = xp_[n, :, oh * s:oh * s + K, ow * s:ow * s + K]
                    y[n, o, oh, ow] = (patch * W[o]).sum() + (b[o] if b is not None else 0)
    return y


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2),
       st.integers(3, 7), st.integers(0, 2**31 - 1))
def test_conv2d_matches_the_definition(C, OC, K, p, H, seed):
    rng = np.random.default_rng(seed)
    s = 1 + seed % 3
    layer = mg.Conv2D(C, OC, K, stride=s, padding=p, rng=seed, dtype=np.float64)
    x = rng.standard_normal((2, C, H, H + 1))
    y = host(layer.forward(arr(x)))
    expected = conv_by_loops(x, host(layer.params["W"]), host(layer.params["b"]), s, p)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4),
       st.integers(1, 3), st.integers(0, 2), st.integers(1, 4), st.integers(1, 4),
       st.integers(0, 2), st.integers(0, 2**31 - 1))
def test_conv_transpose_is_the_adjoint_of_conv(N, C, OC, K, s, p, OH, OW, op, seed):
    """<conv(x), y> == <x, convT(y)> with the same weight, no bias.

    The conv maps (H, W) to (OH, OW); the transposed conv with output
    padding ``op`` maps (OH, OW) back to H = (OH-1)s - 2p + K + op."""
    op = op % s
    p = min(p, ((OH - 1) * s + K + op - 1) // 2, ((OW - 1) * s + K + op - 1) // 2)
    H, Wd = (OH - 1) * s - 2 * p + K + op, (OW - 1) * s - 2 * p + K + op
    rng = np.random.default_rng(seed)
    conv = mg.Conv2D(C, OC, K, stride=s, padding=p, bias=False, rng=seed, dtype=np.float64)
    convT = mg.ConvTranspose2D(OC, C, K, stride=s, padding=p, output_padding=op, bias=False,
                               dtype=np.float64)
    convT.params["W"][...] = conv.params["W"]        # (OC, C, K, K): shared weight
    x = rng.standard_normal((N, C, H, Wd))
    y = rng.standard_normal((N, OC, OH, OW))
    cx = host(conv.forward(arr(x)))
    cty = host(convT.forward(arr(y)))
    assert cx.shape == y.shape and cty.shape == x.shape
    lhs, rhs = float((cx * y).sum()), float((x * cty).sum())
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def test_dcgan_generator_shapes():
    """The 28x28 DCGAN ladder: 7 -> 7 -> 14 -> 28 with k5, p2, op1."""
    x = arr(np.zeros((2, 8, 7, 7), np.float32))
    y = mg.ConvTranspose2D(8, 4, 5, stride=1, padding=2, rng=0).forward(x)
    assert y.shape == (2, 4, 7, 7)
    y = mg.ConvTranspose2D(4, 2, 5, stride=2, padding=2, output_padding=1, rng=0).forward(y)
    assert y.shape == (2, 2, 14, 14)
    y = mg.Conv2D(2, 3, 5, stride=2, padding=2, rng=0).forward(y)
    assert y.shape == (2, 3, 7, 7)


# ----------------------------------------------- constant input channels

def _with_planes(img, v):
    """The image with K constant planes appended: channel C + k holds v[n, k]."""
    N, _, H, W = img.shape
    return np.concatenate([img, np.broadcast_to(v[:, :, None, None], (N, v.shape[1], H, W))],
                          axis=1)


@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 4), st.integers(1, 3),
       st.integers(1, 5), st.integers(0, 2), st.integers(3, 9), st.integers(0, 2**31 - 1))
def test_constant_channels_are_the_same_convolution(N, C, K, OC, k, p, H, seed):
    """Conv2D(constant_channels=K) is the ordinary convolution of the same
    weight: same output, same weight and bias gradients, same image gradient;
    the planes' gradient is the plane mean of the ordinary per-pixel one."""
    rng = np.random.default_rng(seed)
    s = 1 + seed % 3
    k, p = min(k, H), min(p, k - 1)
    x = _with_planes(rng.standard_normal((N, C, H, H + 1)), rng.standard_normal((N, K)))
    plain = mg.Conv2D(C + K, OC, k, stride=s, padding=p, rng=seed, dtype=np.float64)
    fast = mg.Conv2D(C + K, OC, k, stride=s, padding=p, rng=seed, dtype=np.float64,
                     constant_channels=K)
    y = host(fast.forward(arr(x)))
    np.testing.assert_allclose(y, host(plain.forward(arr(x))), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, conv_by_loops(x, host(plain.params["W"]),
                                                host(plain.params["b"]), s, p),
                               rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    dx_fast, dx_plain = host(fast.backward(arr(dy))), host(plain.backward(arr(dy)))
    for name in ("W", "b"):
        np.testing.assert_allclose(host(fast.grads[name]), host(plain.grads[name]),
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx_fast[:, :C], dx_plain[:, :C], rtol=1e-12, atol=1e-12)
    mean = np.broadcast_to(dx_plain[:, C:].mean(axis=(2, 3), keepdims=True), dx_fast[:, C:].shape)
    np.testing.assert_allclose(dx_fast[:, C:], mean, rtol=1e-12, atol=1e-12)


def test_constant_channels_gradient_check():
    """Central differences, float64: the weight, bias and image gradients per
    element; each plane's value moved as a whole (the planes stay constant)."""
    from minigan.gradcheck import numerical_gradient, rel_error
    rng = np.random.default_rng(7)
    N, C, K, H = 3, 2, 3, 7
    layer = mg.Conv2D(C + K, 4, 5, stride=2, padding=2, rng=3, dtype=np.float64,
                      constant_channels=K)
    img, v = rng.standard_normal((N, C, H, H)), rng.standard_normal((N, K))
    dy = rng.standard_normal((N, 4, 4, 4))

    def loss():
        return float((host(layer.forward(arr(_with_planes(img, v)))) * dy).sum())

    loss()
    dx = host(layer.backward(arr(dy)))
    grads = {n: host(layer.grads[n]).copy() for n in ("W", "b")}
    for name in ("W", "b"):
        w = layer.params[name]
        host_w = host(w).copy()

        def f(w=w, host_w=host_w):
            w[...] = arr(host_w)
            return loss()
        numeric = numerical_gradient(f, host_w)
        w[...] = arr(host_w)
        assert rel_error(grads[name], numeric) < 1e-8, name
    assert rel_error(dx[:, :C], numerical_gradient(loss, img)) < 1e-8
    assert rel_error(dx[:, C:].sum(axis=(2, 3)), numerical_gradient(loss, v)) < 1e-8


def test_constant_channels_that_vary_are_refused():
    layer = mg.Conv2D(3, 2, 3, padding=1, rng=0, constant_channels=2)
    x = np.zeros((2, 3, 5, 5), np.float32)
    x[1, 2, 4, 0] = 1.0
    if backend_is_host(x):
        with pytest.raises(ValueError, match=r"channels 1\.\.2 are declared constant"):
            layer.forward(arr(x))
    else:
        assert np.isnan(host(layer.forward(arr(x)))).all()
    with pytest.raises(ValueError, match="constant_channels < in_channels"):
        mg.Conv2D(2, 2, 3, constant_channels=2)


def backend_is_host(x):
    return backend.get_array_module(arr(x)) is np


def test_the_conditional_critic_uses_constant_channels():
    """The dcgan critic's first layer takes the labels as constant channels
    (not when packing interleaves them with the samples)."""
    _, D = gan.build("dcgan", rng=0, n_classes=5)
    assert D.layers[0].constant_channels == 5 and D.layers[0].in_channels == 6
    assert all(getattr(layer, "constant_channels", 0) == 0 for layer in D.layers[1:])
    _, D = gan.build("dcgan", rng=0, n_classes=5, pack=2)
    assert D.layers[0].constant_channels == 0
