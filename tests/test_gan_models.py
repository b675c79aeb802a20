"""Model builders and the GAN step."""

import numpy as np
import pytest

import minigan as mg
from minigan import gan, optim

from .conftest import arr, host

pytestmark = pytest.mark.usefixtures("backend_name")


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
@pytest.mark.parametrize("size,channels", [(28, 1), (32, 3), (64, 1)])
def test_generator_and_discriminator_shapes(model, size, channels):
    G, D = gan.build(model, image_size=size, channels=channels, latent_dim=8,
                     **({"width": 4} if model == "dcgan" else {"hidden": (16,), "d_hidden": (8,)}))
    fake = G.forward(arr(np.zeros((3, 8), np.float32)))
    assert fake.shape == (3, channels, size, size)
    assert D.forward(fake).shape == (3, 1)


def test_reference_dcgan_is_the_tensorflow_tutorial_model():
    G, D = gan.build("dcgan")
    assert [repr(l) for l in G] == [
        "Dense(100 -> 12544)", "BatchNorm(12544)", "LeakyReLU(0.3)", "Reshape(256, 7, 7)",
        "ConvTranspose2D(256 -> 128, 5x5, s1, p2, op0)", "BatchNorm(128)", "LeakyReLU(0.3)",
        "ConvTranspose2D(128 -> 64, 5x5, s2, p2, op1)", "BatchNorm(64)", "LeakyReLU(0.3)",
        "ConvTranspose2D(64 -> 1, 5x5, s2, p2, op1)", "Tanh()"]
    assert [repr(l) for l in D] == [
        "Conv2D(1 -> 64, 5x5, s2, p2)", "LeakyReLU(0.3)", "Dropout(0.3)",
        "Conv2D(64 -> 128, 5x5, s2, p2)", "LeakyReLU(0.3)", "Dropout(0.3)", "Flatten()",
        "Dense(6272 -> 1)"]
    assert "b" not in G[0].params and "b" not in G[4].params and "b" in D[0].params
    w = host(G[4].params["W"])
    assert abs(w.std() - 0.02) < 0.001 and abs(w.mean()) < 0.001
    gamma = host(G[1].params["gamma"])
    assert abs(gamma.mean() - 1) < 0.001 and abs(gamma.std() - 0.02) < 0.002


def test_reference_mlp_shapes():
    G, D = gan.build("mlp")
    assert [repr(l) for l in G if isinstance(l, mg.Dense)] == [
        "Dense(100 -> 256)", "Dense(256 -> 512)", "Dense(512 -> 1024)", "Dense(1024 -> 784)"]
    assert [repr(l) for l in D if isinstance(l, mg.Dense)] == [
        "Dense(784 -> 512)", "Dense(512 -> 256)", "Dense(256 -> 1)"]


def test_unknown_model_and_size_are_clear_errors():
    with pytest.raises(ValueError, match="unknown model 'vae'"):
        gan.build("vae")
    with pytest.raises(ValueError, match=r"image size 48 is not supported: expected one of "
                                         r"\[28, 32, 64\]"):
        gan.build("dcgan", image_size=48)


@pytest.mark.parametrize("loss", gan.OBJECTIVES)
def test_gan_step_trains_both_and_the_g_step_leaves_d_alone(loss, rng):
    G, D = gan.build("dcgan", latent_dim=4, width=2, rng=3)
    oG, oD = optim.Adam(G.parameters(), 1e-3), optim.Adam(D.parameters(), 1e-3)
    snapshot = {}
    d_step = oD.step

    def spy():                               # D's grads as its optimizer sees them
        snapshot.update({n: host(g).copy() for n, _, g in D.parameters()})
        d_step()

    oD.step = spy
    real = arr(rng.uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32))
    z = arr(rng.standard_normal((4, 4)).astype(np.float32))
    g0 = host(G[0].params["W"]).copy()
    d0 = host(D[0].params["W"]).copy()
    out = gan.gan_step(G, D, oG, oD, real, z, loss=loss)
    assert set(out) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v) for v in out.values())
    if loss in gan.objectives.BCE:           # probabilities; the other objectives' are raw
        assert 0 < out["d_real"] < 1 and 0 < out["d_fake"] < 1
    assert not np.array_equal(host(G[0].params["W"]), g0)
    assert not np.array_equal(host(D[0].params["W"]), d0)
    assert any(np.abs(g).sum() > 0 for g in snapshot.values())
    for n, _, g in D.parameters():           # the G step added nothing
        np.testing.assert_array_equal(host(g), snapshot[n], err_msg=n)


def test_pacgan_mlp_is_the_papers_2d_model():
    """Lin et al. 2018's synthetic-data model: G with four 400-unit ReLU layers
    after BatchNorm (no bias before it), D with three maxout layers of 200
    units x 5 pieces; weights N(0, 0.02), biases 0."""
    G, D = gan.build("pacgan-mlp", pack=3)
    bn = "BatchNorm(400, groups=3, stats='std')"               # one BatchNorm batch per packed slot
    assert [repr(l) for l in G] == ["Dense(2 -> 400)", bn, "ReLU()"] + [
        "Dense(400 -> 400)", bn, "ReLU()"] * 3 + ["Dense(400 -> 2)"]
    assert [repr(l) for l in D] == ["Dense(6 -> 1000)", "Maxout(5)"] + [
        "Dense(200 -> 1000)", "Maxout(5)"] * 2 + ["Dense(200 -> 1)"]
    assert all("b" not in l.params for l in G.layers[:-1] if isinstance(l, mg.Dense))
    assert all(l.momentum == 0.05 and l.eps == 1e-4 and l.stats == "std"
               for l in G if isinstance(l, mg.BatchNorm))
    W = host(D[0].params["W"])
    assert abs(W.std() - 0.02) < 0.002 and not host(D[0].params["b"]).any()
    fake = G.forward(arr(np.arange(12, dtype=np.float32).reshape(6, 2)))
    assert fake.shape == (6, 2) and D.forward(fake.reshape(2, 6)).shape == (2, 1)


def test_pacgan_mlp_defaults_and_training(tmp_path):
    from minigan.gan.config import Config, model_defaults
    from minigan.gan.trainer import Trainer
    assert model_defaults("pacgan-mlp", pack=2) == dict(
        dataset="ring", epochs=400, batch_size=200, ema=0.0, lr=1e-4, beta1=0.8, eval_every=10,
        bn_eps=1e-4, bn_stats="std", bn_refresh=50)
    t = Trainer(Config(model="pacgan-mlp", dataset="grid", pack=2, limit=400, epochs=1,
                       out=str(tmp_path / "r"), backend=mg.get_backend()))
    assert (t.cfg.batch_size, t.cfg.lr, t.cfg.beta1, t.cfg.ema) == (200, 1e-4, 0.8, 0.0)
    m = [t.train_step() for _ in range(2)]
    assert all(np.isfinite(v) for step in m for v in step.values())
    assert t.sample(arr(np.zeros((5, 2), np.float32))).shape == (5, 2)


def test_the_batchnorm_refresh_changes_only_what_g_samples_with(tmp_path):
    """pacgan-mlp refreshes G's population statistics after each epoch with
    50 forward passes of fresh noise (the authors' monitoring pass): weights,
    optimizer state and the training draws are the same as without it, the
    statistics are then those of the final G, and a resumed run matches an
    uninterrupted one."""
    from minigan import backend
    from minigan.gan.config import Config
    from minigan.gan.trainer import Trainer
    kw = dict(model="pacgan-mlp", dataset="grid", pack=2, limit=400, eval_every=0, samples=4,
              backend=mg.get_backend())
    runs, trainers = {}, {}
    for k in (0, 50):
        t = trainers[k] = Trainer(Config(bn_refresh=k, epochs=2, out=str(tmp_path / f"r{k}"),
                                         **kw))
        t.fit(progress=False)
        runs[k] = {n: np.array(backend.to_numpy(v)) for n, v in t.state()[0].items()}
    stats = [n for n in runs[0] if ".running_" in n]
    assert len(stats) == 8
    assert all(np.array_equal(runs[0][n], runs[50][n]) for n in runs[0] if n not in stats)
    assert not any(np.array_equal(runs[0][n], runs[50][n]) for n in stats)
    # one refresh from known statistics (7): what it adds is the average of 50 batches'
    # statistics of G's first layer on fresh noise (100 per packed slot), weight 0.05 each
    bn = trainers[50].G[1]
    bn.buffers["running_mean"][...] = 7.0
    bn.buffers["running_std"][...] = 7.0
    trainers[50].refresh_batchnorm()
    left = 0.95 ** 50

    def added(name):
        return (backend.to_numpy(bn.buffers[name]).astype(np.float64) - 7 * left) / (1 - left)

    W = runs[50]["G.0.W"].astype(np.float64)
    h = np.random.default_rng(5).standard_normal((50, 100, 2)) @ W.T       # W: (400, 2)
    std = np.sqrt(h.var(axis=1) + 1e-4).mean(axis=0)
    np.testing.assert_allclose(added("running_std"), std, rtol=0.05)
    np.testing.assert_allclose(added("running_mean"), h.mean(axis=(0, 1)),
                               atol=0.2 * float(std.mean()))
    # resumed after epoch 1: the same state as the uninterrupted run
    t = Trainer(Config(bn_refresh=50, epochs=1, out=str(tmp_path / "resumed"), **kw))
    t.fit(progress=False)
    t = Trainer.from_checkpoint(str(tmp_path / "resumed" / "checkpoint.npz"), epochs=2)
    t.fit(progress=False)
    again = {n: backend.to_numpy(v) for n, v in t.state()[0].items()}
    assert all(np.array_equal(again[n], runs[50][n]) for n in runs[50])
