"""Helpers shared by the benchmark scripts: machine facts, timing, FLOPs,
and the same models in PyTorch."""

import json
import os
import platform
import statistics
import time


def set_threads(n):
    """Pin every thread pool to ``n`` threads; call before importing numpy."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(threads):
    import numpy as np
    info = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "cpu": cpu_name(),
            "cores": os.cpu_count(), "threads": threads, "python": platform.python_version(),
            "numpy": np.__version__,
            "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
        info["blas_config"] = blas.get("openblas configuration", "")
    except Exception as e:  # older numpy
        info["blas"] = f"unknown ({e})"
    try:
        from threadpoolctl import threadpool_info
        info["threadpools"] = [{k: p.get(k) for k in ("internal_api", "num_threads",
                                                      "architecture", "version")}
                               for p in threadpool_info()]
    except ImportError:
        pass
    import numba
    info["numba"] = numba.__version__
    return info


def times_ms(fn, reps, warmup=1):
    """Wall times of ``fn()`` in ms, ``reps`` runs after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - t))
    return times


def median_ms(fn, reps, warmup=1):
    """Median wall time of ``fn()`` in ms over ``reps`` runs after ``warmup``."""
    return statistics.median(times_ms(fn, reps, warmup))


def matmul_gflops(n, reps):
    import numpy as np
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    ms = median_ms(lambda: a @ b, reps)
    return 2 * n ** 3 / (ms / 1e3) / 1e9


# ------------------------------------------------------------------ FLOPs

def layer_macs(G, D, latent_dim, image_shape):
    """Multiply-accumulates per sample of each Dense/Conv layer's forward pass,
    ``[(macs, is_first_layer), ...]`` for G and for D."""
    import numpy as np

    import minigan as mg

    def walk(net, x):
        out = []
        for k, layer in enumerate(net):
            y = layer.forward(x)
            if isinstance(layer, mg.Dense):
                macs = layer.in_features * layer.out_features
            elif isinstance(layer, mg.Conv2D):
                macs = np.prod(y.shape[1:]) * layer.in_channels * layer.kernel_size ** 2
            elif isinstance(layer, mg.ConvTranspose2D):
                macs = np.prod(x.shape[1:]) * layer.out_channels * layer.kernel_size ** 2
            else:
                macs = 0
            if macs:
                out.append((int(macs), not any(m for m, _ in out)))
            x = y
        return out, x

    G.eval(), D.eval()                 # zeros on the networks' backend (host or GPU)
    g, fake = walk(G, mg.backend.xp().zeros((2, latent_dim), np.float32))
    d, _ = walk(D, mg.backend.xp().zeros((2,) + tuple(image_shape), np.float32))
    G.train(), D.train()
    return g, d


def step_gflop(G, D, latent_dim, image_shape, batch, d_forwards=3):
    """FLOPs (2 per multiply-add) of the matrix products of one GAN step:
    G forward; D forward x3 (x2 where G's gradient goes back through D's
    pass on the fakes: simultaneous updates); D backward x2 with weight
    gradients and input gradients except at its first layer; D backward once
    for input gradients only; G backward with weight gradients and input
    gradients except at its first layer. Elementwise work is not counted."""
    g, d = layer_macs(G, D, latent_dim, image_shape)
    fwd_g, fwd_d = sum(m for m, _ in g), sum(m for m, _ in d)
    dx_g = sum(m for m, first in g if not first)
    dx_d_inner = sum(m for m, first in d if not first)
    macs = (fwd_g + d_forwards * fwd_d + 2 * (fwd_d + dx_d_inner) + fwd_d + (fwd_g + dx_g))
    return 2 * macs * batch / 1e9


# -------------------------------------------------------- PyTorch twins

def _TorchMaxout(pieces):
    """Maxout in PyTorch: the maximum over ``pieces`` contiguous features."""
    import torch.nn as tnn

    class Maxout(tnn.Module):
        def forward(self, x):
            return x.view(x.shape[0], -1, pieces).amax(dim=2)
    return Maxout()


def torch_twin(net, input_shape):
    """The same network in PyTorch, layer for layer, with the same weights."""
    import numpy as np
    import torch
    import torch.nn as tnn

    import minigan as mg
    layers = []
    x = np.zeros((2,) + tuple(input_shape), np.float32)
    net.eval()
    for layer in net:
        if isinstance(layer, mg.Dense):
            t = tnn.Linear(layer.in_features, layer.out_features, bias="b" in layer.params)
        elif isinstance(layer, mg.Conv2D):
            t = tnn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                           layer.stride, layer.padding, bias="b" in layer.params)
        elif isinstance(layer, mg.ConvTranspose2D):
            t = tnn.ConvTranspose2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                                    layer.stride, layer.padding, layer.output_padding,
                                    bias="b" in layer.params)
        elif isinstance(layer, mg.BatchNorm):
            t = (tnn.BatchNorm1d if x.ndim == 2 else tnn.BatchNorm2d)(
                layer.num_features, eps=layer.eps, momentum=layer.momentum)
        elif isinstance(layer, mg.ReLU):
            t = tnn.ReLU()
        elif isinstance(layer, mg.LeakyReLU):
            t = tnn.LeakyReLU(layer.slope)
        elif isinstance(layer, mg.Maxout):
            t = _TorchMaxout(layer.pieces)
        elif isinstance(layer, mg.Tanh):
            t = tnn.Tanh()
        elif isinstance(layer, mg.Sigmoid):
            t = tnn.Sigmoid()
        elif isinstance(layer, mg.Dropout):
            t = tnn.Dropout(layer.p)
        elif isinstance(layer, mg.Flatten):
            t = tnn.Flatten()
        elif isinstance(layer, mg.Reshape):
            t = tnn.Unflatten(1, layer.shape)
        else:
            raise TypeError(f"no PyTorch twin for {layer!r}")
        names = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias"}
        with torch.no_grad():
            for k, v in layer.params.items():
                getattr(t, names[k]).copy_(torch.from_numpy(np.asarray(v)))
        layers.append(t)
        x = layer.forward(x)
    net.train()
    return tnn.Sequential(*layers)


def torch_step(tG, tD, real, z, planes=None, simultaneous=False):
    """minigan's GAN step written in PyTorch, for twins ``tG``, ``tD``: D on a
    real and a fake batch, then G through D with D's weight gradients off
    (``param_grads=False`` in minigan). ``planes``: constant class channels
    that D sees beside each fake (a conditional GAN; ``real`` and ``z`` then
    already carry theirs). ``simultaneous``: both gradients from one graph,
    D's of its loss and G's of its own through the same ``D(fake)``, then both
    updates (minigan's ``Game(simultaneous=True)``). Returns ``step()``."""
    import torch
    oG = torch.optim.Adam(tG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    oD = torch.optim.Adam(tD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = torch.nn.BCEWithLogitsLoss()
    ones = torch.ones(real.shape[0], 1, device=real.device)
    zeros = torch.zeros(real.shape[0], 1, device=real.device)

    def judged(fake):
        return fake if planes is None else torch.cat([fake, planes], dim=1)

    def simultaneous_step():
        out_fake = tD(judged(tG(z)))
        d_loss = bce(tD(real), ones) + bce(out_fake, zeros)
        d_params, g_params = list(tD.parameters()), list(tG.parameters())
        # each gradient only where it is asked for: D's weights of D's loss,
        # G's of G's loss (through D without D's weight gradients)
        d_grads = torch.autograd.grad(d_loss, d_params, retain_graph=True)
        g_grads = torch.autograd.grad(bce(out_fake, ones), g_params)
        for p, g in zip(d_params + g_params, d_grads + g_grads):
            p.grad = g
        oD.step()
        oG.step()

    def step():
        fake = tG(z)
        oD.zero_grad()
        (bce(tD(real), ones) + bce(tD(judged(fake.detach())), zeros)).backward()
        oD.step()
        for p in tD.parameters():          # D frozen in the G step, as in minigan
            p.requires_grad_(False)
        oG.zero_grad()
        bce(tD(judged(fake)), ones).backward()
        oG.step()
        for p in tD.parameters():
            p.requires_grad_(True)

    return simultaneous_step if simultaneous else step


def dump_json(path, payload):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(payload, f, indent=1, default=float)
    os.replace(tmp, path)
