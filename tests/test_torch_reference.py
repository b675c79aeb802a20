"""Optional: minigan against PyTorch with the same weights (skipped when
PyTorch is not installed; it is never needed to use or test minigan).

Confirms the claim that weights copy across unchanged, and that
forward and backward agree with a framework's."""

import numpy as np
import pytest

import minigan as mg

from .conftest import arr, host

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed: these optional comparisons need it "
                    "(pip install torch, a CPU build is enough)")
pytestmark = pytest.mark.usefixtures("backend_name")


def run_both(layer, tlayer, x, copy):
    with torch.no_grad():
        for ours, theirs in copy:
            getattr(tlayer, theirs).copy_(torch.from_numpy(host(layer.params[ours])))
    rng = np.random.default_rng(0)
    y = layer.forward(arr(x))
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(arr(dy))
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = tlayer(xt)
    yt.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(host(y), yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(host(dx), xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    for ours, theirs in copy:
        np.testing.assert_allclose(host(layer.grads[ours]),
                                   getattr(tlayer, theirs).grad.numpy(), rtol=1e-10, atol=1e-10)


def test_dense():
    x = np.random.default_rng(1).standard_normal((4, 6))
    run_both(mg.Dense(6, 3, rng=0, dtype=np.float64), torch.nn.Linear(6, 3).double(), x,
             [("W", "weight"), ("b", "bias")])


@pytest.mark.parametrize("k,s,p", [(5, 2, 2), (3, 1, 1), (4, 3, 0)])
def test_conv2d(k, s, p):
    x = np.random.default_rng(1).standard_normal((2, 3, 9, 8))
    run_both(mg.Conv2D(3, 4, k, stride=s, padding=p, rng=0, dtype=np.float64),
             torch.nn.Conv2d(3, 4, k, stride=s, padding=p).double(), x,
             [("W", "weight"), ("b", "bias")])


@pytest.mark.parametrize("k,s,p,op", [(5, 2, 2, 1), (5, 1, 2, 0), (4, 2, 1, 0), (3, 3, 0, 2)])
def test_conv_transpose2d(k, s, p, op):
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 4))
    run_both(mg.ConvTranspose2D(3, 2, k, stride=s, padding=p, output_padding=op, rng=0,
                                dtype=np.float64),
             torch.nn.ConvTranspose2d(3, 2, k, stride=s, padding=p, output_padding=op).double(),
             x, [("W", "weight"), ("b", "bias")])


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5, 5)])
def test_batchnorm_and_running_stats(shape):
    x = np.random.default_rng(1).normal(2, 3, shape)
    t = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(4, momentum=0.3)
    layer = mg.BatchNorm(4, momentum=0.3, dtype=np.float64)
    layer.params["gamma"][...] = arr(np.linspace(0.5, 1.5, 4))
    run_both(layer, t.double(), x, [("gamma", "weight"), ("beta", "bias")])
    np.testing.assert_allclose(host(layer.buffers["running_var"]), t.running_var.numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(host(layer.buffers["running_mean"]), t.running_mean.numpy(),
                               rtol=1e-10)


def test_adam_matches_torch():
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal(5)
    p = arr(w0.copy())
    g = arr(np.zeros(5))
    opt = mg.optim.Adam([("w", p, g)], lr=0.01, betas=(0.5, 0.999), weight_decay=0.1)
    wt = torch.tensor(w0.copy(), requires_grad=True)
    topt = torch.optim.Adam([wt], lr=0.01, betas=(0.5, 0.999), weight_decay=0.1)
    for _ in range(5):
        grad = rng.standard_normal(5)
        g[...] = arr(grad)
        opt.step()
        wt.grad = torch.from_numpy(grad.copy())
        topt.step()
    np.testing.assert_allclose(host(p), wt.detach().numpy(), rtol=1e-12)
