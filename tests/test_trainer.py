"""The trainer: determinism, bit-for-bit resume, EMA, sampling modes,
the NaN guard, the run folder."""

import csv
import importlib.util
import os

import numpy as np
import pytest

from minigan import backend, checkpoint
from minigan.gan import Config, Trainer, TrainingDiverged

from .helpers import all_state, assert_same_state, tiny

pytestmark = pytest.mark.usefixtures("backend_name")


def test_resume_continues_bit_for_bit(tmp_path, backend_name):
    N, k = 7, 3
    straight = Trainer(tiny(tmp_path, backend_name, ema=0.9))
    for _ in range(N):
        straight.train_step()

    first = Trainer(tiny(tmp_path, backend_name, ema=0.9))
    for _ in range(k):
        first.train_step()
    first.save_checkpoint(tmp_path / "k.npz")
    resumed = Trainer(tiny(tmp_path, backend_name, ema=0.9))
    resumed.load_checkpoint(tmp_path / "k.npz")
    assert resumed.step == k
    for _ in range(N - k):
        resumed.train_step()
    assert_same_state(all_state(straight), all_state(resumed))


def test_same_seed_same_run_other_seed_other_run(tmp_path, backend_name):
    a, b, c = (Trainer(tiny(tmp_path, backend_name, seed=s)) for s in (1, 1, 2))
    for t in (a, b, c):
        for _ in range(2):
            t.train_step()
    assert_same_state(all_state(a), all_state(b))
    assert not np.array_equal(all_state(a)["G.0.W"], all_state(c)["G.0.W"])


def test_sampling_uses_eval_mode_and_returns_to_train(tmp_path, backend_name):
    t = Trainer(tiny(tmp_path, backend_name, ema=0.0))        # samples from G itself
    t.train_step()
    out = backend.to_numpy(t.sample())
    assert all(layer.training for layer in t.G)
    t.G.eval()
    expected = backend.to_numpy(t.G.forward(t.fixed_z))
    t.G.train()
    np.testing.assert_array_equal(out, expected)
    assert out.shape == (4, 1, 28, 28) and np.abs(out).max() <= 1


def test_ema_follows_its_formula(tmp_path, backend_name):
    t = Trainer(tiny(tmp_path, backend_name, ema=0.75))
    before = backend.to_numpy(t.ema[0].params["W"]).copy()
    t.train_step()
    g = backend.to_numpy(t.G[0].params["W"])
    np.testing.assert_allclose(backend.to_numpy(t.ema[0].params["W"]),
                               0.75 * before + 0.25 * g, rtol=1e-6)
    np.testing.assert_array_equal(backend.to_numpy(t.ema[1].buffers["running_mean"]),
                                  backend.to_numpy(t.G[1].buffers["running_mean"]))


def test_fit_writes_the_run_folder_and_resumes_from_it(tmp_path, backend_name):
    cfg = tiny(tmp_path, backend_name, checkpoint_every=1)
    t = Trainer(cfg).fit(epochs=1, progress=False)
    out = cfg.out
    lock = [".minigan.lock"] if importlib.util.find_spec("fcntl") else []   # held while fit runs
    assert sorted(os.listdir(out)) == lock + ["checkpoint.npz", "checkpoint_epoch_001.npz",
                                              "config.json", "log.csv", "losses.png",
                                              "metrics.csv", "metrics.png", "progress.gif",
                                              "samples"]
    assert os.listdir(os.path.join(out, "samples")) == ["epoch_001.png"]
    resumed = Trainer.from_checkpoint(os.path.join(out, "checkpoint.npz"))
    resumed.fit(epochs=2, progress=False)
    assert resumed.step == 6 == t.step + 3
    with open(os.path.join(out, "log.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == list(range(6))
    assert list(rows[0]) == ["step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds"]
    from PIL import Image
    assert Image.open(os.path.join(out, "progress.gif")).n_frames == 2
    with open(os.path.join(out, "metrics.csv")) as f:
        scores = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in scores] == [1, 2]
    assert all(float(r["fid"]) > 0 and 1 <= float(r["is_mean"]) <= 10 for r in scores)


def test_nan_guard_names_the_step_and_keeps_the_last_good_checkpoint(tmp_path, backend_name):
    t = Trainer(tiny(tmp_path, backend_name)).fit(epochs=1, progress=False)
    ckpt = os.path.join(t.cfg.out, "checkpoint.npz")
    good = open(ckpt, "rb").read()
    t.G[0].params["W"][...] = float("nan")
    with pytest.raises(TrainingDiverged, match=r"step 3: (d_loss|g_loss|d_fake) is nan; "
                                               r"training stopped, the last good checkpoint is "
                                               r".*checkpoint.npz"):
        t.fit(epochs=2, progress=False)
    assert open(ckpt, "rb").read() == good


def test_checkpoint_of_another_model_is_refused(tmp_path, backend_name):
    t = Trainer(tiny(tmp_path, backend_name))
    t.save_checkpoint(tmp_path / "c.npz")
    other = Trainer(tiny(tmp_path, backend_name, width=8))
    with pytest.raises(checkpoint.CheckpointError, match=r"c.npz: checkpoint has width=4, this "
                                                         r"run has width=8"):
        other.load_checkpoint(tmp_path / "c.npz")


@pytest.mark.parametrize("loss", ["minimax", "least-squares"])
def test_other_objectives_and_label_smoothing_train(tmp_path, backend_name, loss):
    t = Trainer(tiny(tmp_path, backend_name, loss=loss, label_smoothing=0.1))
    m = [t.train_step() for _ in range(3)]
    assert all(np.isfinite(list(x.values())).all() for x in m)


def test_toy_gan_on_the_ring(tmp_path, backend_name):
    cfg = Config(model="toy", dataset="ring", limit=512, batch_size=64, epochs=1, samples=256,
                 out=str(tmp_path / "toy"), backend=backend_name)
    t = Trainer(cfg).fit(progress=False)
    assert backend.to_numpy(t.sample()).shape == (256, 2)
    assert os.path.exists(os.path.join(cfg.out, "samples", "epoch_001.png"))


def test_dropout_setting_builds_d_and_is_checked(tmp_path, backend_name):
    from minigan.layers import Dropout
    plain = Trainer(tiny(tmp_path, backend_name))
    assert not any(isinstance(layer, Dropout) for layer in plain.D)
    tf = Trainer(tiny(tmp_path, backend_name, dropout=0.3))
    assert [layer.p for layer in tf.D if isinstance(layer, Dropout)] == [0.3, 0.3]
    plain.save_checkpoint(tmp_path / "c.npz")
    with pytest.raises(checkpoint.CheckpointError, match=r"checkpoint has dropout=0.0, this run "
                                                         r"has dropout=0.3"):
        tf.load_checkpoint(tmp_path / "c.npz")
    # a run saved before the setting existed had the tutorial's Dropout(0.3)
    assert Config.from_dict({"model": "dcgan"}).dropout == 0.3
    assert Config.from_dict({"model": "dcgan", "loss": "wgan-gp", "gp_weight": 10}).validate(
    ).dropout == 0
    for kw, message in [(dict(dropout=1.0), r"--dropout must be in \[0, 1\), got 1.0"),
                        (dict(model="mlp", dropout=0.3), r"only the dcgan's D has Dropout"),
                        (dict(loss="wgan-gp", dropout=0.3), r"critic must be one fixed function"),
                        (dict(width=0), r"width must be at least 1, got 0")]:
        with pytest.raises(ValueError, match=message):
            tiny(tmp_path, backend_name, **kw).validate()



