"""Every layer and loss gradient-checked in float64, input and every
parameter, against central differences (minigan.gradcheck): max relative
error <= 1e-6 on every backend."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan import gradcheck

from .conftest import arr, record_gradcheck

pytestmark = pytest.mark.usefixtures("backend_name")
TOL = 1e-6
F64 = np.float64


def away_from_zero(rng, shape, margin=0.05):
    """Normal samples pushed off the kinks of (leaky) ReLUs at 0."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin, x)


def assert_all_small(errors):
    assert errors, "the check returned no tensors"
    record_gradcheck(errors)
    worst = max(errors.values())
    assert worst <= TOL, errors


def test_dense(rng):
    assert_all_small(gradcheck.check_layer(mg.Dense(6, 4, rng=0, dtype=F64),
                                           arr(rng.standard_normal((3, 6)))))


def test_dense_without_bias(rng):
    layer = mg.Dense(6, 4, bias=False, rng=0, dtype=F64)
    errors = gradcheck.check_layer(layer, arr(rng.standard_normal((3, 6))))
    assert set(errors) == {"x", "W"}
    assert_all_small(errors)


conv_settings = st.tuples(
    st.integers(1, 2),            # N
    st.integers(1, 3),            # C in
    st.integers(1, 3),            # C out
    st.integers(1, 4),            # kernel
    st.integers(1, 3),            # stride
    st.integers(0, 2),            # padding
    st.integers(1, 6),            # H
    st.integers(1, 6),            # W
    st.booleans(),                # bias
)


@given(conv_settings, st.integers(0, 2**31 - 1))
def test_conv2d(cfg, seed):
    N, C, OC, k, s, p, H, W, bias = cfg
    H, W = max(H, k - 2 * p), max(W, k - 2 * p)       # the kernel must fit
    rng = np.random.default_rng(seed)
    layer = mg.Conv2D(C, OC, k, stride=s, padding=p, bias=bias, rng=seed, dtype=F64)
    assert_all_small(gradcheck.check_layer(layer, arr(rng.standard_normal((N, C, H, W)))))


@given(conv_settings, st.integers(0, 2), st.integers(0, 2**31 - 1))
def test_conv_transpose2d(cfg, op, seed):
    N, C, OC, k, s, p, H, W, bias = cfg
    op = min(op, s - 1)
    # output size (H-1)s - 2p + k + op must be >= 1
    p = min(p, ((H - 1) * s + k + op - 1) // 2, ((W - 1) * s + k + op - 1) // 2)
    rng = np.random.default_rng(seed)
    layer = mg.ConvTranspose2D(C, OC, k, stride=s, padding=p, output_padding=op, bias=bias,
                               rng=seed, dtype=F64)
    assert_all_small(gradcheck.check_layer(layer, arr(rng.standard_normal((N, C, H, W)))))


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2, 3), (3, 2, 1, 1)])
def test_batchnorm_train_mode(rng, shape):
    layer = mg.BatchNorm(shape[1], dtype=F64)
    layer.params["gamma"][...] = arr(rng.uniform(0.5, 1.5, shape[1]))
    layer.params["beta"][...] = arr(rng.standard_normal(shape[1]))
    assert_all_small(gradcheck.check_layer(layer, arr(rng.standard_normal(shape))))


@pytest.mark.parametrize("stats", ["var", "std"])
def test_batchnorm_eval_mode(rng, stats):
    layer = mg.BatchNorm(3, dtype=F64, stats=stats)
    layer.buffers["running_mean"][...] = arr(rng.standard_normal(3))
    layer.buffers["running_" + stats][...] = arr(rng.uniform(0.5, 2, 3))
    layer.eval()
    assert_all_small(gradcheck.check_layer(layer, arr(rng.standard_normal((4, 3, 2, 2)))))


def test_dropout(rng):
    errors = gradcheck.check_layer(mg.Dropout(0.4, rng=7), arr(rng.standard_normal((6, 5))))
    assert_all_small(errors)


@pytest.mark.parametrize("layer", [mg.ReLU(), mg.LeakyReLU(0.2), mg.LeakyReLU(0.3)],
                         ids=repr)
def test_piecewise_linear_activations(rng, layer):
    assert_all_small(gradcheck.check_layer(layer, arr(away_from_zero(rng, (4, 3, 2, 2)))))


@pytest.mark.parametrize("layer", [mg.Tanh(), mg.Sigmoid()], ids=repr)
def test_smooth_activations(rng, layer):
    assert_all_small(gradcheck.check_layer(layer, arr(2 * rng.standard_normal((4, 7)))))


def test_reshape_and_flatten(rng):
    net = mg.Sequential(mg.Reshape(2, 3, 2), mg.Tanh(), mg.Flatten(), mg.Dense(12, 2, rng=0,
                                                                          dtype=F64))
    assert_all_small(gradcheck.check_layer(net, arr(rng.standard_normal((3, 12)))))


def test_dcgan_like_sequential(rng):
    """A miniature of the DCGAN generator and discriminator, chained, checked
    at once: the composition must be right too, not just the pieces."""
    net = mg.Sequential(
        mg.Dense(4, 2 * 3 * 3, bias=False, rng=0, dtype=F64), mg.BatchNorm(18, dtype=F64),
        mg.Tanh(), mg.Reshape(2, 3, 3),
        mg.ConvTranspose2D(2, 3, 3, stride=2, padding=1, output_padding=1, bias=False, rng=1,
                           dtype=F64),
        mg.BatchNorm(3, dtype=F64), mg.Tanh(),
        mg.Conv2D(3, 2, 3, stride=2, padding=1, rng=2, dtype=F64), mg.Sigmoid(),
        mg.Dropout(0.3, rng=3), mg.Flatten(), mg.Dense(18, 1, rng=4, dtype=F64))
    assert_all_small(gradcheck.check_layer(net, arr(rng.standard_normal((3, 4)))))


@pytest.mark.parametrize("target", [1.0, 0.0, 0.9, "array"])
def test_bce_with_logits(rng, target):
    x = arr(3 * rng.standard_normal((6, 1)))
    t = arr(rng.uniform(size=(6, 1))) if target == "array" else target
    assert_all_small(gradcheck.check_loss(mg.bce_with_logits, x, t))


def test_bce_on_probabilities(rng):
    p = arr(rng.uniform(0.05, 0.95, size=(6, 2)))
    assert_all_small(gradcheck.check_loss(mg.bce, p, arr(rng.uniform(size=(6, 2)))))


def test_softmax_cross_entropy(rng):
    x = arr(3 * rng.standard_normal((6, 4)))
    labels = arr(rng.integers(0, 4, 6))
    assert_all_small(gradcheck.check_loss(mg.softmax_cross_entropy, x, labels))


def test_mse(rng):
    assert_all_small(gradcheck.check_loss(mg.mse, arr(rng.standard_normal((5, 3))), 1.0))


def test_gradcheck_catches_a_wrong_backward(rng):
    """The checker must be able to fail: a Dense whose backward forgets a
    transpose-sum is reported far above tolerance."""

    class BrokenDense(mg.Dense):
        def backward(self, dy, param_grads=True, input_grad=True):
            dx = super().backward(dy, param_grads, input_grad)
            self.grads["b"] *= 2                      # wrong by a factor of 2
            return dx

    errors = gradcheck.check_layer(BrokenDense(3, 2, rng=0, dtype=F64),
                                   arr(rng.standard_normal((4, 3))))
    assert errors["b"] > 0.1 and errors["W"] <= TOL


def separated_pieces(rng, N, F, K, gap=0.1):
    """(N, F*K) inputs whose winning piece leads the next by at least ``gap``:
    far from maxout's kinks, where central differences are exact."""
    x = rng.standard_normal((N, F, K))
    n, f = np.indices((N, F))
    x[n, f, x.argmax(axis=2)] += gap
    return x.reshape(N, F * K)


def test_maxout(rng):
    assert_all_small(gradcheck.check_layer(mg.Maxout(5), arr(separated_pieces(rng, 4, 3, 5))))


def test_maxout_after_dense(rng):
    """A maxout layer of the PacGAN critic (a Dense computing 3 units x 5 pieces)."""
    net = mg.Sequential(mg.Dense(4, 15, rng=0, dtype=F64), mg.Maxout(5),
                        mg.Dense(3, 1, rng=1, dtype=F64))
    x = rng.standard_normal((6, 4))
    pieces = np.sort(host_of(net[0].forward(arr(x))).reshape(6, 3, 5), axis=2)
    assert (pieces[..., -1] - pieces[..., -2]).min() > 1e-3     # off the kinks (fixed seed)
    assert_all_small(gradcheck.check_layer(net, arr(x)))


def test_maxout_ties_go_to_the_first_piece():
    layer = mg.Maxout(3)
    x = arr(np.array([[1.0, 2.0, 2.0, 5.0, 5.0, 5.0]]))
    np.testing.assert_array_equal(host_of(layer.forward(x)), [[2.0, 5.0]])
    dx = host_of(layer.backward(arr(np.array([[10.0, 20.0]]))))
    np.testing.assert_array_equal(dx, [[0.0, 10.0, 0.0, 20.0, 0.0, 0.0]])


def test_maxout_refuses_a_width_that_does_not_split():
    with pytest.raises(ValueError, match=r"Maxout\(5\): expected input of shape \(N, F\*5\), "
                                         r"got \(2, 7\)"):
        mg.Maxout(5).forward(arr(np.zeros((2, 7))))


def host_of(a):
    from minigan import backend
    return backend.to_numpy(a)


def test_the_gradcheck_table_covers_every_layer_class_and_objective():
    """``minigan gradcheck`` draws its rows from the registries: a new layer
    class or objective without a case shows up here."""
    from minigan.gan import objectives
    from minigan.layers.base import layer_classes
    cased = {type(layer) for layer, _ in gradcheck.layer_cases()}
    assert set(layer_classes().values()) <= cased, set(layer_classes().values()) - cased
    names = [name for name, _ in gradcheck.table()]
    for objective in objectives.OBJECTIVES:
        assert f"{objective}: D loss" in names and f"{objective}: G loss" in names
