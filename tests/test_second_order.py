"""The tangent pass (second-order backward) and WGAN-GP's gradient penalty,
checked against finite differences in float64."""

import numpy as np
import pytest

import minigan as mg
from minigan import gradcheck
from minigan.gan.penalty import gradient_penalty

from .conftest import arr, host, record_gradcheck

pytestmark = pytest.mark.usefixtures("backend_name")
F64 = np.float64


def _layers():
    return [
        ("dense", lambda: mg.Dense(5, 3, rng=0, dtype=F64), (4, 5)),
        ("conv", lambda: mg.Conv2D(2, 3, 3, stride=2, padding=1, rng=0, dtype=F64), (2, 2, 5, 5)),
        ("convT", lambda: mg.ConvTranspose2D(2, 3, 3, stride=2, padding=1, output_padding=1,
                                             rng=0, dtype=F64), (2, 2, 3, 3)),
        ("leaky", lambda: mg.LeakyReLU(0.2), (4, 5)),
        ("relu", lambda: mg.ReLU(), (4, 5)),
        ("tanh", lambda: mg.Tanh(), (4, 5)),
        ("sigmoid", lambda: mg.Sigmoid(), (4, 5)),
        ("flatten", lambda: mg.Flatten(), (2, 2, 3, 3)),
        ("reshape", lambda: mg.Reshape(3, 6), (2, 2, 9)),
    ]


@pytest.mark.parametrize("name,make,shape", _layers(), ids=[c[0] for c in _layers()])
def test_tangent_pass_matches_finite_differences(name, make, shape, rng):
    x = rng.standard_normal(shape)
    x = np.where(np.abs(x) < 0.05, 0.05, x)           # away from the ReLU kink
    errors = gradcheck.check_tangent(make(), arr(x), arr(rng.standard_normal(shape)))
    record_gradcheck(errors)
    assert max(errors.values()) < 1e-7, errors


def critic(rng_seed=0, conv=True):
    """A small critic with every kind of layer that has a tangent pass,
    including tanh, whose second derivative is not zero."""
    if conv:
        return mg.Sequential(mg.Conv2D(2, 3, 3, stride=2, padding=1, rng=rng_seed, dtype=F64),
                             mg.LeakyReLU(0.2), mg.Flatten(), mg.Dense(27, 4, rng=1, dtype=F64),
                             mg.Tanh(), mg.Dense(4, 1, rng=2, dtype=F64))
    return mg.Sequential(mg.Dense(3, 6, rng=rng_seed, dtype=F64), mg.ReLU(),
                         mg.Dense(6, 5, rng=1, dtype=F64), mg.Sigmoid(),
                         mg.Dense(5, 1, rng=2, dtype=F64))


@pytest.mark.parametrize("conv", [True, False], ids=["conv", "dense"])
def test_penalty_gradient_matches_finite_differences(conv, rng):
    D = critic(conv=conv)
    x = arr(rng.standard_normal((3, 2, 6, 6) if conv else (4, 3)))
    D.zero_grad()
    gradient_penalty(D, x, weight=10.0)
    for name, value, grad in D.parameters():
        numeric = gradcheck.numerical_gradient(
            lambda: gradient_penalty(D, x, 10.0, param_grads=False)[0], value)
        err = gradcheck.rel_error(grad, numeric)
        record_gradcheck({name: err})
        assert err < 1e-6, (name, err)


def test_penalty_value_uses_the_numerical_input_gradient(rng):
    """P computed from finite-difference input gradients, not from backward."""
    D = critic(conv=False)
    x = rng.standard_normal((4, 3))
    penalty, norms = gradient_penalty(D, arr(x), weight=10.0, param_grads=False)
    expected = []
    for i in range(4):
        xi = arr(x[i:i + 1].copy())
        g = gradcheck.numerical_gradient(lambda: float(D.forward(xi).sum()), xi)
        expected.append(np.linalg.norm(host(g)))
    np.testing.assert_allclose(host(norms), expected, rtol=1e-7)
    assert penalty == pytest.approx(10.0 * np.mean((np.array(expected) - 1) ** 2), rel=1e-7)


def test_penalty_restricted_to_some_inputs(rng):
    """``where`` (the conditional critic's image part) changes value and gradient
    consistently."""
    D = critic(conv=False)
    x = arr(rng.standard_normal((4, 3)))
    where = arr(np.array([[1.0, 1.0, 0.0]]))
    D.zero_grad()
    _, full = gradient_penalty(D, x, where=None, param_grads=False)
    _, part = gradient_penalty(D, x, where=where)
    assert np.all(host(part) < host(full))
    _, W, grad = D.parameters()[0]
    numeric = gradcheck.numerical_gradient(
        lambda: gradient_penalty(D, x, where=where, param_grads=False)[0], W)
    assert gradcheck.rel_error(grad, numeric) < 1e-6


@pytest.mark.parametrize("layer", [lambda: mg.BatchNorm(4, dtype=F64),
                                   lambda: mg.Dropout(0.3, rng=0)], ids=["batchnorm", "dropout"])
def test_layers_without_a_tangent_pass_refuse(layer):
    D = mg.Sequential(mg.Dense(3, 4, rng=0, dtype=F64), layer(), mg.Dense(4, 1, rng=1, dtype=F64))
    assert not D.supports_tangent()
    name = "BatchNorm" if isinstance(D[1], mg.BatchNorm) else "Dropout"
    with pytest.raises(NotImplementedError, match=f"{name}.*no tangent pass.*WGAN-GP"):
        gradient_penalty(D, arr(np.ones((2, 3))))


def test_maxout_tangent_pass_matches_finite_differences(rng):
    from .test_gradcheck_layers import separated_pieces
    x = separated_pieces(rng, 4, 2, 3)
    errors = gradcheck.check_tangent(mg.Maxout(3), arr(x), arr(rng.standard_normal(x.shape)))
    record_gradcheck(errors)
    assert max(errors.values()) < 1e-7, errors
