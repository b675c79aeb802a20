"""Spectral normalization: power iteration finds the top singular value, the
backward pass matches finite differences, state is saved."""

import numpy as np
import pytest

import minigan as mg
from minigan import gradcheck
from minigan.layers import apply_spectral_norm, spectral_norm

from .conftest import arr, host, record_gradcheck

pytestmark = pytest.mark.usefixtures("backend_name")
F64 = np.float64


@pytest.mark.parametrize("make", [lambda: mg.Dense(7, 5, rng=0, dtype=F64),
                                  lambda: mg.Conv2D(3, 4, 3, rng=0, dtype=F64)],
                         ids=["dense", "conv"])
def test_power_iteration_converges_to_the_largest_singular_value(make):
    layer = spectral_norm(make(), rng=1)
    W = host(layer.params["W"]).reshape(layer.params["W"].shape[0], -1)
    top = np.linalg.svd(W, compute_uv=False)[0]
    for _ in range(200):
        W_sn = layer.weight()                     # training mode: one iteration each
    assert np.linalg.svd(host(W_sn).reshape(W.shape), compute_uv=False)[0] == \
        pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(host(layer.params["W"]) / host(W_sn), top, rtol=1e-6)


@pytest.mark.parametrize("make,shape", [
    (lambda: mg.Dense(6, 4, rng=0, dtype=F64), (5, 6)),
    (lambda: mg.Conv2D(2, 3, 3, stride=2, padding=1, rng=0, dtype=F64), (2, 2, 5, 5)),
], ids=["dense", "conv"])
def test_gradient_check(make, shape, rng):
    # eval mode holds u fixed, so every evaluation is the same function of W
    layer = spectral_norm(make(), rng=1).eval()
    errors = gradcheck.check_layer(layer, arr(rng.standard_normal(shape)))
    record_gradcheck(errors)
    assert max(errors.values()) < 1e-7, errors
    errors = gradcheck.check_tangent(layer, arr(rng.standard_normal(shape)),
                                     arr(rng.standard_normal(shape)))
    assert max(errors.values()) < 1e-7, errors


def test_u_is_state_and_only_training_refines_it():
    layer = spectral_norm(mg.Dense(4, 3, rng=0), rng=2)
    assert "sn_u" in layer.state_dict() and "SN" not in repr(layer)
    assert "spectral norm" in repr(layer)
    u0 = host(layer.buffers["sn_u"]).copy()
    layer.eval().forward(arr(np.ones((2, 4), np.float32)))
    np.testing.assert_array_equal(host(layer.buffers["sn_u"]), u0)
    layer.train().forward(arr(np.ones((2, 4), np.float32)))
    assert not np.array_equal(host(layer.buffers["sn_u"]), u0)
    other = spectral_norm(mg.Dense(4, 3, rng=5), rng=9)
    other.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(host(other.buffers["sn_u"]), host(layer.buffers["sn_u"]))


def test_only_dense_and_conv2d():
    with pytest.raises(TypeError, match="expected a Dense or Conv2D layer, got ConvTranspose"):
        spectral_norm(mg.ConvTranspose2D(2, 3, 3))
    net = apply_spectral_norm(mg.Sequential(mg.Conv2D(1, 2, 3), mg.LeakyReLU(), mg.Flatten(),
                                            mg.Dense(8, 1)))
    assert [l.sn_iterations for l in (net[0], net[3])] == [1, 1]


def test_subclasses_of_dense_and_conv2d_are_normalized_too():
    class Wide(mg.Dense):
        pass

    net = apply_spectral_norm(mg.Sequential(Wide(3, 2, rng=0), mg.ConvTranspose2D(2, 1, 1)))
    assert (net[0].sn_iterations, net[1].sn_iterations) == (1, None)


def test_per_piece_power_iteration_finds_each_pieces_largest_singular_value():
    """A Dense that feeds a Maxout(4): row f*4 + p is piece p of unit f, and
    each piece's rows are divided by that piece's own top singular value."""
    layer = spectral_norm(mg.Dense(7, 20, rng=0, dtype=F64), rng=1, pieces=4)
    assert host(layer.buffers["sn_u"]).shape == (4, 5)
    W = host(layer.params["W"])
    for _ in range(300):
        W_sn = host(layer.weight())
    for p in range(4):
        top = np.linalg.svd(W[p::4], compute_uv=False)[0]
        assert np.linalg.svd(W_sn[p::4], compute_uv=False)[0] == pytest.approx(1.0, rel=1e-6)
        np.testing.assert_allclose(W[p::4] / W_sn[p::4], top, rtol=1e-6)
    # the whole matrix is not normalized to 1: its top singular value is larger
    assert np.linalg.svd(W_sn, compute_uv=False)[0] > 1.2


def test_per_piece_gradient_check(rng):
    layer = spectral_norm(mg.Dense(6, 12, rng=0, dtype=F64), rng=1, pieces=3).eval()
    x = arr(rng.standard_normal((5, 6)))
    errors = gradcheck.check_layer(layer, x)
    record_gradcheck(errors)
    assert max(errors.values()) < 1e-7, errors
    errors = gradcheck.check_tangent(layer, x, arr(rng.standard_normal((5, 6))))
    assert max(errors.values()) < 1e-7, errors


def test_per_piece_applies_to_the_weights_before_a_maxout_only():
    from minigan import gan
    _, D = gan.build("pacgan-mlp", pack=2)
    apply_spectral_norm(D, per_piece=True)
    dense = [l for l in D if isinstance(l, mg.Dense)]
    assert [l.sn_pieces for l in dense] == [5, 5, 5, 1]
    assert [host(l.buffers["sn_u"]).shape for l in dense] == [(5, 200)] * 3 + [(1,)]
    assert "spectral norm per piece of 5" in repr(dense[0])
    _, plain = gan.build("pacgan-mlp", pack=2)
    assert [l.sn_pieces for l in apply_spectral_norm(plain) if isinstance(l, mg.Dense)] == \
        [1, 1, 1, 1]
    with pytest.raises(ValueError, match=r"Dense\(6 -> 10\) has 10 outputs, which do not "
                                         r"split into pieces=3"):
        spectral_norm(mg.Dense(6, 10), pieces=3)
