"""Convolutions: the transposed convolution is the adjoint of the
convolution, and both agree with the definition written as nested loops."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg

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
