"""k-means clusters (``data.kmeans``) and the GAN conditioned on them
(``--clusters K``): the algorithm's fixed point, the proportional draw, the
trainer's wiring, resume, checkpoints and the CLI."""

import numpy as np
import pytest

from minigan import backend, checkpoint, data
from minigan.gan import Config, Trainer, run_files

from .conftest import arr, host
from .helpers import run
from .helpers import train_and_sample_one, train_toy_on_the_ring
from .helpers import all_state, assert_same_state, tiny


def _blobs(rng, sizes, spread=0.05):
    """Points around well-separated centres, with their true group."""
    centres = np.array([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 5.0]])
    truth = np.repeat(np.arange(len(sizes)), sizes)
    X = centres[truth] + spread * rng.standard_normal((len(truth), 3))
    order = rng.permutation(len(truth))
    return X[order], truth[order]


def test_kmeans_recovers_separated_groups_largest_first(rng):
    X, truth = _blobs(rng, [30, 50, 20, 40])
    labels, centers = data.kmeans(X, 4, seed=3)
    # the same partition as the truth, numbered by size: 50, 40, 30, 20
    for k, group in enumerate([1, 3, 0, 2]):
        assert np.array_equal(labels == k, truth == group)
    assert centers.shape == (4, 3) and labels.dtype == np.int64


def test_kmeans_ends_at_a_fixed_point_of_lloyds_steps(rng):
    """Each centre is the mean of its samples, and each sample is nearest
    its own centre (distances computed here directly, not by kmeans)."""
    X = rng.standard_normal((300, 5))
    labels, centers = data.kmeans(X, 6, seed=1)
    for k in range(6):
        np.testing.assert_allclose(centers[k], X[labels == k].mean(axis=0), atol=1e-12)
    dist = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2)
    own = dist[np.arange(len(X)), labels]
    assert np.all(own <= dist.min(axis=1) + 1e-9)
    sizes = np.bincount(labels, minlength=6)
    assert np.all(np.diff(sizes) <= 0)                  # largest first


def test_kmeans_is_seeded_and_leaves_no_cluster_empty(rng):
    X = rng.standard_normal((200, 4))
    a, _ = data.kmeans(X, 5, seed=7)
    b, _ = data.kmeans(X.copy(), 5, seed=7)
    assert np.array_equal(a, b)
    # 6 points at 2 places but 3 clusters: seeding must repeat a point, and
    # the empty cluster takes a point rather than dividing by zero
    X = np.array([[0.0, 0], [0, 0], [0, 0], [0, 0], [1, 1], [1, 1]])
    labels, centers = data.kmeans(X, 3)
    assert np.all(np.bincount(labels, minlength=3) >= 1) and np.all(np.isfinite(centers))


@pytest.mark.parametrize("X, k, message", [
    (np.zeros((5, 2)), 6, "k must be between 1 and the number of samples \\(5\\), got 6"),
    (np.zeros((5, 2)), 0, "got 0"),
    (np.array([[0.0, np.nan]]), 1, "NaN or infinite"),
    (np.zeros(5), 2, "rows of an \\(N, ...\\) array, got shape \\(5,\\)"),
])
def test_kmeans_bad_input_is_a_clear_error(X, k, message):
    with pytest.raises(ValueError, match=message):
        data.kmeans(X, k)


def test_proportional_labels_follow_the_sizes():
    sizes = np.array([50, 30, 15, 5])
    assert np.array_equal(np.bincount(data.proportional_labels(sizes, 100), minlength=4), sizes)
    counts = np.bincount(data.proportional_labels(sizes, 37), minlength=4)
    assert counts.sum() == 37 and np.all(np.abs(counts - 37 * sizes / 100) <= 1)
    assert list(data.proportional_labels([0, 2, 0, 1], 3)) == [1, 1, 3]
    with pytest.raises(ValueError, match="not all 0"):
        data.proportional_labels([0, 0], 3)


@pytest.mark.usefixtures("backend_name")
def test_trainer_trains_on_clusters_samples_them_in_proportion_and_resumes(tmp_path):
    be = backend.get_backend()
    cfg = lambda **kw: tiny(tmp_path, be, clusters=3, samples=6, eval_samples=60, **kw)  # noqa
    t = Trainer(cfg(), log=lambda *a: None)
    images = host(t.batches.data)
    labels, _ = data.kmeans(images, 3, seed=0)
    assert np.array_equal(t.batches.labels, labels)    # the batches carry the clusters
    assert np.array_equal(t.cluster_sizes, np.bincount(labels, minlength=3))
    assert list(t.fixed_labels) == list(data.proportional_labels(t.cluster_sizes, 6))
    assert t.grid_columns is None                      # a square grid, not a row per cluster
    assert t.G.layers[0].params["W"].shape[1] == 8 + 3          # G takes [z, onehot(cluster)]
    t.train_step()
    z = arr(np.zeros((2, 8), np.float32))
    a = host(t.sample(z, labels=np.array([1, 1])))
    b = host(t.sample(z, labels=np.array([1, 2])))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[1], b[1])              # same noise, another cluster
    scores = t.evaluate()
    direct = run_files.purity(t, t.evaluator, "cluster")   # the evaluator on t's clusters
    assert (scores["cluster_purity"], scores["cluster_classes"]) == \
        (direct["code_purity"], direct["code_classes"])

    straight = Trainer(cfg(ema=0.9), log=lambda *a: None)
    for _ in range(3):
        straight.train_step()
    first = Trainer(cfg(ema=0.9), log=lambda *a: None)
    first.train_step()
    first.save_checkpoint(tmp_path / "k.npz")
    resumed = Trainer(cfg(ema=0.9), log=lambda *a: None)
    resumed.load_checkpoint(tmp_path / "k.npz")
    for _ in range(2):
        resumed.train_step()
    assert_same_state(all_state(straight), all_state(resumed))

    other_data = Trainer(cfg(ema=0.9, limit=32), log=lambda *a: None)
    with pytest.raises(checkpoint.CheckpointError, match="k-means clusters .* are not the "
                                                         "checkpoint's"):
        other_data.load_checkpoint(tmp_path / "k.npz")
    plain = Trainer(tiny(tmp_path, be, ema=0.9, dropout=0.3))   # (as the clustered D has)
    with pytest.raises(checkpoint.CheckpointError, match="clusters=3, this run has clusters=0"):
        plain.load_checkpoint(tmp_path / "k.npz")


@pytest.mark.parametrize("kw, field, k", [(dict(clusters=3), 0, 3),
                                           (dict(conditional=True), 0, 10),
                                           (dict(codes=4), 1, 4)])
def test_independent_inputs_draw_each_sample_on_its_own(tmp_path, kw, field, k):
    """Clusters in proportion to their sizes, classes and codes uniformly,
    each sample's on its own: blocks of 100 vary as a multinomial's do,
    where ``sample``'s stratified draw gives every block the same counts."""
    t = Trainer(tiny(tmp_path, "numpy", **kw), log=lambda *a: None)
    p = t.cluster_sizes / t.cluster_sizes.sum() if t.cfg.clusters else np.full(k, 1 / k)
    blocks, n = 200, 100
    drawn = t.independent_inputs(blocks * n, np.random.default_rng(0))
    assert drawn[1 - field] is None and drawn[field].shape == (blocks * n,)
    counts = np.stack([np.bincount(b, minlength=k) for b in drawn[field].reshape(blocks, n)])
    assert counts.shape == (blocks, k)
    total = counts.sum(axis=0)            # each within 5 binomial std of its expectation
    assert np.all(np.abs(total - blocks * n * p) <= 5 * np.sqrt(blocks * n * p * (1 - p)))
    # Pearson's statistic per block: mean k - 1 (std of the mean sqrt(2(k-1)/200))
    chi2 = ((counts - n * p) ** 2 / (n * p)).sum(axis=1)
    assert 0.5 * (k - 1) < chi2.mean() < 1.5 * (k - 1)
    if t.cfg.clusters:                    # the stratified draw: within 1 of n p each
        same = np.bincount(t._cluster_labels(n), minlength=k)
        assert np.all(np.abs(same - n * p) < 1)
        assert ((same - n * p) ** 2 / (n * p)).sum() < 0.1 * (k - 1)
    assert Trainer(tiny(tmp_path, "numpy"), log=lambda *a: None).independent_inputs(
        5, np.random.default_rng(0)) == (None, None)


@pytest.mark.parametrize("bad, message", [
    (dict(clusters=-1), "--clusters must be at least 0, got -1"),
    (dict(clusters=5, conditional=True), "both give G a class to draw"),
    (dict(clusters=5, codes=4), "--clusters 5 already gives G a discrete choice"),
])
def test_bad_cluster_settings_are_clear_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        Config(**bad).validate()


def test_cli_trains_on_clusters_and_samples_one(tmp_path, capsys):
    ckpt = train_and_sample_one(capsys, tmp_path, ["--clusters", "4"], "--cluster", 2,
                                "cluster")
    code, _, err = run(capsys, "sample", ckpt, "--cluster", "4")
    assert code == 2 and "--cluster must be from 0 to 3, got 4" in err
    code, text, _ = run(capsys, "evaluate", ckpt, "--n", "200", "--backend", "numpy")
    assert code == 0 and "cluster: share of each cluster's samples in its majority digit" in text


def test_toy_gan_on_the_ring_clusters(tmp_path, capsys):
    t, trained, scored = train_toy_on_the_ring(capsys, tmp_path, ["--clusters", "8"])
    assert "k-means: 8 clusters of the 512 training samples" in trained
    assert t.D.layers[0].params["W"].shape[1] == 2 + 8     # D sees the point and its cluster
    assert "cluster:" not in scored                        # points are scored by modes


def test_minigan_train_clusters_the_digits_by_default(tmp_path, capsys):
    """The dcgan on the digits takes 20 clusters unless told otherwise;
    --clusters 0 is the plain DCGAN, and other datasets and models are plain."""
    import json

    def cfg_of(*flags):
        out = tmp_path / "_".join(flags or ("default",))
        code, text, _ = run(capsys, "train", "--limit", "64", "--width", "2", "--epochs", "1",
                            "--batch-size", "32", "--eval-every", "0", "--out", str(out),
                            "--no-progress", "--backend", "numpy", *flags)
        assert code == 0
        return json.loads((out / "config.json").read_text()), text

    cfg, text = cfg_of()
    assert cfg["model"] == "dcgan" and cfg["clusters"] == 20
    assert "k-means: 20 clusters of the 64 training samples" in text
    assert cfg_of("--clusters", "0")[0]["clusters"] == 0
    assert cfg_of("--model", "mlp")[0]["clusters"] == 0
    assert cfg_of("--codes", "3")[0]["clusters"] == 0


@pytest.mark.parametrize("settings, dropout", [
    (dict(), 0.3),                                   # the default model: clustered
    (dict(clusters=0), 0.0),                         # the plain DCGAN: no Dropout in D
    (dict(clusters=20), 0.3),                        # clustered: the tutorial's Dropout
    (dict(clusters=20, dropout=0.0), 0.0),           # unless told otherwise
    (dict(clusters=20, loss="wgan-gp"), 0.0),        # a penalized critic has none
    (dict(clusters=20, model="mlp"), 0.0),           # only the dcgan's D has Dropout
])
def test_dropout_default_follows_the_clusters(settings, dropout):
    assert Config(**settings).validate().dropout == dropout
