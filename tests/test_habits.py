"""The tutorials' habits: noisy and flipped labels, instance noise, TensorBoard."""

import glob
import os
import struct

import numpy as np
import pytest

import minigan as mg
from minigan import gradcheck
from minigan.gan import Config, Trainer, objectives
from minigan.gan.step import _noisy

from .helpers import run
from .helpers import all_state, assert_same_state


def cfg(tmp_path, **kw):
    base = dict(model="mlp", limit=64, batch_size=32, epochs=2, samples=4, eval_every=0,
                out=str(tmp_path / "run"), backend="numpy")
    return Config(**{**base, **kw})


def test_noisy_targets_have_the_stated_form(tmp_path):
    t = Trainer(cfg(tmp_path, label_noise=0.2, label_smoothing=0.1, batch_size=64))
    real, fake = (np.asarray(a) for a in t.random.targets(step=3, k=0))
    assert real.shape == fake.shape == (64, 1)
    assert (real >= 0.7).all() and (real <= 0.9).all() and real.std() > 0.03   # 1 - s - A*u
    assert (fake >= 0).all() and (fake <= 0.2).all() and fake.std() > 0.03     # A*v
    again = Trainer(cfg(tmp_path, label_noise=0.2, label_smoothing=0.1, batch_size=64))
    np.testing.assert_array_equal(np.asarray(again.random.targets(3, 0)[0]), real)   # seed and step
    assert not np.array_equal(np.asarray(again.random.targets(4, 0)[0]), real)
    assert Trainer(cfg(tmp_path)).random.targets(3, 0) is None                      # off: no arrays


def test_flipped_targets_swap_a_share_of_them(tmp_path):
    t = Trainer(cfg(tmp_path, label_flip=0.25, batch_size=64))
    flipped = []
    for step in range(40):
        real, fake = (np.asarray(a)[:, 0] for a in t.random.targets(step, 0))
        assert set(np.unique(real)) <= {0.0, 1.0} and set(np.unique(fake)) <= {0.0, 1.0}
        flipped += [(real == 0).mean(), (fake == 1).mean()]
    assert np.mean(flipped) == pytest.approx(0.25, abs=0.03)       # 5,120 draws: sd 0.006


def test_packed_targets_are_one_per_d_output(tmp_path):
    t = Trainer(cfg(tmp_path, label_noise=0.1, pack=2))
    assert np.asarray(t.random.targets(0, 0)[0]).shape == (16, 1)


@pytest.mark.parametrize("which", ["real", "fake"])
def test_the_bce_gradient_with_array_targets_is_right(which, rng):
    """Noisy targets change D's loss gradient: checked against central differences."""
    x = rng.standard_normal((6, 1)) * 2
    targets = rng.uniform(0, 1, (6, 1))
    loss = (lambda a: objectives.d_real_loss("non-saturating", a, targets)) if which == "real" \
        else (lambda a: objectives.d_fake_loss("non-saturating", a, targets))
    assert gradcheck.check_loss(loss, x)["x"] < 1e-8


@pytest.mark.parametrize("bad,message", [
    (dict(label_noise=0.1, loss="hinge"), "--loss hinge has none"),
    (dict(label_flip=0.1, loss="wgan"), "--loss wgan has none"),
    (dict(label_noise=0.7), r"--label-noise must be in \[0, 0.5\]"),
    (dict(label_flip=0.5), r"--label-flip must be in \[0, 0.5\)"),
    (dict(instance_noise=-1.0), "--instance-noise must be at least 0"),
    (dict(instance_noise=0.1, loss="wgan-gp"), "--instance-noise with a gradient penalty"),
])
def test_bad_habits_are_clear_errors(tmp_path, bad, message):
    with pytest.raises(ValueError, match=message):
        cfg(tmp_path, **bad).validate()


def test_instance_noise_is_annealed_linearly_to_zero(tmp_path):
    t = Trainer(cfg(tmp_path, instance_noise=0.4))        # 2 epochs of 2 steps
    sigmas = [t.random.instance_sigma(s) for s in range(5)]
    assert sigmas == pytest.approx([0.4, 0.3, 0.2, 0.1, 0.0])
    assert t.random.instance_noise(4, 0, np.zeros((2, 3), np.float32)) is None
    n_real, n_fake = t.random.instance_noise(1, 0, np.zeros((500, 4), np.float32))
    assert np.std(n_real) == pytest.approx(0.3, rel=0.1) and not np.array_equal(n_real, n_fake)


def test_instance_noise_leaves_d_input_gradient_unchanged(rng):
    """G's gradient through D is D's input gradient at the noisy point: the
    addition of noise has the identity as its derivative. Checked against
    central differences of loss(D(fake + n)) in ``fake``."""
    D = mg.Sequential(mg.Dense(3, 8, rng=0, dtype=np.float64), mg.Tanh(),
                      mg.Dense(8, 1, rng=1, dtype=np.float64))
    fake, n = rng.standard_normal((5, 3)), 0.3 * rng.standard_normal((5, 3))
    out = D.forward(_noisy(fake, n))
    _, dl = objectives.g_loss("non-saturating", out)
    analytic = D.backward(dl, param_grads=False)
    numeric = gradcheck.numerical_gradient(
        lambda: objectives.g_loss("non-saturating", D.forward(_noisy(fake, n)))[0], fake)
    assert gradcheck.rel_error(analytic, numeric) < 1e-8


def test_habits_train_repeat_and_resume_bit_for_bit(tmp_path):
    kw = dict(label_noise=0.1, label_flip=0.05, instance_noise=0.2, epochs=3)
    straight = Trainer(cfg(tmp_path, **kw))
    for _ in range(5):
        straight.train_step()
    first = Trainer(cfg(tmp_path, **kw))
    for _ in range(2):
        first.train_step()
    first.save_checkpoint(tmp_path / "k.npz")
    resumed = Trainer(cfg(tmp_path, **kw))
    resumed.load_checkpoint(tmp_path / "k.npz")
    for _ in range(3):
        resumed.train_step()
    assert_same_state(all_state(straight), all_state(resumed))
    plain = Trainer(cfg(tmp_path, epochs=3))
    for _ in range(5):
        plain.train_step()
    assert not np.array_equal(all_state(plain)["D.1.W"], all_state(straight)["D.1.W"])


def test_the_flags_are_in_the_help(capsys):
    code, text, _ = run(capsys, "train", "--help")
    for flag in ("--label-noise", "--label-flip", "--instance-noise", "--tensorboard"):
        assert flag in text


# ------------------------------------------------------------- TensorBoard

def read_events(path):
    """The events of one TensorBoard file: TFRecord framing (length, its CRC,
    the data, its CRC), each record an ``Event`` protobuf."""
    from tensorboardX.proto import event_pb2
    events = []
    with open(path, "rb") as f:
        while True:
            head = f.read(12)
            if not head:
                return events
            (length,) = struct.unpack("<Q", head[:8])
            data = f.read(length)
            f.read(4)
            event = event_pb2.Event()
            event.ParseFromString(data)
            events.append(event)


def test_tensorboard_logs_losses_scores_and_samples(tmp_path, capsys):
    pytest.importorskip("tensorboardX", reason="tensorboardX is not installed: pip install "
                                               "'minigan[tensorboard]' to test the logs")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--model", "mlp", "--limit", "32", "--batch-size", "16",
                       "--epochs", "1", "--no-progress", "--backend", "numpy", "--tensorboard",
                       "--out", str(out))
    assert code == 0, err
    files = glob.glob(str(out / "tb" / "events.out.tfevents.*"))
    assert len(files) == 1
    scalars, images = {}, set()
    for e in read_events(files[0]):
        for v in e.summary.value:
            if v.HasField("image"):
                images.add(v.tag)
                assert v.image.height > 28 and v.image.encoded_image_string[:4] == b"\x89PNG"
            else:
                scalars.setdefault(v.tag, []).append((e.step, v.simple_value))
    for tag in ("loss/D", "loss/G", "D_output/real", "D_output/fake"):
        assert [s for s, _ in scalars[tag]] == [0, 1]
    with open(out / "log.csv") as f:
        rows = f.read().splitlines()[1:]
    assert scalars["loss/D"][0][1] == pytest.approx(float(rows[0].split(",")[2]), rel=1e-5)
    assert "scores/fid" in scalars and "samples" in images


def test_tensorboard_without_tensorboardx_is_one_line(tmp_path, capsys, monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorboardX" else real(name, *a))
    code, _, err = run(capsys, "train", "--model", "mlp", "--tensorboard", "--out",
                       str(tmp_path / "r"))
    assert code == 2 and "pip install 'minigan[tensorboard]'" in err
    assert len(err.strip().splitlines()) == 1 and not os.path.exists(tmp_path / "r")
