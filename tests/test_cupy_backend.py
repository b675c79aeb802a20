"""The cupy backend end to end. Without a GPU it runs through the stand-in
for CuPy (its CUDA kernels in the host harness), which also counts the
transfers between host and device; with a GPU the same tests run on it
(except the transfer count, which only the stand-in can see)."""

import numpy as np
import pytest

import minigan as mg
from minigan import backend, gan

from .helpers import assert_same_trajectory, tiny, trajectories


@pytest.fixture
def cupy_backend():
    try:
        with backend.use_backend("cupy"):
            import cupy
            yield cupy
    except RuntimeError as e:
        pytest.skip(f"backend cupy cannot run here: {e}")


def test_five_cupy_steps_equal_five_numpy_steps(tmp_path, cupy_backend):
    """The clustered default model (Dropout in D, BatchNorm in G) from one
    seed: the same trajectory on the GPU path as on the reference, since
    every backend draws the same Dropout masks."""
    runs = trajectories(tmp_path, ("numpy", "cupy"), 5, dropout=0.3, clusters=3, ema=0.9)
    assert_same_trajectory(runs["numpy"], runs["cupy"], rtol=1e-4, atol=1e-5)


def test_a_training_step_makes_only_the_documented_transfers(tmp_path, cupy_backend):
    """Per step: the batch, the noise and (clustered) the batch's clusters go
    to the device; the step's logged numbers come back in one transfer.
    Nothing else crosses: Dropout draws its masks on the device, and the
    losses stay there until that one fetch."""
    from minigan.kernels import fake_cupy
    if cupy_backend is not fake_cupy:
        pytest.skip("only the stand-in for CuPy counts transfers")
    for kw, to_device in ((dict(dropout=0.3), 2), (dict(dropout=0.3, clusters=3), 3),
                          (dict(model="mlp", loss="hinge", spectral_norm=True), 2)):
        t = gan.Trainer(tiny(tmp_path, "cupy", ema=0.9, **kw))
        t.train_step()                                    # warm-up: parameters moved once
        fake_cupy.reset_transfers()
        t.train_step()
        assert fake_cupy.transfers == {"to_device": to_device, "to_host": 1}, kw


def test_a_numpy_array_into_a_cupy_layer_is_a_type_error(cupy_backend):
    layer = mg.Dense(3, 2, rng=0)
    with pytest.raises(TypeError, match=r"Dense\(3 -> 2\): expected a cupy array"):
        layer.forward(np.zeros((2, 3), np.float32))


def test_the_stand_in_refuses_a_numpy_array_in_a_device_computation(cupy_backend):
    from minigan.kernels import fake_cupy
    if cupy_backend is not fake_cupy:
        pytest.skip("a real GPU raises its own error")
    a = cupy_backend.asarray(np.ones(3, np.float32))
    with pytest.raises(TypeError, match="a NumPy array .* was mixed into a device computation"):
        a + np.ones(3, np.float32)
    with pytest.raises(TypeError, match="mixed into a device computation"):
        cupy_backend.concatenate([a, np.ones(3, np.float32)])
    fake_cupy.reset_transfers()
    float(a.sum())
    assert fake_cupy.transfers["to_host"] == 1
