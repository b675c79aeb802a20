"""Nothing lost, nothing silent: run folders, resume, checked flags and files."""

import hashlib
import os
import sys

import numpy as np
import pytest

from minigan import checkpoint
from minigan.gan import run_files
from minigan.gan import trainer as trainer_module
from minigan.gan.config import Config
from minigan.gan.trainer import Trainer

from .helpers import run

MLP = ("--model", "mlp", "--limit", "32", "--batch-size", "16", "--no-progress", "--backend",
       "numpy", "--eval-every", "0")


def snapshot(folder):
    """{relative path: md5} of every file under ``folder``."""
    out = {}
    for d, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, folder)] = hashlib.md5(open(p, "rb").read()).hexdigest()
    return out


@pytest.fixture(scope="module")
def done_run(tmp_path_factory):
    """A finished 1-epoch mlp run (2 steps) and its folder."""
    out = str(tmp_path_factory.mktemp("done") / "run")
    code = run_quiet("train", *MLP, "--epochs", "1", "--out", out)
    assert code == 0
    return out


def run_quiet(*argv):
    from minigan.cli import main
    try:
        return main(list(argv))
    except SystemExit as e:
        return e.code


def one_line_error(capsys, *argv):
    code, _, err = run(capsys, *argv)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_a_second_run_into_the_same_folder_is_refused(done_run, capsys):
    before = snapshot(done_run)
    err = one_line_error(capsys, "train", *MLP, "--epochs", "1", "--out", done_run)
    assert f"{done_run} already holds a run" in err
    assert "--resume" in err and "--out" in err and "--overwrite" in err
    assert snapshot(done_run) == before


def test_overwrite_clears_the_old_run_first(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert run(capsys, "train", *MLP, "--epochs", "2", "--out", out)[0] == 0
    mine = os.path.join(out, "notes.txt")
    open(mine, "w").write("mine")
    assert os.path.exists(os.path.join(out, "samples", "epoch_002.png"))
    code, _, _ = run(capsys, "train", *MLP, "--epochs", "1", "--out", out, "--overwrite")
    assert code == 0
    assert sorted(os.listdir(os.path.join(out, "samples"))) == ["epoch_001.png"]
    assert open(mine).read() == "mine"                  # not a file minigan wrote


def test_a_folder_another_process_trains_into_now_is_refused(tmp_path, capsys):
    """Two trainers writing one folder at once would interleave their logs,
    metrics and checkpoints: while the folder's lock is held (as a training
    process holds it), a second run, fresh or resumed, stops with one line
    naming the holder and changes nothing; once it is free, the run goes on."""
    pytest.importorskip("fcntl")
    out = str(tmp_path / "run")
    assert run(capsys, "train", *MLP, "--epochs", "1", "--out", out)[0] == 0
    ckpt = os.path.join(out, "checkpoint.npz")
    held = run_files.lock_folder(out)
    try:
        before = snapshot(out)
        for argv in (("--resume", ckpt, "--epochs", "2", "--no-progress"),
                     (*MLP, "--epochs", "1", "--out", out, "--overwrite")):
            err = one_line_error(capsys, "train", *argv)
            assert f"{out} is in use" in err and f"(pid {os.getpid()})" in err, err
        with pytest.raises(run_files.RunInUse, match="is in use"):
            Trainer.from_checkpoint(ckpt, log=lambda *a: None).fit(2, progress=False)
        assert snapshot(out) == before
    finally:
        held.close()
    assert run(capsys, "train", "--resume", ckpt, "--epochs", "2", "--no-progress")[0] == 0
    assert checkpoint.load(ckpt)[1]["epoch"] == 2


def test_the_library_refuses_too(done_run):
    cfg = Config(model="mlp", limit=32, batch_size=16, epochs=1, out=done_run,
                                backend="numpy", eval_every=0)
    with pytest.raises(run_files.RunExists, match="already holds a run"):
        Trainer(cfg).fit(progress=False)


@pytest.mark.parametrize("flag,value,saved", [
    ("--model", "dcgan", "'mlp'"), ("--lr", "0.001", "0.0002"), ("--loss", "hinge",
                                                                "'non-saturating'"),
    ("--batch-size", "8", "16"), ("--seed", "3", "0"), ("--spectral-norm", None, "False"),
    ("--sn-per-piece", None, "False"),
])
def test_resume_refuses_a_flag_that_contradicts_the_checkpoint(done_run, capsys, flag, value,
                                                               saved):
    before = snapshot(done_run)
    ckpt = os.path.join(done_run, "checkpoint.npz")
    argv = ["train", "--resume", ckpt, "--epochs", "2", flag] + ([value] if value else [])
    err = one_line_error(capsys, *argv)
    assert f"contradicts the checkpoint {ckpt}" in err and saved in err
    assert snapshot(done_run) == before


def test_resume_accepts_flags_equal_to_the_checkpoint_and_the_changeable_ones(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert run(capsys, "train", *MLP, "--epochs", "1", "--out", out)[0] == 0
    code, text, _ = run(capsys, "train", "--resume", os.path.join(out, "checkpoint.npz"),
                        "--epochs", "2", "--model", "mlp", "--lr", "0.0002", "--backend",
                        "numba", "--no-progress")
    assert code == 0 and "at step 2" in text


def test_resume_past_the_end_changes_nothing(done_run, capsys):
    before = snapshot(done_run)
    code, text, _ = run(capsys, "train", "--resume", os.path.join(done_run, "checkpoint.npz"),
                        "--epochs", "1")
    assert code == 0 and "already at epoch 1" in text and "nothing to train" in text
    assert snapshot(done_run) == before


def test_a_checkpoint_with_nan_weights_is_refused_by_name(done_run, tmp_path, capsys):
    arrays, meta = checkpoint.load(os.path.join(done_run, "checkpoint.npz"))
    arrays["G.2.W"] = arrays["G.2.W"].copy()
    arrays["G.2.W"][0, 0] = np.nan
    bad = str(tmp_path / "bad.npz")
    checkpoint.save(bad, arrays, meta)
    for argv in (["sample", bad], ["evaluate", bad, "--n", "10"],
                 ["train", "--resume", bad, "--epochs", "3"]):
        err = one_line_error(capsys, *argv)
        assert bad in err and "'G.2.W'" in err and "non-finite" in err


@pytest.mark.parametrize("flag,value,message", [
    ("--lr", "nan", "--lr must be a finite number, got nan"),
    ("--lr", "inf", "--lr must be a finite number, got inf"),
    ("--gp-weight", "nan", "--gp-weight must be a finite number"),
    ("--info-weight", "inf", "--info-weight must be a finite number"),
    ("--beta1", "1.5", "--beta1 must be in [0, 1)"),
    ("--limit", "0", "--limit must be at least 1, got 0"),
    ("--limit", "-5", "--limit must be at least 1, got -5"),
    ("--seed", "-1", "--seed must be at least 0, got -1"),
    ("--checkpoint-every", "-1", "--checkpoint-every must be at least 0"),
    ("--eval-every", "-1", "--eval-every must be at least 0"),
])
def test_bad_numbers_are_refused_before_anything_is_written(tmp_path, capsys, flag, value,
                                                            message):
    out = tmp_path / "run"
    err = one_line_error(capsys, "train", *MLP, "--out", str(out), flag, value)
    assert message in err
    assert not out.exists()


@pytest.mark.parametrize("argv,message", [
    (["sample", "CKPT", "--out", "x.txt"], "--out x.txt: expected a .png"),
    (["sample", "CKPT", "--n", "0"], "--n must be at least 1, got 0"),
    (["evaluate", "CKPT", "--n", "0"], "--n must be at least 2"),
    (["evaluate", "CKPT", "--n", "1"], "--n must be at least 2"),
])
def test_sample_and_evaluate_check_their_flags(done_run, capsys, argv, message):
    ckpt = os.path.join(done_run, "checkpoint.npz")
    err = one_line_error(capsys, *[ckpt if a == "CKPT" else a for a in argv])
    assert message in err


def test_a_bad_backend_variable_is_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("MINIGAN_BACKEND", "garbage")
    code, text, _ = run(capsys, "--help")
    assert code == 0 and "train" in text
    err = one_line_error(capsys, "train", *MLP[:-4], "--out", str(tmp_path / "r"))
    assert "MINIGAN_BACKEND='garbage' is not a backend" in err


def test_the_cupy_backend_without_a_gpu_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("MINIGAN_FAKE_CUPY", raising=False)      # no stand-in: the real thing
    monkeypatch.setitem(sys.modules, "cupy", None)              # and no CuPy installed
    err = one_line_error(capsys, "train", *MLP[:-3], "cupy", "--eval-every", "0", "--out",
                         str(tmp_path / "r"))
    assert "cupy" in err and not (tmp_path / "r").exists()


def test_a_clustered_run_samples_and_evaluates_without_its_training_data(tmp_path, capsys,
                                                                        monkeypatch):
    out = str(tmp_path / "run")
    code, _, _ = run(capsys, "train", "--model", "dcgan", "--width", "4", "--limit", "32",
                     "--batch-size", "16", "--epochs", "1", "--clusters", "3", "--eval-every",
                     "0", "--no-progress", "--out", out)
    assert code == 0

    def no_data(*a, **k):
        raise AssertionError("sampling must not read the training data")

    monkeypatch.setattr(trainer_module, "load_training_data", no_data)
    monkeypatch.setattr(trainer_module.data, "kmeans", no_data)
    ckpt = os.path.join(out, "checkpoint.npz")
    code, text, err = run(capsys, "sample", ckpt, "--n", "6", "--out", str(tmp_path / "s.npy"))
    assert code == 0, err
    assert np.load(tmp_path / "s.npy").shape == (6, 1, 28, 28)
    code, text, err = run(capsys, "evaluate", ckpt, "--n", "20")
    assert code == 0 and "cluster" in text, err


def test_the_log_has_a_row_on_disk_for_every_step(tmp_path, monkeypatch):
    cfg = Config(model="mlp", limit=48, batch_size=16, epochs=1,
                                out=str(tmp_path / "run"), backend="numpy", eval_every=0)
    t = Trainer(cfg)
    seen = []
    step = t.train_step

    def watched():
        path = t.paths()["log"]
        seen.append(sum(1 for _ in open(path)) - 1 if os.path.exists(path) else None)
        return step()

    monkeypatch.setattr(t, "train_step", watched)
    t.fit(progress=False)
    assert seen == [0, 1, 2]


def test_ctrl_c_says_how_to_resume(tmp_path, capsys, monkeypatch):
    out = str(tmp_path / "run")
    real_step = Trainer.train_step

    def interrupted(self):
        if self.step == 3:          # after the first epoch's checkpoint
            raise KeyboardInterrupt
        return real_step(self)

    monkeypatch.setattr(Trainer, "train_step", interrupted)
    code, _, err = run(capsys, "train", *MLP, "--epochs", "3", "--out", out)
    assert code == 130
    assert f"minigan train --resume {os.path.join(out, 'checkpoint.npz')}" in err


def test_the_compile_notice_depends_on_the_cache(tmp_path, monkeypatch):
    from minigan import cli
    from minigan.kernels import numba_cpu
    cache = numba_cpu._im2col.parallel._cache
    monkeypatch.setattr(cache, "_cache_path", str(tmp_path))
    assert cli._numba_cache_is_cold("numba")
    (tmp_path / "numba_cpu._im2col-1.py311.nbi").write_bytes(b"")
    assert not cli._numba_cache_is_cold("numba")
    assert not cli._numba_cache_is_cold("numpy")


def test_fashion_mnist_is_an_alias_and_a_file_is_not_a_folder(tmp_path, capsys):
    f = tmp_path / "file.gz"
    f.write_bytes(b"x")
    err = one_line_error(capsys, "train", "--dataset", "fashion-mnist", "--data-dir", str(f),
                         "--out", str(tmp_path / "r"))
    assert f"--data-dir {f} is a file" in err
    err = one_line_error(capsys, "train", "--dataset", "folder", "--data-dir", str(f),
                         "--out", str(tmp_path / "r"))
    assert f"--data-dir {f} is a file" in err


def test_evaluate_warns_that_the_confident_share_rewards_collapse(done_run, capsys,
                                                                 monkeypatch):
    from minigan.metrics import evaluate
    collapsed = {"fid": 300.0, "is_mean": 1.0, "is_std": 0.0, "classes_covered": 1,
                 "kl_uniform": 2.3, "confident_share": 1.0}
    monkeypatch.setattr(evaluate.Evaluator, "score", lambda self, *a: dict(collapsed))
    code, text, _ = run(capsys, "evaluate", os.path.join(done_run, "checkpoint.npz"), "--n",
                        "50")
    assert code == 0 and "only 1 of 10 classes are covered" in text


def test_the_stand_in_without_a_compiler_is_one_line(capsys, tmp_path, monkeypatch):
    from minigan.kernels import cuda_host
    monkeypatch.setenv("MINIGAN_FAKE_CUPY", "1")
    monkeypatch.setenv("CXX", "no-such-compiler")
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(cuda_host.CompilerMissing):
        cuda_host.compiler()
    err = one_line_error(capsys, "train", *MLP[:-3], "cupy", "--eval-every", "0", "--out",
                         str(tmp_path / "r"))
    assert "no-such-compiler was not found" in err and not (tmp_path / "r").exists()
