"""Losses: values against their definitions, stability at extreme logits."""

import numpy as np
import pytest

import minigan as mg

from .conftest import arr, host

pytestmark = pytest.mark.usefixtures("backend_name")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_finite_and_exact_at_extreme_logits(dtype):
    x = arr(np.array([[1e4], [-1e4], [1e4], [-1e4]], dtype=dtype))
    t = arr(np.array([[1.0], [0.0], [0.0], [1.0]], dtype=dtype))
    loss, dx = mg.bce_with_logits(x, t)
    # right answers cost exp(-1e4) = 0; confident wrong answers cost |x| = 1e4
    assert loss == pytest.approx((0 + 0 + 1e4 + 1e4) / 4, rel=1e-6)
    dx = host(dx)
    assert dx.dtype == dtype and np.isfinite(dx).all()
    np.testing.assert_allclose(dx.ravel(), np.array([0, 0, 1, -1]) / 4, atol=1e-7)


def test_bce_with_logits_matches_the_definition(rng):
    x = rng.normal(0, 3, size=(50, 1))
    t = rng.uniform(size=(50, 1))
    s = 1 / (1 + np.exp(-x))
    expected = float(np.mean(-t * np.log(s) - (1 - t) * np.log(1 - s)))
    loss, dx = mg.bce_with_logits(arr(x), arr(t))
    assert loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(host(dx), (s - t) / 50, rtol=1e-10)


def test_bce_on_probabilities_clips_instead_of_overflowing():
    p = arr(np.array([[0.0], [1.0]]))
    loss, dp = mg.bce(p, arr(np.array([[1.0], [0.0]])))
    assert np.isfinite(loss) and loss == pytest.approx(-np.log(1e-7), rel=1e-6)
    np.testing.assert_array_equal(host(dp), 0)     # saturated: no gradient at all


def test_mse_and_scalar_targets(rng):
    x = rng.standard_normal((4, 3))
    loss, dx = mg.mse(arr(x), 0.5)
    assert loss == pytest.approx(float(((x - 0.5) ** 2).mean()), rel=1e-12)
    np.testing.assert_allclose(host(dx), 2 * (x - 0.5) / 12, rtol=1e-12)


def test_loss_target_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError,
                       match=r"bce_with_logits: expected target of shape \(4, 1\).*\(3,\)"):
        mg.bce_with_logits(arr(np.zeros((4, 1))), arr(np.zeros(3)))


def test_softmax_cross_entropy_matches_the_definition_and_survives_huge_logits(rng):
    x = rng.standard_normal((5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    loss, dx = mg.softmax_cross_entropy(arr(x), arr(labels))
    assert loss == pytest.approx(float(-np.log(p[np.arange(5), labels]).mean()), rel=1e-12)
    big, _ = mg.softmax_cross_entropy(arr(np.array([[1e4, 0.0], [0.0, 1e4]])),
                                      arr(np.array([1, 1])))
    assert big == pytest.approx(0.5 * 1e4, rel=1e-9)
