"""Helpers the tests share: running the CLI in-process, a tiny trainer, and
comparisons of trainer states and trajectories."""

import numpy as np
import pytest

from minigan import backend
from minigan.cli import main
from minigan.gan import Config, Trainer

from .conftest import host


def run(capsys, *argv):
    """(exit status, stdout, stderr) of ``minigan ARGV`` (argparse's exits included)."""
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err

def tiny(tmp_path, backend_name, **kw):
    """A small DCGAN on 48 bundled digits, batch 16: 3 steps per epoch."""
    base = dict(model="dcgan", clusters=0, width=4, latent_dim=8, limit=48, batch_size=16,
                epochs=2, samples=4, eval_samples=200, out=str(tmp_path / "run"),
                backend=backend_name)
    return Config(**{**base, **kw})


def all_state(trainer):
    arrays, _ = trainer.state()
    return {k: backend.to_numpy(v).copy() for k, v in arrays.items()}


def assert_same_state(a, b):
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)

def trajectories(tmp_path, backends, steps, **kw):
    """``{backend: (state, [metrics per step])}`` of ``steps`` steps of the tiny
    DCGAN from one seed on each backend."""
    out = {}
    for name in backends:
        t = Trainer(tiny(tmp_path, name, **kw))
        metrics = [t.train_step() for _ in range(steps)]
        out[name] = (all_state(t), metrics)
    return out


def assert_same_trajectory(a, b, rtol, atol):
    """Two entries of :func:`trajectories`: weights and logged numbers agree."""
    (sa, ma), (sb, mb) = a, b
    for k in sa:
        if sa[k].dtype.kind == "f":
            np.testing.assert_allclose(sb[k], sa[k], rtol=rtol, atol=atol, err_msg=k)
        else:
            np.testing.assert_array_equal(sb[k], sa[k], err_msg=k)
    for x, y in zip(ma, mb):
        for k in x:
            assert y[k] == pytest.approx(x[k], rel=rtol, abs=atol), k

def train_and_sample_one(capsys, tmp_path, train_flags, flag, value, what):
    """Train a tiny mlp run with ``train_flags``, draw 4 samples with
    ``flag value`` and check them; returns the checkpoint's path."""
    code, _, _ = run(capsys, "train", "--model", "mlp", "--limit", "64", "--batch-size", "32",
                     "--epochs", "1", *train_flags, "--out", str(tmp_path / "run"),
                     "--no-progress", "--eval-every", "0", "--backend", "numpy")
    assert code == 0
    ckpt = str(tmp_path / "run" / "checkpoint.npz")
    code, text, _ = run(capsys, "sample", ckpt, flag, str(value), "--n", "4",
                        "--out", str(tmp_path / "s.npy"))
    assert code == 0 and f"of {what} {value}" in text
    assert np.load(tmp_path / "s.npy").shape == (4, 1, 28, 28)
    return ckpt


def train_toy_on_the_ring(capsys, tmp_path, train_flags):
    """Train the toy GAN for one epoch of 512 ring points with ``train_flags``
    and score it with ``minigan evaluate``. Returns (the trainer loaded from
    its checkpoint, what train printed, what evaluate printed)."""
    ckpt = str(tmp_path / "toy" / "checkpoint.npz")
    code, trained, _ = run(capsys, "train", "--model", "toy", "--dataset", "ring", "--limit",
                           "512", "--epochs", "1", *train_flags, "--out", str(tmp_path / "toy"),
                           "--no-progress", "--backend", "numpy")
    assert code == 0
    code, scored, _ = run(capsys, "evaluate", ckpt, "--n", "400", "--backend", "numpy")
    assert code == 0 and "modes_captured" in scored
    t = Trainer.from_checkpoint(ckpt, log=lambda *a: None)
    assert host(t.sample()).shape == (t.cfg.samples, 2)
    return t, trained, scored
