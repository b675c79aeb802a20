"""GAN quality scores against independent formulas and known cases."""

import numpy as np
import pytest

from minigan import data, metrics


def test_frechet_distance_against_the_product_formula(rng):
    a = rng.standard_normal((4000, 3))
    b = a @ np.array([[1.0, 0.3, 0.0], [0.0, 2.0, 0.1], [0.2, 0.0, 0.5]]) + [1.0, -2.0, 0.5]
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr((Sa Sb)^(1/2)) = sum of square roots of the eigenvalues of Sa @ Sb
    tr_sqrt = np.sqrt(np.linalg.eigvals(sa @ sb).real).sum()
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(sa) + np.trace(sb) - 2 * tr_sqrt
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert metrics.frechet_distance(a, a) == pytest.approx(0, abs=1e-9)
    assert metrics.frechet_distance(a, a + [3, 0, 4]) == pytest.approx(25, rel=1e-9)


def test_inception_score_bounds():
    K = 10
    onehot = np.eye(K)[np.arange(1000) % K]
    mean, std = metrics.inception_score(onehot)
    assert mean == pytest.approx(K, rel=1e-6) and std < 1e-6
    same = np.tile(np.eye(K)[3], (1000, 1))
    assert metrics.inception_score(same)[0] == pytest.approx(1.0, rel=1e-6)


def test_class_coverage():
    p = np.full((1000, 10), 0.01)
    p[np.arange(1000), np.arange(1000) % 5] = 0.91            # 5 classes, all confident
    c = metrics.class_coverage(p)
    assert c["classes_covered"] == 5 and c["confident_share"] == 1.0
    assert c["kl_uniform"] == pytest.approx(np.log(2), rel=1e-9)   # uniform on half the classes


def test_mode_metrics():
    means = data.ring_means()
    rng = np.random.default_rng(0)
    pts = means[rng.integers(8, size=4000)] + 0.01 * rng.standard_normal((4000, 2))
    m = metrics.mode_metrics(pts, means, 0.01)
    assert m["modes_captured"] == 8 and m["high_quality_share"] > 0.98 and m["reverse_kl"] < 0.01
    collapsed = np.tile(means[2], (100, 1))
    m = metrics.mode_metrics(np.vstack([collapsed, [[0.0, 0.0]]]), means, 0.01)
    assert m["modes_captured"] == 1 and m["reverse_kl"] == pytest.approx(np.log(8))
    assert m["high_quality_share"] == pytest.approx(100 / 101)
