"""The contract GAN training stands on: backward accumulates and never
changes a weight; param_grads=False leaves gradients untouched."""

import numpy as np
import pytest

import minigan as mg

from .conftest import arr, host

pytestmark = pytest.mark.usefixtures("backend_name")


def small_discriminator(seed=0, dtype=np.float64):
    return mg.Sequential(
        mg.Conv2D(1, 4, 3, stride=2, padding=1, rng=seed, dtype=dtype), mg.LeakyReLU(0.2),
        mg.Dropout(0.3, rng=seed), mg.Flatten(), mg.Dense(4 * 4 * 4, 8, rng=seed + 1,
                                                          dtype=dtype),
        mg.BatchNorm(8, dtype=dtype), mg.LeakyReLU(0.2), mg.Dense(8, 1, rng=seed + 2,
                                                                  dtype=dtype))


def snapshot(net):
    return {k: host(v).copy() for k, v in net.state_dict().items()}


def grads_of(net):
    return {n: host(g).copy() for n, _, g in net.parameters()}


def test_backward_never_changes_a_weight_and_accumulates(rng):
    D = small_discriminator()
    x = arr(rng.standard_normal((5, 1, 8, 8)))
    dy = arr(rng.standard_normal((5, 1)))
    state = snapshot(D)
    before = {k: v for k, v in state.items() if "seed_counter" not in k}
    D.forward(x)
    D.backward(dy)
    once = grads_of(D)
    after = {k: v for k, v in snapshot(D).items() if "seed_counter" not in k}
    for k in before:
        if "running" not in k:            # BatchNorm buffers do move in forward
            np.testing.assert_array_equal(before[k], after[k])
    assert any(np.abs(g).sum() > 0 for g in once.values())

    D.load_state_dict(state)              # replay the same forward (same mask)
    D.forward(x)
    D.backward(dy)
    for n, g in grads_of(D).items():
        np.testing.assert_allclose(g, 2 * once[n], rtol=1e-12, atol=1e-15)
    D.zero_grad()
    assert all(not g.any() for g in grads_of(D).values())


def test_frozen_backward_gives_the_same_input_gradient_and_touches_nothing(rng):
    D = small_discriminator()
    x = arr(rng.standard_normal((5, 1, 8, 8)))
    dy = arr(rng.standard_normal((5, 1)))
    state = snapshot(D)
    D.forward(x)
    dx_full = host(D.backward(dy))
    D.zero_grad()
    D.load_state_dict(state)
    D.forward(x)
    dx_frozen = host(D.backward(dy, param_grads=False))
    np.testing.assert_allclose(dx_frozen, dx_full, rtol=1e-12)
    assert all(not g.any() for g in grads_of(D).values())


def test_input_grad_false_returns_none_and_still_fills_grads(rng):
    D = small_discriminator()
    D.forward(arr(rng.standard_normal((5, 1, 8, 8))))
    assert D.backward(arr(rng.standard_normal((5, 1))), input_grad=False) is None
    assert any(g.any() for g in grads_of(D).values())


def test_state_dict_round_trip_between_networks(rng):
    a, b = small_discriminator(0), small_discriminator(10)
    a.eval(), b.eval()
    x = arr(rng.standard_normal((3, 1, 8, 8)))
    assert not np.allclose(host(a.forward(x)), host(b.forward(x)))
    b.load_state_dict(snapshot(a))
    np.testing.assert_array_equal(host(a.forward(x)), host(b.forward(x)))
    assert sorted(a.state_dict())[:3] == ["0.W", "0.b", "2.seed_counter"]


def test_float32_end_to_end(rng):
    D = small_discriminator(dtype=np.float32)
    y = D.forward(arr(rng.standard_normal((5, 1, 8, 8)), dtype=np.float32))
    loss, dy = mg.bce_with_logits(y, 1.0)
    dx = D.backward(dy)
    assert y.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for _, _, g in D.parameters())


def test_dropout_state_saved_by_an_older_minigan_still_loads():
    """Older minigan saved Dropout's NumPy Generator state as ``rng_state``
    (the shipped evaluator's weights have one): it loads, with a seed derived
    from it and the counter at 0."""
    import json
    net = mg.Sequential(mg.Dense(3, 2, rng=0), mg.Dropout(0.5, rng=0))
    text = json.dumps(np.random.default_rng(5).bit_generator.state).encode()
    state = {"0.W": net[0].params["W"].copy(), "0.b": net[0].params["b"].copy(),
             "1.rng_state": np.frombuffer(text, dtype=np.uint8)}
    net.load_state_dict(state)
    assert net[1].counter == 0 and 0 <= net[1].seed < 2 ** 64
    again = mg.Sequential(mg.Dense(3, 2, rng=1), mg.Dropout(0.5, rng=1))
    again.load_state_dict(state)
    assert again[1].seed == net[1].seed


def _one_forward_cases():
    """Every layer case of the gradient-check table in training mode, and a
    spectral-normalized Dense in training mode (its power iteration)."""
    from minigan import gradcheck
    cases = [(layer.train(), x) for layer, x in gradcheck.layer_cases()]
    x = cases[0][1]
    cases.append((mg.spectral_norm(mg.Dense(6, 5, rng=1, dtype=np.float64), rng=1), x))
    return cases


@pytest.mark.parametrize("case", range(len(_one_forward_cases())))
def test_two_backward_passes_from_one_forward_pass_repeat_two_pairs(case, rng):
    """``pending``/``resume``: a backward pass dropping nothing that the next
    one reads. One forward pass, backward with dy1, resume, backward with dy2
    (frozen) gives exactly what two forward/backward pairs give on copies of
    the layer in the same state."""
    import copy
    layer, x = _one_forward_cases()[case]
    twins = [copy.deepcopy(layer) for _ in range(3)]
    y = twins[0].forward(x)
    dy1, dy2 = (arr(rng.standard_normal(y.shape)) for _ in range(2))
    pending = twins[0].pending()
    dx1 = twins[0].backward(dy1)
    twins[0].resume(pending)
    dx2 = twins[0].backward(dy2, param_grads=False)
    twins[1].forward(x)
    np.testing.assert_array_equal(host(dx1), host(twins[1].backward(dy1)))
    assert grads_of(twins[0]).keys() == grads_of(twins[1]).keys()
    for name, g in grads_of(twins[1]).items():
        np.testing.assert_array_equal(grads_of(twins[0])[name], g, err_msg=name)
    twins[2].forward(x)
    np.testing.assert_array_equal(host(dx2), host(twins[2].backward(dy2, param_grads=False)))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        twins[0].backward(dy2)             # resumed once: that pass is spent again


@pytest.mark.parametrize("case", range(len(_one_forward_cases())))
def test_a_forward_pass_said_to_change_no_state_repeats_exactly(case):
    """Where ``forward_changes_state()`` is False, a second forward pass gives
    the same output bit for bit and the state (weights, buffers, counters) is
    as before the first; where it is True, the state does change."""
    layer, x = _one_forward_cases()[case]
    before = snapshot(layer)
    y = host(layer.forward(x)).copy()
    if layer.forward_changes_state():
        changed = any(not np.array_equal(v, before[k]) for k, v in snapshot(layer).items())
        assert changed, f"{layer!r} says its forward pass changes state; it did not"
    else:
        np.testing.assert_array_equal(host(layer.forward(x)), y)
        for k, v in snapshot(layer).items():
            np.testing.assert_array_equal(v, before[k], err_msg=k)
    assert not layer.eval().forward_changes_state()
