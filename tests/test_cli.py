"""The minigan command: training, sampling, and one-line errors."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from .helpers import run


def test_train_then_sample(tmp_path, capsys):
    out = str(tmp_path / "run")
    code, text, _ = run(capsys, "train", "--model", "mlp", "--limit", "64", "--batch-size", "32",
                        "--epochs", "1", "--out", out, "--no-progress", "--backend", "numpy")
    assert code == 0 and "training mlp on mnist (64 samples" in text
    # the wall time comes with the machine's matmul speed, so times can be compared
    speed = re.search(r"done in \d+ s \(this CPU's float32 matmul: (\d+) GFLOP/s\)", text)
    assert speed and int(speed.group(1)) > 0, text
    ckpt = os.path.join(out, "checkpoint.npz")
    code, text, _ = run(capsys, "sample", ckpt, "--n", "5", "--out", str(tmp_path / "s.npy"))
    assert code == 0
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (5, 1, 28, 28) and np.abs(samples).max() <= 1
    code, _, _ = run(capsys, "sample", ckpt, "--out", str(tmp_path / "grid.png"))
    assert code == 0 and os.path.getsize(tmp_path / "grid.png") > 0
    # without --out, a picture beside the checkpoint that never replaces an earlier one
    pictures = []
    for seed in ("1", "2", "1"):
        code, text, _ = run(capsys, "sample", ckpt, "--n", "4", "--seed", seed)
        pictures.append(text.strip().split(" to ")[-1])
        assert code == 0 and os.path.exists(pictures[-1])
    assert [os.path.basename(p) for p in pictures] == [
        "checkpoint_samples.png", "checkpoint_samples_2.png", "checkpoint_samples_3.png"]
    first, second, third = (open(p, "rb").read() for p in pictures)
    assert first == third != second      # the first is still seed 1's picture
    code, text, _ = run(capsys, "train", "--resume", ckpt, "--epochs", "2", "--no-progress")
    assert code == 0 and "resumed" in text and "at step 2" in text
    # a moved run resumes in its new folder and leaves the old one alone
    moved = tmp_path / "moved"
    os.rename(out, moved)
    os.makedirs(out)
    code, text, _ = run(capsys, "train", "--resume", str(moved / "checkpoint.npz"), "--epochs",
                        "3", "--no-progress")
    assert code == 0 and "at step 4" in text and os.listdir(out) == []
    with open(moved / "log.csv") as f:
        assert [int(row.split(",")[0]) for row in f.readlines()[1:]] == list(range(6))


@pytest.mark.parametrize("argv,message", [
    (["train", "--dataset", "cifar"], "argument --dataset: invalid choice: 'cifar'"),
    (["train", "--epochs", "many"], "argument --epochs: invalid int value: 'many'"),
    (["train", "--model", "toy", "--dataset", "mnist"], "model 'toy' does not fit dataset"),
    (["train", "--dataset", "folder"], "dataset 'folder' needs --data-dir PATH"),
    (["train", "--dataset", "folder", "--data-dir", "/nonexistent"],
     "image folder /nonexistent does not exist"),
    (["sample", "/nonexistent/c.npz"], "checkpoint /nonexistent/c.npz does not exist"),
    (["train", "--resume", "/nonexistent/c.npz"], "checkpoint /nonexistent/c.npz does not exist"),
    (["train", "--label-smoothing", "0.7"], "--label-smoothing must be in [0, 0.5), got 0.7"),
    (["train", "--dropout", "1.5"], "--dropout must be in [0, 1), got 1.5"),
    (["train", "--model", "mlp", "--dropout", "0.3"], "only the dcgan's D has Dropout layers"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["train", "--real-packs", "random"], "argument --real-packs: invalid choice: 'random'"),
])
def test_errors_are_one_line_and_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "minigan", "--help"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "train" in out.stdout and "sample" in out.stdout
