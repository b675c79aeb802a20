"""Optimizers against hand computations from their papers' formulas."""

import math

import numpy as np
import pytest

import minigan as mg
from minigan import optim

from .conftest import arr, host

pytestmark = pytest.mark.usefixtures("backend_name")


def one_param(values, grads):
    p = arr(np.array(values, dtype=np.float64))
    g = arr(np.array(grads, dtype=np.float64))
    return p, g, [("w", p, g)]


def test_adam_two_steps_by_hand():
    """Kingma & Ba, Algorithm 1, worked out in scalars for two elements."""
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    p0, g1, g2 = [1.0, -2.0], [0.1, -0.3], [0.2, 0.1]
    p, g, params = one_param(p0, g1)
    opt = optim.Adam(params, lr=lr, betas=(b1, b2), eps=eps)
    opt.step()
    g[...] = arr(np.array(g2))
    opt.step()

    expected = []
    for i in range(2):
        m1 = (1 - b1) * g1[i]
        v1 = (1 - b2) * g1[i] ** 2
        x1 = p0[i] - lr * (m1 / (1 - b1)) / (math.sqrt(v1 / (1 - b2)) + eps)
        m2 = b1 * m1 + (1 - b1) * g2[i]
        v2 = b2 * v1 + (1 - b2) * g2[i] ** 2
        x2 = x1 - lr * (m2 / (1 - b1 ** 2)) / (math.sqrt(v2 / (1 - b2 ** 2)) + eps)
        expected.append(x2)
    np.testing.assert_allclose(host(p), expected, rtol=1e-12)
    # The first step of bias-corrected Adam moves each weight by about lr:
    # without the correction it would move by lr * 0.1 / sqrt(0.001) ~ 3.16 lr.
    assert expected[0] == pytest.approx(1.0 - 0.1 - 0.1 * (0.029 / 0.19)
                                        / math.sqrt(4.999e-5 / 0.001999), rel=1e-6)


def test_adam_weight_decay_and_norm_clipping():
    p, g, params = one_param([1.0, 1.0], [3.0, 4.0])           # |g| = 5
    opt = optim.Adam(params, lr=0.01, weight_decay=0.5, max_grad_norm=1.0)
    assert opt.grad_scale() == pytest.approx(1 / 5, rel=1e-6)
    opt.step()
    # clipped g = (0.6, 0.8); plus 0.5 * p = (1.1, 1.3); first step moves by lr * sign
    np.testing.assert_allclose(host(p), [0.99, 0.99], rtol=1e-7)
    np.testing.assert_array_equal(host(g), [3.0, 4.0])         # gradients left alone


def test_sgd_momentum_by_hand():
    p, g, params = one_param([1.0], [0.5])
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    opt.step()                                   # buf = 0.5,         p = 1 - 0.05
    g[...] = arr(np.array([-1.0]))
    opt.step()                                   # buf = 0.45 - 1.0,  p = 0.95 + 0.055
    np.testing.assert_allclose(host(p), [1.0 - 0.05 + 0.055], rtol=1e-12)


def test_rmsprop_two_steps_by_hand():
    """v = a v + (1 - a) g^2, p -= lr g / (sqrt(v) + eps), from v = 0."""
    lr, a, eps = 0.01, 0.9, 1e-8
    p, g, params = one_param([1.0], [2.0])
    opt = optim.RMSprop(params, lr=lr, alpha=a, eps=eps)
    opt.step()
    v1 = (1 - a) * 4.0
    p1 = 1.0 - lr * 2.0 / (math.sqrt(v1) + eps)
    g[...] = arr(np.array([-1.0]))
    opt.step()
    v2 = a * v1 + (1 - a) * 1.0
    np.testing.assert_allclose(host(p), [p1 + lr * 1.0 / (math.sqrt(v2) + eps)], rtol=1e-12)


@pytest.mark.parametrize("cls", [optim.Adam, optim.SGD, optim.RMSprop])
def test_optimizer_state_round_trip_continues_identically(cls, rng):
    kwargs = {"momentum": 0.9} if cls is optim.SGD else {}
    grads = [rng.standard_normal(3) for _ in range(6)]

    def run(steps, opt, g):
        for gi in steps:
            g[...] = arr(gi)
            opt.step()

    p1, g1, params1 = one_param([0.0, 1.0, 2.0], [0, 0, 0])
    opt1 = cls(params1, lr=0.05, **kwargs)
    run(grads, opt1, g1)

    p2, g2, params2 = one_param([0.0, 1.0, 2.0], [0, 0, 0])
    opt2 = cls(params2, lr=0.05, **kwargs)
    run(grads[:3], opt2, g2)
    state = {k: host(v).copy() for k, v in opt2.state_dict().items()}
    p3, g3, params3 = one_param(host(p2), [0, 0, 0])
    opt3 = cls(params3, lr=0.05, **kwargs)
    opt3.load_state_dict(state)
    run(grads[3:], opt3, g3)
    np.testing.assert_array_equal(host(p3), host(p1))


def test_optimizer_rejects_state_of_another_model():
    _, _, params = one_param([1.0, 2.0], [0, 0])
    opt = optim.Adam(params)
    opt.step()
    state = opt.state_dict()
    state["m.w"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"state\['m.w'\] has shape \(3,\), expected \(2,\)"):
        optim.Adam(params).load_state_dict(state)


def test_optimizer_trains_a_network(rng):
    """A least-squares fit with Dense + Adam: the loss must fall a lot."""
    X = rng.standard_normal((64, 3))
    Y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    net = mg.Sequential(mg.Dense(3, 1, rng=0, dtype=np.float64))
    opt = optim.Adam(net.parameters(), lr=0.05)
    losses = []
    for _ in range(300):
        net.zero_grad()
        loss, dy = mg.mse(net.forward(arr(X)), arr(Y))
        net.backward(dy)
        opt.step()
        losses.append(loss)
    assert losses[-1] < 1e-3 * losses[0]
