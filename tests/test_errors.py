"""Bad input raises ValueError naming the layer and both shapes."""

import re

import numpy as np
import pytest

import minigan as mg

from .conftest import arr

pytestmark = pytest.mark.usefixtures("backend_name")


def x(*shape, dtype=np.float32):
    return arr(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("layer,bad,message", [
    (mg.Dense(784, 512, rng=0), x(64, 100),
     r"Dense\(784 -> 512\): expected input of shape \(N, 784\), got \(64, 100\)"),
    (mg.Dense(4, 2, rng=0), x(2, 2, 4),
     r"Dense\(4 -> 2\): expected input of shape \(N, 4\), got \(2, 2, 4\)"),
    (mg.Conv2D(1, 8, 5, stride=2, padding=2, rng=0), x(2, 3, 28, 28),
     r"Conv2D\(1 -> 8, 5x5, s2, p2\): expected input of shape \(N, 1, \?, \?\), "
     r"got \(2, 3, 28, 28\)"),
    (mg.Conv2D(1, 8, 5, rng=0), x(2, 28, 28),
     r"Conv2D.*expected input of shape \(N, 1, \?, \?\), got \(2, 28, 28\)"),
    (mg.Conv2D(1, 8, 5, padding=1, rng=0), x(2, 1, 2, 9),
     r"Conv2D\(1 -> 8, 5x5, s1, p1\): kernel 5x5 is larger than the padded input 4x11.*"
     r"\(N, 1, H, W\).*got \(2, 1, 2, 9\)"),
    (mg.ConvTranspose2D(2, 1, 1, padding=1, rng=0), x(1, 2, 1, 1),
     r"ConvTranspose2D\(2 -> 1, 1x1, s1, p1, op0\): the output size would be -1x-1; "
     r"expected input of shape \(N, 2, H, W\).*got \(1, 2, 1, 1\)"),
    (mg.BatchNorm(16), x(4, 8, 3, 3),
     r"BatchNorm\(16\): expected input of shape \(N, 16, \?, \?\), got \(4, 8, 3, 3\)"),
    (mg.BatchNorm(16), x(4, 16, 3),
     r"BatchNorm\(16\): expected input of shape \(N, 16\), got \(4, 16, 3\)"),
    (mg.Reshape(256, 7, 7), x(2, 100),
     r"Reshape\(256, 7, 7\): expected input of shape \(N, \.\.\.\) with 12544 values per "
     r"sample, got \(2, 100\)"),
])
def test_bad_shapes(layer, bad, message):
    with pytest.raises(ValueError, match=message):
        layer.forward(bad)


@pytest.mark.parametrize("layer", [mg.Dense(3, 2, rng=0), mg.Tanh(), mg.Conv2D(1, 1, 1)],
                         ids=repr)
def test_integer_input_is_refused(layer):
    shape = (2, 1, 3, 3) if isinstance(layer, mg.Conv2D) else (2, 3)
    with pytest.raises(ValueError, match=rf"{type(layer).__name__}.*expected a floating-point "
                                         rf"array of shape .*got dtype int64 with shape"):
        layer.forward(arr(np.zeros(shape, dtype=np.int64)))


def test_dtype_mismatch_is_refused():
    with pytest.raises(ValueError, match=r"Dense\(3 -> 2\): expected input dtype float32"):
        mg.Dense(3, 2, rng=0).forward(x(2, 3, dtype=np.float64))


@pytest.mark.parametrize("make,message", [
    (lambda: mg.ConvTranspose2D(2, 2, 3, stride=2, output_padding=2),
     r"ConvTranspose2D\(2 -> 2\): expected 0 <= output_padding < stride \(2\)"),
    (lambda: mg.Conv2D(2, 2, 0), r"Conv2D\(2 -> 2\): expected kernel_size >= 1"),
    (lambda: mg.Dropout(1.0), r"Dropout: expected 0 <= p < 1"),
    (lambda: mg.LeakyReLU(-0.1), r"LeakyReLU: expected 0 <= slope < 1"),
])
def test_bad_settings(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match=r"Dense\(3 -> 2\): backward called before forward"):
        mg.Dense(3, 2, rng=0).backward(x(2, 2))


def test_state_dict_mismatch_names_key_and_shapes():
    a, b = mg.Dense(3, 2, rng=0), mg.Dense(4, 2, rng=0)
    with pytest.raises(ValueError, match=r"state\['W'\] is float32 \(2, 4\), expected float32 "
                                         r"\(2, 3\)"):
        a.load_state_dict(b.state_dict())
    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        a.load_state_dict({"W": a.params["W"]})


LAYER_NAMES = ["dense", "conv", "convT", "bn1d", "bn2d", "dropout", "relu", "lrelu", "tanh",
               "sigmoid", "reshape", "flatten"]


def _layer(name):
    """One of each layer kind (built on the active backend) and an input shape it accepts."""
    return dict(zip(LAYER_NAMES, [
        (mg.Dense(3, 2, rng=0), (4, 3)),
        (mg.Conv2D(2, 3, 3, padding=1, rng=0), (2, 2, 5, 5)),
        (mg.ConvTranspose2D(2, 4, 3, stride=2, padding=1, output_padding=1, rng=0),
         (2, 2, 4, 4)),
        (mg.BatchNorm(3), (4, 3)),
        (mg.BatchNorm(2), (2, 2, 3, 3)),
        (mg.Dropout(0.5, rng=0), (4, 3)),
        (mg.ReLU(), (4, 3)),
        (mg.LeakyReLU(0.2), (2, 4, 3, 3)),
        (mg.Tanh(), (4, 3)),
        (mg.Sigmoid(), (4, 3)),
        (mg.Reshape(3, 2), (4, 6)),
        (mg.Flatten(), (2, 3, 2, 2)),
    ]))[name]


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_backward_checks_the_gradient_shape_and_dtype(name):
    layer, shape = _layer(name)
    rng = np.random.default_rng(0)
    y = layer.forward(arr(rng.standard_normal(shape).astype(np.float32)))
    longer = (y.shape[0],) + y.shape[1:-1] + (y.shape[-1] + 1,)
    name = re.escape(repr(layer))
    with pytest.raises(ValueError, match=rf"{name}: expected a gradient of shape "
                                         rf"{re.escape(str(tuple(y.shape)))} .*got shape "
                                         rf"{re.escape(str(longer))}"):
        layer.backward(x(*longer))
    with pytest.raises(ValueError, match=rf"{name}: expected a gradient .* float32 .*dtype "
                                         rf"float64"):
        layer.backward(x(*y.shape, dtype=np.float64))
    dx = layer.backward(arr(rng.standard_normal(y.shape).astype(np.float32)))
    assert dx.shape == shape and dx.dtype == np.float32


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_an_empty_batch_is_refused_naming_the_layer(name):
    layer, shape = _layer(name)
    with pytest.raises(ValueError, match=rf"{re.escape(repr(layer))}: expected a batch of at "
                                         rf"least one sample"):
        layer.forward(x(0, *shape[1:]))


def test_an_empty_batch_is_refused_by_a_network():
    net = mg.Sequential(mg.Dense(3, 2, rng=0), mg.ReLU())
    with pytest.raises(ValueError, match=r"Dense\(3 -> 2\): expected a batch of at least one"):
        net.forward(x(0, 3))


def test_batchnorm_training_needs_two_values_per_channel():
    with pytest.raises(ValueError, match=r"more than one value per channel.*\(1, 3\)"):
        mg.BatchNorm(3).forward(x(1, 3))
    y = mg.BatchNorm(3).forward(arr(np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2)))
    assert y.shape == (1, 3, 2, 2)                      # one image, four values a channel
    bn = mg.BatchNorm(3).eval()
    assert bn.forward(x(1, 3)).shape == (1, 3)          # eval mode: running statistics


def test_the_tangent_pass_checks_its_gradients_too():
    layer = mg.Dense(3, 2, rng=0)
    layer.jvp_forward(x(4, 3), x(4, 3))
    with pytest.raises(ValueError, match=r"Dense\(3 -> 2\): expected a gradient of shape "
                                         r"\(4, 2\)"):
        layer.jvp_backward(None, x(4, 3))
