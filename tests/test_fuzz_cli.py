"""The command line under random and hostile input: every run either succeeds
or says what was wrong in one line with exit status 2 (no traceback), and no
file of an earlier run ever changes.

Each example trains at most a few steps of the small MLP on 16 bundled
digits, so the module stays fast enough for every test run."""

import hashlib
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigan import data
from minigan.cli import main

BASE = ["train", "--model", "mlp", "--limit", "16", "--batch-size", "16", "--epochs", "1",
        "--eval-every", "0", "--no-progress", "--backend", "numpy"]

numbers = st.sampled_from(["nan", "inf", "-inf", "-1", "0", "0.5", "1", "2", "1e9", "-0.0",
                           "", "x", "1e-300", "3"])
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
               max_size=12)
FLAGS = ["--lr", "--beta1", "--beta2", "--label-smoothing", "--ema", "--seed", "--clip",
         "--gp-weight", "--info-weight", "--dropout", "--pack", "--n-critic", "--codes",
         "--clusters", "--checkpoint-every", "--eval-every", "--limit", "--batch-size",
         "--loss", "--dataset", "--width", "--image-size", "--channels", "--data-dir"]
flag_values = st.lists(st.tuples(st.sampled_from(FLAGS), st.one_of(numbers, text)),
                       max_size=3)


def snapshot(folder):
    out = {}
    for d, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(d, f)
            out[p] = hashlib.md5(open(p, "rb").read()).hexdigest()
    return out


def assert_unchanged(folder, before):
    """Every file that was there is still there, byte for byte (``minigan
    sample`` may add its picture beside a checkpoint)."""
    after = snapshot(folder)
    assert {p: after.get(p) for p in before} == before


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """An earlier run's folder (and its checkpoint), which nothing may change."""
    out = str(tmp_path_factory.mktemp("earlier") / "run")
    assert main(BASE + ["--out", out]) == 0
    return out


def call(argv):
    try:
        return main(argv)
    except SystemExit as e:
        return e.code


def check_outcome(code, err):
    assert code in (0, 2), (code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err


@settings(max_examples=30)
@given(flag_values, st.booleans(), st.integers(0, 10**6))
def test_random_train_flags(earlier, capsys, tmp_path_factory, flags, into_earlier, k):
    before = snapshot(earlier)
    out = earlier if into_earlier else str(tmp_path_factory.mktemp("fuzz") / f"r{k}")
    argv = BASE + ["--out", out]
    for flag, value in flags:
        argv += [flag, value]
    code = call(argv)
    check_outcome(code, capsys.readouterr().err)
    assert_unchanged(earlier, before)


@settings(max_examples=20)
@given(st.sampled_from(["sample", "evaluate", "resume"]), st.binary(max_size=300),
       st.booleans())
def test_random_checkpoint_bytes(earlier, capsys, tmp_path_factory, command, payload, zip_head):
    """Random bytes (some behind a zip header) as a checkpoint."""
    before = snapshot(earlier)
    path = str(tmp_path_factory.mktemp("bytes") / "c.npz")
    with open(path, "wb") as f:
        f.write((b"PK\x03\x04" if zip_head else b"") + payload)
    argv = (["train", "--resume", path] if command == "resume" else [command, path])
    code = call(argv)
    assert code == 2
    check_outcome(code, capsys.readouterr().err)
    assert_unchanged(earlier, before)


@settings(max_examples=20)
@given(st.sampled_from(["sample", "evaluate"]),
       st.lists(st.tuples(st.sampled_from(["--n", "--seed", "--out", "--digit", "--code",
                                            "--cluster", "--backend"]),
                          st.one_of(numbers, text, st.sampled_from(["a.png", "b.npy"]))),
                max_size=3))
def test_random_sample_and_evaluate_flags(earlier, capsys, tmp_path_factory, command, flags):
    before = snapshot(earlier)
    where = tmp_path_factory.mktemp("s")
    argv = [command, os.path.join(earlier, "checkpoint.npz")]
    for flag, value in flags:
        if flag == "--out":
            value = str(where / os.path.basename(value or "x"))
        if flag == "--n" and value.lstrip("-").isdigit() and int(value) > 50:
            value = "50"
        argv += [flag, value]
    if command == "evaluate" and "--n" not in argv:
        argv += ["--n", "20"]
    code = call(argv)
    check_outcome(code, capsys.readouterr().err)
    assert_unchanged(earlier, before)


@settings(max_examples=30)
@given(st.binary(max_size=200), st.booleans())
def test_the_idx_reader_on_random_bytes(tmp_path_factory, payload, gz):
    """Random bytes are an IDX file or an IDXError, nothing else."""
    import gzip
    path = str(tmp_path_factory.mktemp("idx") / ("f.gz" if gz else "f"))
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(payload)
    try:
        a = data.read_idx(path)
    except data.IDXError as e:
        assert path in str(e)
    else:
        assert isinstance(a, np.ndarray)
