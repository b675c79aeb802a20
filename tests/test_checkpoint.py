"""Checkpoint files: atomic, no pickle, clear errors."""

import os

import numpy as np
import pytest

from minigan import checkpoint


def test_round_trip_and_nothing_left_behind(tmp_path):
    arrays = {"G.0.W": np.arange(6, dtype=np.float32).reshape(2, 3), "optG.step": np.array(3)}
    checkpoint.save(tmp_path / "c.npz", arrays, {"step": 3, "config": {"model": "dcgan"}})
    got, meta = checkpoint.load(tmp_path / "c.npz")
    assert meta == {"step": 3, "config": {"model": "dcgan"}}
    assert set(got) == set(arrays)
    np.testing.assert_array_equal(got["G.0.W"], arrays["G.0.W"])
    assert os.listdir(tmp_path) == ["c.npz"]


def test_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    checkpoint.save(path, {"a": np.zeros(2)}, {"step": 1})
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, {"a": np.ones(2)}, {"step": 2})
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["c.npz"]


def test_truncated_foreign_and_pickled_files_are_refused(tmp_path):
    path = tmp_path / "c.npz"
    checkpoint.save(path, {"a": np.zeros(1000)}, {"step": 1})
    (tmp_path / "cut.npz").write_bytes(path.read_bytes()[:3000])
    with pytest.raises(checkpoint.CheckpointError, match=r"cut.npz: damaged or truncated"):
        checkpoint.load(tmp_path / "cut.npz")
    np.savez(tmp_path / "foreign.npz", x=np.zeros(3))
    with pytest.raises(checkpoint.CheckpointError, match=r"foreign.npz: not a minigan checkpoint "
                                                         r"\(no format marker\)"):
        checkpoint.load(tmp_path / "foreign.npz")
    np.savez(tmp_path / "evil.npz", __format__=np.array(checkpoint.FORMAT),
             __meta__=np.array("{}"), obj=np.array([{"a": 1}], dtype=object))
    with pytest.raises(checkpoint.CheckpointError, match="evil.npz"):
        checkpoint.load(tmp_path / "evil.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(checkpoint.CheckpointError, match=r"text.npz: .*not an .npz file"):
        checkpoint.load(tmp_path / "text.npz")
    np.savez(tmp_path / "future.npz", __format__=np.array("minigan-checkpoint/9"),
             __meta__=np.array("{}"))
    with pytest.raises(checkpoint.CheckpointError, match=r"format 'minigan-checkpoint/9'"):
        checkpoint.load(tmp_path / "future.npz")


def test_saved_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        checkpoint.save(tmp_path / "c.npz", {"a": np.zeros(2)}, {})
    finally:
        os.umask(old)
    assert (os.stat(tmp_path / "c.npz").st_mode & 0o777) == 0o644
