"""The GPU check: one script that proves and times the cupy backend on a GPU.

    PYTHONPATH=$PWD python benchmarks/gpu_check.py --json OUT.json
    python benchmarks/gpu_check.py --fake-gpu --quick      # on the CPU, stand-in CuPy

It needs nothing beyond what a CUDA machine with CuPy, PyTorch, NumPy, Numba,
pytest and hypothesis has, installs nothing, and runs in a few minutes. In
order, it

1. prints the versions and the GPU;
2. runs the cupy backend's tests (``tests/test_cupy_backend.py``,
   ``tests/test_kernels.py`` and, in full mode, the gradient checks), which
   on a GPU run there;
3. checks every custom kernel (``kernels/cupy_gpu.py``'s specs) at the
   DCGAN's shapes (maxout at the PacGAN critic's) against a float64 host
   reference, each output filled with NaN first so that an element no thread
   wrote shows;
4. trains the DCGAN (Dropout in D, BatchNorm in G) and pacgan-mlp (maxout,
   pack 2; also with the PacGAN table's WGAN-GP, hinge + spectral norm and
   hinge + per-piece spectral norm critics) on cupy and on numpy from one
   seed and compares the first step's gradients and, after 5 steps, the
   counters (the weights' spread is reported: ``trajectory`` says why it is
   not judged);
5. times one step of ``bench.py``'s reference models (dcgan at batch 64 and
   256, the default clustered dcgan at 32, pacgan-mlp at 100) on cupy against
   the same model in PyTorch on the GPU (TF32 off on both sides, warm-up
   first; CuPy's ``cupyx.profiler.benchmark`` and CUDA events), and against
   the numba step on this machine's CPU; splits the cupy step into matrix
   products and the rest by CUDA events around each kernel call;
6. writes JSON (``--json``) and prints PASS or FAIL last.

``--fake-gpu`` runs it on the CPU through the stand-in for CuPy
(``MINIGAN_FAKE_CUPY``): every custom kernel's CUDA source then runs in the
host harness, so the script itself is known to work before a GPU sees it.
Its timings then mean nothing and are not reported as GPU figures.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("CUPY_TF32", "0")             # CuPy's matmuls in full float32

RESULTS = {"checks": [], "timings": []}


def check(name, ok, detail=""):
    RESULTS["checks"].append({"name": name, "ok": bool(ok), "detail": detail})
    print(f"  [{'ok' if ok else 'FAIL'}] {name}{': ' + detail if detail else ''}", flush=True)
    return ok


# ------------------------------------------------------------ 1. versions

def versions(fake):
    import numba
    import numpy as np

    import minigan
    from minigan import backend
    backend.set_backend("cupy")
    import cupy
    v = {"python": platform.python_version(), "numpy": np.__version__,
         "numba": numba.__version__, "minigan": minigan.__version__,
         "cupy": cupy.__version__, "fake_gpu": fake}
    if not fake:
        props = cupy.cuda.runtime.getDeviceProperties(0)
        v["gpu"] = props["name"].decode()
        v["gpu_memory_gib"] = round(props["totalGlobalMem"] / 2 ** 30, 1)
        v["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
        v["cuda_driver"] = cupy.cuda.runtime.driverGetVersion()
    else:
        v["gpu"] = "none: the stand-in for CuPy on the CPU"
    try:
        import torch
        v["torch"] = torch.__version__
        v["torch_cuda"] = bool(torch.cuda.is_available())
    except ImportError:
        v["torch"] = None
    RESULTS["versions"] = v
    for k, val in v.items():
        print(f"  {k}: {val}")


# ------------------------------------------------------------ 2. the tests

def run_tests(quick):
    files = ["tests/test_cupy_backend.py", "tests/test_kernels.py"]
    if not quick:
        files += ["tests/test_gradcheck_layers.py", "tests/test_conv.py", "tests/test_optim.py"]
    cmd = [sys.executable, "-m", "pytest", "-q", "--maxfail=20", "-p", "no:cacheprovider",
           "-k", "cupy", *files]
    t = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    last = (out.stdout.strip().splitlines() or ["(no output)"])[-1]
    check(f"cupy tests ({', '.join(os.path.basename(f) for f in files)})", out.returncode == 0,
          f"{last} ({time.perf_counter() - t:.0f} s)")
    if out.returncode:
        print(out.stdout[-3000:], out.stderr[-2000:])


# ----------------------------------------------- 3. each kernel, real shapes

def kernel_checks(batch):
    import cupy as cp
    import numpy as np

    from minigan.kernels import cupy_gpu as g
    from minigan.kernels import reference as ref
    rng = np.random.default_rng(0)
    N = batch

    def nan(shape, dtype=np.float32):
        return cp.full(shape, cp.nan, dtype=dtype)

    def compare(name, got, want, rtol=1e-6):
        got = cp.asnumpy(got).astype(np.float64)
        want = np.asarray(want, np.float64)
        unwritten = int(np.isnan(got).sum() - np.isnan(want).sum())
        scale = float(np.abs(want).max()) or 1.0
        err = float(np.nanmax(np.abs(got - want)) / scale) if got.size else 0.0
        check(f"kernel {name}", unwritten == 0 and err <= rtol,
              f"max error {err:.1e} of the output's scale, {unwritten} unwritten")

    f32 = np.float32
    # im2col and col2im at D's second convolution (N, 64, 14, 14), 5x5, s2, p2
    x = rng.standard_normal((N, 64, 14, 14)).astype(f32)
    K, s, p, OH = 5, 2, 2, 7
    cols = nan((64 * K * K, N * OH * OH))
    g._launch(g.IM2COL, cp.asarray(x), 64, 14, 14, K, K, s, p, OH, OH, N * OH * OH, cols,
              size=cols.size)
    compare("im2col (N,64,14,14) 5x5 s2 p2", cols, ref.im2col(x.astype(np.float64), K, K, s, p))
    c = rng.standard_normal((64 * K * K, N * OH * OH)).astype(f32)
    xo = nan((N, 64, 14, 14))
    g._launch(g.COL2IM, cp.asarray(c), 64, 14, 14, K, K, s, p, OH, OH, N * OH * OH, xo,
              size=xo.size)
    compare("col2im -> (N,64,14,14) 5x5 s2 p2", xo,
            ref.col2im(c.astype(np.float64), (N, 64, 14, 14), K, K, s, p))
    # bias + activation and its backward at (N, 64, 196)
    y = rng.standard_normal((N, 64, 196)).astype(f32)
    b = rng.standard_normal(64).astype(f32)
    yd = cp.asarray(y)
    g._launch(g.BIAS_ACT, cp.asarray(b), 64, 196, True, True, 0.3, yd, size=yd.size)
    compare("bias_act (N,64,196)", yd, ref.bias_act_forward(y.astype(np.float64), b, 0.3))
    dy = rng.standard_normal((N, 64, 196)).astype(f32)
    dx = nan(dy.shape)
    g._launch(g.LEAKY_BACKWARD, cp.asarray(dy), cp.asarray(y), 0.3, dx, size=dx.size)
    compare("leaky_backward (N,64,196)", dx, ref.leaky_relu_backward(dy.astype(np.float64), y,
                                                                     0.3))
    # BatchNorm after G's dense layer (N, 12544, 1) and after a conv (N, 64, 196)
    for shape in ((N, 12544, 1), (N, 64, 196)):
        xb = rng.normal(1, 2, shape).astype(f32)
        gam = rng.uniform(0.5, 1.5, shape[1]).astype(f32)
        bet = rng.standard_normal(shape[1]).astype(f32)
        x64 = xb.astype(np.float64)
        mean, var = x64.mean(axis=(0, 2)), x64.var(axis=(0, 2))
        yb = nan(shape)
        g._launch(g.BN_APPLY, cp.asarray(xb), cp.asarray(mean), cp.asarray(gam / np.sqrt(
            var + 1e-5)), cp.asarray(bet), shape[1], shape[2], yb, size=yb.size)
        compare(f"bn_apply {shape}", yb, ref.batchnorm_forward(x64, gam.astype(np.float64),
                                                               bet.astype(np.float64), 1e-5)[0])
        dyb = rng.standard_normal(shape).astype(f32)
        inv = 1 / np.sqrt(var + 1e-5)
        xhat = (x64 - mean[None, :, None]) * inv[None, :, None]
        M = shape[0] * shape[2]
        dxb = nan(shape)
        g._launch(g.BN_BACKWARD, cp.asarray(dyb), cp.asarray(xb), cp.asarray(mean),
                  cp.asarray(inv), cp.asarray(gam * inv / M), cp.asarray(dyb.astype(
                      np.float64).sum(axis=(0, 2))), cp.asarray((dyb * xhat).sum(axis=(0, 2))),
                  shape[1], shape[2], M, dxb, size=dxb.size)
        compare(f"bn_backward {shape}", dxb, ref.batchnorm_backward(
            dyb.astype(np.float64), x64, mean, var, gam.astype(np.float64), 1e-5)[0])
    # dropout (N, 64, 196), bit for bit
    xd = rng.standard_normal((N, 64, 196)).astype(f32)
    yd, md = nan(xd.shape), nan(xd.shape)
    key = ref.dropout_key(12345, 7)
    g._launch(g.DROPOUT, cp.asarray(xd), 0.3, np.uint64(key), float(f32(1 / 0.7)), yd, md,
              size=yd.size)
    wy, wm = ref.dropout(xd, 0.3, key)
    check("kernel dropout (N,64,196), bit for bit",
          np.array_equal(cp.asnumpy(md), wm) and np.array_equal(cp.asnumpy(yd), wy))
    # BCE on N logits, Adam on G's dense weight (1.25 M parameters)
    xl = (rng.standard_normal((N, 1)) * 5).astype(f32)
    t = np.ones((N, 1), f32)
    loss, dxl = nan((N, 1), np.float64), nan((N, 1))
    g._launch(g.BCE, cp.asarray(xl), cp.asarray(t), N, loss, dxl, size=N)
    wl, wdx = ref.bce_with_logits(xl.astype(np.float64), t.astype(np.float64))
    compare("bce (N,1)", dxl, wdx)
    check("kernel bce loss", abs(float(loss.sum()) / N - wl) <= 1e-12 * max(1, abs(wl)))
    # maxout at the PacGAN critic's shape: 100 packs, 200 units x 5 pieces; exact
    xm = rng.standard_normal((100, 1000)).astype(f32)
    ym, wm = nan((100, 200)), cp.full((100, 200), -1, dtype=cp.int64)
    g._launch(g.MAXOUT_FORWARD, cp.asarray(xm), 5, ym, wm, size=ym.size)
    want_y, want_w = ref.maxout_forward(xm, 5)
    dym = rng.standard_normal((100, 200)).astype(f32)
    dxm = nan((100, 1000))
    g._launch(g.MAXOUT_BACKWARD, cp.asarray(dym), wm, 5, dxm, size=dxm.size)
    check("kernel maxout forward (100, 200x5), exact",
          np.array_equal(cp.asnumpy(ym), want_y) and np.array_equal(cp.asnumpy(wm), want_w))
    check("kernel maxout backward (100, 200x5), exact",
          np.array_equal(cp.asnumpy(dxm), ref.maxout_backward(dym, want_w, 5)))
    n = 1_254_400
    pa, ga = rng.standard_normal(n).astype(f32), rng.standard_normal(n).astype(f32)
    ma, va = (0.1 * rng.standard_normal(n)).astype(f32), rng.uniform(0, .1, n).astype(f32)
    want = [a.astype(np.float64) for a in (pa, ma, va)]
    ref.adam_update(want[0], ga.astype(np.float64), want[1], want[2], 2e-4, 0.5, 0.999, 1e-8,
                    3, 0.0, 1.0)
    got = [cp.asarray(a) for a in (pa, ma, va)]
    g._launch(g.ADAM, cp.asarray(ga), 2e-4, 0.5, 0.999, 1e-8, 1 - 0.5 ** 3, 1 - 0.999 ** 3,
              0.0, 1.0, *got, size=n)
    for name, a, w in zip("pmv", got, want):
        compare(f"adam {name} (1.25 M parameters)", a, w)


# ------------------------------------------------ 4. 5 steps, cupy = numpy

def same_trajectory(quick):
    dcgan = dict(model="dcgan", limit=64 if quick else 320, batch_size=16 if quick else 64,
                 width=4 if quick else 64, latent_dim=8 if quick else 100, dropout=0.3,
                 ema=0.995, clusters=0)
    trajectory("dcgan", dcgan)
    # the PacGAN critic: maxout, packing, simultaneous updates, grouped BatchNorm in G
    trajectory("pacgan-mlp (pack 2)", dict(model="pacgan-mlp", limit=1000, pack=2))
    # the PacGAN table's critics beyond the paper: the penalty's tangent pass
    # through maxout, and spectral norm's power iteration, shared and per piece
    # (one critic step a step, so the gradients compared come before any Adam
    # update; at five, Adam's sign-led steps on D part the runs first)
    for name, extra in (("WGAN-GP", dict(loss="wgan-gp", n_critic=1)),
                        ("hinge + SN", dict(loss="hinge", spectral_norm=True)),
                        ("hinge + SN per piece", dict(loss="hinge", spectral_norm=True,
                                                      sn_per_piece=True))):
        trajectory(f"pacgan-mlp {name} (pack 2)",
                   dict(model="pacgan-mlp", limit=1000, pack=2, **extra))


def _spread(a, b, keys, size=None):
    """(largest over ``keys`` of size(a - b) / size(a), that key); ``size``
    is the largest magnitude unless given."""
    import numpy as np
    size = size or (lambda x: np.max(np.abs(x)))
    return max((float(size(b[k] - a[k])) / max(float(size(a[k])), 1e-30), k) for k in keys)


def _norm_spread(a, b, keys):
    """(largest over ``keys`` of ||a - b|| / ||a||, that key), in float64."""
    import numpy as np
    return _spread(a, b, keys, size=lambda x: np.linalg.norm(x.astype(np.float64)))


def trajectory(name, kw):
    """The same run on numpy and cupy from one seed. Checked: every weight
    gradient of the first step (each array's difference within 1e-2 of the
    array's norm; two CPU backends that only sum in other orders differ by
    up to 3e-4 of the array's largest value there), and after 5 steps every
    counter (optimizer steps, Dropout draws) exactly.

    The norm is judged, not the largest entry, because of maxout: where two
    pieces of a unit tie within rounding, the GPU's rounding can pick the
    other piece and send one sample's gradient to another weight column.
    That moves single entries by up to one sample's share of the array, but
    the array's norm far less; a wrong kernel moves the norm by order one,
    and a single wrong element is the kernel checks' to find. The largest
    entry's difference is reported beside it.

    The 5-step weights are reported, not judged: Adam's first steps move
    each weight by about lr times the sign of its gradient, so where a
    gradient is near zero a summation order flips the step, and the runs part
    by a good fraction of lr (numpy and numba on one CPU: 1.7e-2 of the
    largest value in G's first Adam moment after 5 dcgan steps)."""
    import numpy as np

    from minigan import backend
    from minigan.gan import Config, Trainer
    grads, state = {}, {}
    for b in ("numpy", "cupy"):
        t = Trainer(Config(backend=b, eval_every=0, samples=4, out=os.devnull, **kw),
                    log=lambda *a: None)
        t.train_step()
        grads[b] = {f"{n}.{k}": np.array(backend.to_numpy(g))      # a copy: the next
                    for n, net in (("G", t.G), ("D", t.D))             # steps reuse them
                    for k, _, g in net.parameters()}
        for _ in range(4):
            t.train_step()
        arrays, _ = t.state()
        state[b] = {k: backend.to_numpy(v) for k, v in arrays.items()}
    worst, where = _norm_spread(grads["numpy"], grads["cupy"], grads["numpy"])
    entry, at = _spread(grads["numpy"], grads["cupy"], grads["numpy"])
    check(f"{name}: first step's gradients on cupy equal numpy's", worst <= 1e-2,
          f"largest difference {worst:.1e} of its array's norm, in {where} (tolerance 1e-2); "
          f"of its largest value {entry:.1e}, in {at}")
    ints = [k for k in state["numpy"] if state["numpy"][k].dtype.kind != "f"]
    same = all(np.array_equal(state["cupy"][k], state["numpy"][k]) for k in ints)
    check(f"{name}: after 5 steps every counter equal ({len(ints)} arrays)", same and ints)
    floats = [k for k in state["numpy"] if k not in ints]
    spread, where = _spread(state["numpy"], state["cupy"], floats)
    RESULTS.setdefault("five_step_spread", {})[name] = {"largest": spread, "in": where}
    print(f"  (after 5 steps: largest difference {spread:.1e} of its array's scale, in {where})")


# ------------------------------------------------------------ 5. timings

def gpu_ms(fn, fake, n_repeat=20):
    """Median milliseconds of ``fn`` on the GPU (CuPy's benchmark: CUDA events,
    warm-up first); wall clock on the stand-in, where it means nothing."""
    if fake:
        fn()
        t = time.perf_counter()
        for _ in range(2):
            fn()
        return 1e3 * (time.perf_counter() - t) / 2
    import numpy as np
    from cupyx.profiler import benchmark
    r = benchmark(fn, (), n_repeat=n_repeat, n_warmup=3, max_duration=60)
    return 1e3 * float(np.median(r.gpu_times))


def torch_cuda_ms(model, batch, reps=20):
    """(median ms, None) of the PyTorch twin of a step on the GPU, TF32 off;
    (None, why) without CUDA."""
    try:
        import torch
    except ImportError:
        return None, "PyTorch is not installed"
    if not torch.cuda.is_available():
        return None, "PyTorch sees no CUDA device"
    import numpy as np

    import bench
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    step = bench.torch_twin_step(model, batch, "cuda")
    for _ in range(3):
        step()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(reps):
        start.record()
        step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return float(np.median(times)), None


def split(step, fake):
    """Milliseconds of one step in matrix products and in everything else, by
    CUDA events around every kernel call (a profiled run, not the timed one)."""
    import cupy as cp

    from minigan.kernels import cupy_gpu
    spent = {"matmul": 0.0, "other kernels": 0.0}
    originals = {}
    names = [n for n in dir(cupy_gpu) if not n.startswith("_") and callable(getattr(cupy_gpu, n))
             and n not in ("KernelSpec", "conv_output_size")]

    def timed(name, fn):
        def wrapper(*a, **k):
            if fake:
                t = time.perf_counter()
                out = fn(*a, **k)
                ms = 1e3 * (time.perf_counter() - t)
            else:
                e0, e1 = cp.cuda.Event(), cp.cuda.Event()
                e0.record()
                out = fn(*a, **k)
                e1.record()
                e1.synchronize()
                ms = cp.cuda.get_elapsed_time(e0, e1)
            spent["matmul" if name == "matmul" else "other kernels"] += ms
            return out
        return wrapper

    for n in names:
        originals[n] = getattr(cupy_gpu, n)
        setattr(cupy_gpu, n, timed(n, originals[n]))
    try:
        step()
        spent = {k: 0.0 for k in spent}
        step()
    finally:
        for n, f in originals.items():
            setattr(cupy_gpu, n, f)
    return spent


def timings(quick, fake):
    """One step of each reference model of ``bench.py``: cupy (and its split
    into products and other kernels), PyTorch on the same GPU, and the numba
    backend on this machine's CPU (all its cores)."""
    import bench
    import common
    rows = ((("dcgan", 4), ("pacgan-mlp", 100)) if quick else
            (("dcgan", 64), ("dcgan", 256), ("dcgan-clusters", 32), ("pacgan-mlp", 100)))
    for model, batch in rows:
        step, _, _ = bench.minigan_step(model, batch, "cupy")
        row = {"model": model, "batch": batch, "cupy_ms": gpu_ms(step, fake), "fake_gpu": fake}
        parts = split(step, fake)
        row["cupy_matmul_ms"] = parts["matmul"]
        row["cupy_other_kernels_ms"] = parts["other kernels"]
        if not quick:
            row["cupy_steps_per_s"] = 1e3 / row["cupy_ms"]
            numba_step, _, _ = bench.minigan_step(model, batch, "numba")
            row["numba_ms"] = common.median_ms(numba_step, 20 if model == "pacgan-mlp" else 3,
                                               warmup=1)
            row["numba_over_cupy"] = row["numba_ms"] / row["cupy_ms"]
            torch_ms, why = torch_cuda_ms(model, batch)
            row["torch_cuda_ms"] = torch_ms
            if torch_ms:
                row["cupy_over_torch"] = row["cupy_ms"] / torch_ms
            else:
                row["torch_skipped"] = why
        RESULTS["timings"].append(row)
        print("  " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                               for k, v in row.items()), flush=True)
    if fake:
        print("  (stand-in CuPy: these times are the host harness's, not a GPU's)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="PATH", help="write the results here")
    ap.add_argument("--fake-gpu", action="store_true",
                    help="run on the CPU through the stand-in for CuPy (no GPU figures)")
    ap.add_argument("--quick", action="store_true", help="small shapes, fewer tests")
    args = ap.parse_args()
    if args.fake_gpu:
        os.environ["MINIGAN_FAKE_CUPY"] = "1"
    t0 = time.perf_counter()
    sections = [("versions", lambda: versions(args.fake_gpu)),
                ("tests", lambda: run_tests(args.quick)),
                ("kernels at the DCGAN's shapes", lambda: kernel_checks(4 if args.quick else 64)),
                ("5 steps, cupy against numpy", lambda: same_trajectory(args.quick)),
                ("timings", lambda: timings(args.quick, args.fake_gpu))]
    for title, fn in sections:
        print(f"== {title}", flush=True)
        try:
            fn()
        except Exception as e:                  # a section that breaks is a failed check
            check(title, False, f"{type(e).__name__}: {e}")
    RESULTS["seconds"] = time.perf_counter() - t0
    ok = all(c["ok"] for c in RESULTS["checks"])
    RESULTS["result"] = "PASS" if ok else "FAIL"
    if args.json:
        with open(args.json, "w") as f:
            json.dump(RESULTS, f, indent=1)
    print(f"{'PASS' if ok else 'FAIL'}: {sum(c['ok'] for c in RESULTS['checks'])} of "
          f"{len(RESULTS['checks'])} checks passed in {RESULTS['seconds']:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
