"""BatchNorm statistics and modes; Dropout scaling, seeding and eval mode."""

import numpy as np
import pytest

import minigan as mg
from minigan import gradcheck

from .conftest import arr, host

pytestmark = pytest.mark.usefixtures("backend_name")


@pytest.mark.parametrize("shape", [(8, 3), (6, 3, 4, 5)])
def test_batchnorm_running_statistics_follow_pytorch_momentum(rng, shape):
    x = rng.normal(2.0, 3.0, size=shape)
    bn = mg.BatchNorm(3, momentum=0.25, dtype=np.float64)
    bn.forward(arr(x))
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    mean, var_unbiased = x.mean(axis=axes), x.var(axis=axes, ddof=1)
    np.testing.assert_allclose(host(bn.buffers["running_mean"]), 0.75 * 0 + 0.25 * mean,
                               rtol=1e-12)
    np.testing.assert_allclose(host(bn.buffers["running_var"]), 0.75 * 1 + 0.25 * var_unbiased,
                               rtol=1e-12)


@pytest.mark.parametrize("groups", [1, 2])
def test_blocks_statistics_average_the_batches_standard_deviation(rng, groups):
    """stats="std" (the PacGAN authors' Blocks BatchNorm): the running
    statistic is the average of sqrt(biased variance + eps) over the groups,
    and eval mode divides by it; training mode normalizes as before."""
    x = rng.normal(2.0, 3.0, size=(8, 3))
    bn = mg.BatchNorm(3, momentum=0.25, eps=1e-4, dtype=np.float64, groups=groups,
                      stats="std")
    plain = mg.BatchNorm(3, momentum=0.25, eps=1e-4, dtype=np.float64, groups=groups)
    assert "running_var" not in bn.buffers and repr(bn).endswith("stats='std')")
    np.testing.assert_array_equal(host(bn.forward(arr(x))), host(plain.forward(arr(x))))
    parts = [x[j::groups] for j in range(groups)]
    std = np.mean([np.sqrt(p.var(axis=0) + 1e-4) for p in parts], axis=0)
    np.testing.assert_allclose(host(bn.buffers["running_std"]), 0.75 * 1 + 0.25 * std,
                               rtol=1e-12)
    bn.eval()
    x2 = rng.normal(size=(5, 3))
    rm, rs = host(bn.buffers["running_mean"]), host(bn.buffers["running_std"])
    np.testing.assert_allclose(host(bn.forward(arr(x2))), (x2 - rm) / rs, rtol=1e-12,
                               atol=1e-12)
    with pytest.raises(ValueError, match="stats 'var' or 'std'"):
        mg.BatchNorm(3, stats="mean")


def test_batchnorm_train_output_is_normalized_and_eval_uses_running_stats(rng):
    x = rng.normal(-1.0, 4.0, size=(16, 2, 3, 3))
    bn = mg.BatchNorm(2, eps=1e-5, dtype=np.float64)
    bn.params["gamma"][...] = arr([2.0, 0.5])
    bn.params["beta"][...] = arr([1.0, -1.0])
    y = host(bn.forward(arr(x)))
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), [1.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), [2.0, 0.5], rtol=1e-6)

    bn.eval()
    rm, rv = host(bn.buffers["running_mean"]).copy(), host(bn.buffers["running_var"]).copy()
    x2 = rng.normal(size=(4, 2, 3, 3))
    y2 = host(bn.forward(arr(x2)))
    expected = ((x2 - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5)
                * np.array([2.0, 0.5])[None, :, None, None]
                + np.array([1.0, -1.0])[None, :, None, None])
    np.testing.assert_allclose(y2, expected, rtol=1e-12)
    np.testing.assert_array_equal(host(bn.buffers["running_mean"]), rm)   # not updated in eval


def test_dropout_scales_survivors_and_drops_about_p(rng):
    x = rng.uniform(1, 2, size=(200, 500))
    d = mg.Dropout(0.3, rng=5)
    y = host(d.forward(arr(x)))
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.7, rtol=1e-12)
    # 100,000 Bernoulli(0.3) draws: std of the share is 0.0014; 0.01 is 7 sigma.
    assert abs((~kept).mean() - 0.3) < 0.01


def test_dropout_is_seeded_and_identity_in_eval(rng):
    x = arr(rng.standard_normal((10, 20)))
    a = host(mg.Dropout(0.5, rng=3).forward(x))
    b = host(mg.Dropout(0.5, rng=3).forward(x))
    c = host(mg.Dropout(0.5, rng=4).forward(x))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    d = mg.Dropout(0.5, rng=3).eval()
    np.testing.assert_array_equal(host(d.forward(x)), host(x))
    np.testing.assert_array_equal(host(d.backward(x)), host(x))


def test_dropout_state_round_trip_replays_masks(rng):
    x = arr(rng.standard_normal((4, 8)))
    d = mg.Dropout(0.5, rng=11)
    d.forward(x)
    state = {k: v.copy() for k, v in d.state_dict().items()}
    expected = host(d.forward(x))
    other = mg.Dropout(0.5, rng=99)
    other.load_state_dict(state)
    np.testing.assert_array_equal(host(other.forward(x)), expected)


@pytest.mark.parametrize("shape", [(12, 3), (6, 3, 4, 4)])
def test_grouped_batchnorm_is_one_batchnorm_per_group(shape, rng):
    """groups=g: the samples with the same index mod g normalized as g
    separate batches (PacGAN's generator, once per packed slot); gamma and
    beta shared, their gradients summed; running statistics the groups' mean."""
    g, C = 3, shape[1]
    x = arr(rng.standard_normal(shape) * 2 + 1)
    dy = arr(rng.standard_normal(shape))
    grouped = mg.BatchNorm(C, momentum=0.5, dtype=np.float64, groups=g)
    grouped.params["gamma"][...] = arr(rng.uniform(0.5, 1.5, C))
    y = host(grouped.forward(x))
    dx = host(grouped.backward(dy))
    means, vars_ = [], []
    dgamma = np.zeros(C)
    for j in range(g):
        one = mg.BatchNorm(C, momentum=0.5, dtype=np.float64)
        one.params["gamma"][...] = grouped.params["gamma"]
        part = arr(np.ascontiguousarray(host(x)[j::g]))
        np.testing.assert_allclose(host(one.forward(part)), y[j::g], rtol=1e-12, atol=1e-12)
        d_part = arr(np.ascontiguousarray(host(dy)[j::g]))
        np.testing.assert_allclose(host(one.backward(d_part)), dx[j::g], rtol=1e-10, atol=1e-12)
        dgamma += host(one.grads["gamma"])
        means.append(host(one.buffers["running_mean"]))
        vars_.append(host(one.buffers["running_var"]))
    np.testing.assert_allclose(host(grouped.grads["gamma"]), dgamma, rtol=1e-10)
    np.testing.assert_allclose(host(grouped.buffers["running_mean"]), np.mean(means, 0),
                               rtol=1e-12)
    np.testing.assert_allclose(host(grouped.buffers["running_var"]), np.mean(vars_, 0),
                               rtol=1e-12)
    assert gradcheck.check_layer(grouped, x)["x"] < 1e-6


def test_grouped_batchnorm_refuses_a_batch_it_cannot_split():
    with pytest.raises(ValueError, match="must be a multiple of the groups"):
        mg.BatchNorm(2, groups=3).forward(arr(np.ones((4, 2), np.float32)))
    with pytest.raises(ValueError, match="more than one value per channel"):
        mg.BatchNorm(2, groups=2).forward(arr(np.ones((2, 2), np.float32)))
