"""Initializers: explicit generators, determinism, the right spread."""

import math

import numpy as np
import pytest

from minigan import init

from .conftest import host

pytestmark = pytest.mark.usefixtures("backend_name")
SHAPE = (64, 32, 5, 5)           # fan_in 800, fan_out 1600; 51,200 values


@pytest.mark.parametrize("name,std", [
    ("dcgan", 0.02),
    ("glorot_normal", math.sqrt(2 / 2400)),
    ("he_normal", math.sqrt(2 / 800)),
    ("glorot_uniform", math.sqrt(6 / 2400) / math.sqrt(3)),
    ("he_uniform", math.sqrt(2) * math.sqrt(3 / 800) / math.sqrt(3)),
    ("torch_default", 1 / math.sqrt(800) / math.sqrt(3)),
])
def test_initializer_spread(name, std):
    w = host(getattr(init, name)(SHAPE, np.random.default_rng(0)))
    assert w.shape == SHAPE and w.dtype == np.float32
    # 51,200 samples: the sample std is within 1.5% of the true one (~5 sigma)
    assert w.std() == pytest.approx(std, rel=0.015)
    assert abs(w.mean()) < 5 * std / math.sqrt(w.size)


def test_uniform_bounds_and_determinism():
    a = host(init.uniform((1000,), np.random.default_rng(3), -0.1, 0.2, dtype=np.float64))
    b = host(init.uniform((1000,), np.random.default_rng(3), -0.1, 0.2, dtype=np.float64))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float64 and a.min() >= -0.1 and a.max() < 0.2


def test_fans_follow_pytorch():
    assert init.fans((10, 20)) == (20, 10)
    assert init.fans((64, 3, 5, 5)) == (75, 1600)


def test_initializers_need_an_explicit_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        init.normal((3,), 0)
