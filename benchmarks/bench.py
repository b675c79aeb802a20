"""minigan benchmarks: kernels and whole GAN training steps, NumPy reference
vs Numba (vs CuPy when present), and against PyTorch when it is installed.

    python benchmarks/bench.py [--quick] [--json PATH] [--threads 2] [--models M,M]

Prints a table and, with --json, writes ``{"meta": {...}, "rows": [...]}``.
Every row has ``model, batch, backend, threads, median_ms, gflop`` (FLOPs of
the matrix products of the timed operation, or null) and, for GAN steps where
PyTorch ran, ``torch_median_ms`` and ``ratio_vs_torch`` (minigan / PyTorch).

Methodology: float32; every thread pool pinned to --threads; each timing is
the median of several runs after a warm-up run (the first run, Numba compile
or cache load included, is reported separately as ``first_ms``); PyTorch and
the fast backends are timed in alternating rounds. PyTorch
runs in a child process of the same run (so that its OpenMP runtime and
Numba's never share the process), with the same models built layer by layer
from minigan's (``common.torch_twin``) and the same step. A second child
process measures what a user feels: the time from starting Python to the end
of the first dcgan training step with a warm Numba cache, and the peak
resident memory of dcgan training at batch 256.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

ORIGINAL_ENV = dict(os.environ)
# model -> (latent size, shape of one sample, batches timed: None for the run's)
STEP_MODELS = {"mlp": (100, (1, 28, 28), None), "dcgan": (100, (1, 28, 28), (32, 64, 256)),
               # minigan train's default: the dcgan on 20 k-means clusters, D's Dropout 0.3
               "dcgan-clusters": (100, (1, 28, 28), (32,)),
               "pacgan-mlp": (2, (2,), (100,)),      # the PacGAN paper's 2D model, batch 100
               # the same step as its runs (and the paper's table) take it: simultaneous
               # updates, G's gradient through D's forward pass on the fakes
               "pacgan-mlp-simultaneous": (2, (2,), (100,))}
CLUSTERS = 20


def build_step(model, batch, seed=0):
    """minigan's (G, D, opt_G, opt_D, real, z, step keywords) for one
    reference model (the keywords: the clustered model's inputs and classes)."""
    import numpy as np

    from minigan import backend, gan, optim
    latent, shape, _ = STEP_MODELS[model]
    extra = {}
    if model == "dcgan-clusters":
        G, D = gan.build("dcgan", rng=seed, n_classes=CLUSTERS, dropout=0.3)
        labels = np.random.default_rng([seed, 1]).integers(0, CLUSTERS, batch)
        extra = dict(io=gan.Inputs(CLUSTERS), labels=backend.asarray(labels))
    else:
        G, D = gan.build(model.replace("-simultaneous", ""), rng=seed)
    if model.endswith("-simultaneous"):
        extra = dict(game=gan.Game(simultaneous=True))
    oG = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    oD = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    rng = np.random.default_rng(seed)
    real = backend.asarray(rng.uniform(-1, 1, (batch,) + shape).astype(np.float32))
    z = backend.asarray(rng.standard_normal((batch, latent)).astype(np.float32))
    return G, D, oG, oD, real, z, extra


def minigan_step(model, batch, backend_name):
    """(step function, ms of its first call, GFLOP of one step) on a backend."""
    from minigan import backend, gan
    from minigan.gan import step as step_module
    backend.set_backend(backend_name)
    G, D, oG, oD, real, z, extra = build_step(model, batch)
    latent, shape = _net_inputs(model)
    one_pass = "game" in extra and step_module.one_pass_on_the_fakes(D, extra["game"])
    gflop = common.step_gflop(G, D, latent, shape, batch, d_forwards=2 if one_pass else 3)

    def step():
        with backend.use_backend(backend_name):
            gan.gan_step(G, D, oG, oD, real, z, **extra)
            if backend_name == "cupy":
                import cupy
                cupy.cuda.Device().synchronize()

    t = time.perf_counter()
    step()
    return step, 1e3 * (time.perf_counter() - t), gflop


def _net_inputs(model):
    """(G's input width, D's input shape): the clustered model's carry the
    one-hot cluster (G) and K constant cluster channels (D)."""
    latent, shape, _ = STEP_MODELS[model]
    if model == "dcgan-clusters":
        return latent + CLUSTERS, (shape[0] + CLUSTERS,) + shape[1:]
    return latent, shape


# ----------------------------------------------------------- PyTorch child

def torch_twin_step(model, batch, device="cpu"):
    """The PyTorch twin of one reference model's step (same weights, inputs
    and update order) on ``device``: returns ``step()``."""
    import numpy as np
    import torch

    from minigan import backend
    with backend.use_backend("numpy"):          # only to build the twins
        G, D, _, _, real, z, extra = build_step(model, batch)
    latent, shape = _net_inputs(model)
    tG = common.torch_twin(G, (latent,)).to(device)
    tD = common.torch_twin(D, shape).to(device)
    planes = None
    if "io" in extra:             # the networks' inputs with the clusters, made once
        io, labels = extra["io"], extra["labels"]
        z, real = io.g_input(z, labels), io.d_input(real, labels)
        planes = torch.from_numpy(np.asarray(real)[:, 1:].copy()).to(device)
    return common.torch_step(tG, tD, torch.from_numpy(np.asarray(real)).to(device),
                             torch.from_numpy(np.asarray(z)).to(device), planes,
                             simultaneous="game" in extra)


def torch_child(model, batch, threads, reps):
    """Runs in a child process: time the PyTorch twin of the step."""
    import torch
    torch.set_num_threads(threads)
    step = torch_twin_step(model, batch)
    print(json.dumps({"torch_times_ms": common.times_ms(step, reps, warmup=2),
                      "torch": torch.__version__}))


def run_torch(model, batch, threads, reps):
    env = dict(ORIGINAL_ENV)
    common_env = {k: str(threads) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                            "MKL_NUM_THREADS")}
    env.update(common_env)
    cmd = [sys.executable, __file__, "--torch-child", model, str(batch), "--threads",
           str(threads), "--reps", str(reps)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr.strip().splitlines()[-1:] or ["failed"]
    return json.loads(out.stdout.strip().splitlines()[-1]), None


def torch_available():
    try:
        import importlib.util
        return importlib.util.find_spec("torch") is not None
    except Exception:
        return False


# ----------------------------------------------------------- probe child

def probe_child(batch, steps):
    """Runs in a child process: print when the first dcgan step is done, then
    train ``steps`` more and print the peak resident memory."""
    from minigan import gan
    G, D, oG, oD, real, z, _ = build_step("dcgan", batch)
    gan.gan_step(G, D, oG, oD, real, z)
    print("FIRST_STEP_DONE", flush=True)
    for _ in range(steps):
        gan.gan_step(G, D, oG, oD, real, z)
    print(json.dumps({"peak_rss_mb": peak_rss_kb() / 1024}), flush=True)


def peak_rss_kb():
    """This process's peak resident memory in kB. On Linux, VmHWM of
    /proc/self/status: ``ru_maxrss`` would also count the parent's resident
    memory at the moment it started this process (Linux carries the old
    address space's high-water mark over ``exec``), so a child of a large
    benchmark process reported the parent's size."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_probe(batch, steps, threads):
    """Wall time from process start to the end of the first step, and peak
    memory, in a fresh Python process (run twice: the first warms the cache)."""
    env = dict(os.environ)
    env["MINIGAN_BACKEND"] = "numba"
    result = {}
    for attempt in ("warm-up", "measured"):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, "--probe-child", str(batch),
                                 str(steps), "--threads", str(threads)], env=env,
                                stdout=subprocess.PIPE, text=True)
        first = None
        for line in proc.stdout:
            if line.startswith("FIRST_STEP_DONE"):
                first = time.perf_counter() - t0
            elif line.startswith("{"):
                result = json.loads(line)
        proc.wait()
        result["first_step_s"] = first
        result["attempt"] = attempt
    return result


# ------------------------------------------------------------------ kernels

def kernel_cases(batch):
    """(name, args) for every kernel at the shapes of the dcgan step."""
    import numpy as np
    rng = np.random.default_rng(0)
    f = np.float32

    def r(*shape):
        return rng.standard_normal(shape).astype(f)

    N = batch
    return [
        ("im2col D conv2 (N,64,14,14) k5 s2", "im2col", (r(N, 64, 14, 14), 5, 5, 2, 2)),
        ("im2col G convT1 dy (N,128,7,7) k5 s1", "im2col", (r(N, 128, 7, 7), 5, 5, 1, 2)),
        ("col2im G convT1 -> (N,128,7,7) k5 s1", "col2im",
         (r(128 * 25, N * 49), (N, 128, 7, 7), 5, 5, 1, 2)),
        ("col2im G convT2 -> (N,64,14,14) k5 s2", "col2im",
         (r(64 * 25, N * 49), (N, 64, 14, 14), 5, 5, 2, 2)),
        ("bias_act (N,64,196) slope 0.3", "bias_act_forward", (r(N, 64, 196), r(64), 0.3)),
        ("leaky_relu_backward (N,64,14,14)", "leaky_relu_backward",
         (r(N, 64, 14, 14), r(N, 64, 14, 14), 0.3)),
        ("batchnorm_forward (N,12544,1)", "batchnorm_forward",
         (r(N, 12544, 1), r(12544), r(12544), 1e-5)),
        ("batchnorm_backward (N,64,196)", "batchnorm_backward",
         (r(N, 64, 196), r(N, 64, 196), r(64), np.abs(r(64)), r(64), 1e-5)),
        ("bce_with_logits (N,1)", "bce_with_logits", (r(N, 1), np.ones((N, 1), f))),
        ("adam_update 1.26M params (G dense)", "adam_update",
         (r(1254400), r(1254400), r(1254400), np.abs(r(1254400)), 2e-4, 0.5, 0.999, 1e-8, 3,
          0.0, 1.0)),
    ]


def kernel_rows(batch, reps, backends, threads):
    from minigan import kernels
    rows = []
    for label, name, args in kernel_cases(batch):
        ref_ms = None
        for b in backends:
            mod = kernels.implementation(b)
            fn = getattr(mod, name)
            if b == "cupy":
                import cupy
                dev = tuple(cupy.asarray(a) if hasattr(a, "shape") and a.ndim else a
                            for a in args)

                def run(fn=fn, dev=dev):
                    fn(*dev)
                    cupy.cuda.Device().synchronize()
            else:                               # (in-place kernels drift; timing doesn't)
                def run(fn=fn):
                    fn(*args)
            ms = common.median_ms(run, reps, warmup=1)
            ref_ms = ms if b == "numpy" else ref_ms
            rows.append({"kind": "kernel", "model": f"kernel:{name}", "case": label,
                         "batch": batch, "backend": b, "threads": threads, "median_ms": ms,
                         "gflop": None, "speedup_vs_numpy": ref_ms / ms if ref_ms else None})
    return rows


# ------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, batch 64 only")
    ap.add_argument("--json", metavar="PATH", help="write the rows and machine facts here")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--models", metavar="M[,M]", help="time only these GAN steps (of "
                    f"{', '.join(STEP_MODELS)}), without the kernel table and the fresh process")
    ap.add_argument("--torch-child", nargs=2, metavar=("MODEL", "BATCH"), help=argparse.SUPPRESS)
    ap.add_argument("--probe-child", nargs=2, metavar=("BATCH", "STEPS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    models = args.models.split(",") if args.models else list(STEP_MODELS)
    unknown = [m for m in models if m not in STEP_MODELS]
    if unknown:
        ap.error(f"--models: unknown model {unknown[0]!r}; expected some of "
                 f"{', '.join(STEP_MODELS)}")
    common.set_threads(args.threads)

    if args.torch_child:
        return torch_child(args.torch_child[0], int(args.torch_child[1]), args.threads,
                           args.reps or 5)
    if args.probe_child:
        return probe_child(int(args.probe_child[0]), int(args.probe_child[1]))

    from minigan import backend  # first: it sets OMP_WAIT_POLICY before Numba's threads start
    import numba
    numba.set_num_threads(args.threads)
    reps = args.reps or (3 if args.quick else 7)
    batches = (64,) if args.quick else (64, 256)
    backends = ["numpy", "numba"]
    try:
        if not backend.fake_cupy_requested():      # the CPU stand-in is not a GPU to time
            backend.set_backend("cupy")
            backends.append("cupy")
    except RuntimeError:
        pass
    backend.set_backend("numba")
    use_torch = torch_available() and not args.no_torch

    meta = common.machine_info(args.threads)
    meta["matmul_gflops_f32"] = common.matmul_gflops(1024 if args.quick else 2048, reps)
    meta["numba_threading_layer"] = None
    print(f"{meta['date']}  {meta['cpu']}  {args.threads} threads  BLAS {meta['blas']}  "
          f"OPENBLAS_* {meta['openblas_env'] or 'none'}")
    print(f"float32 matmul: {meta['matmul_gflops_f32']:.0f} GFLOP/s")

    rows = [] if args.models else kernel_rows(batches[0], reps, backends, args.threads)
    try:
        meta["numba_threading_layer"] = numba.threading_layer()
    except ValueError:
        pass

    if rows:
        print(f"\n{'kernel (batch %d)' % batches[0]:<44}"
              + "".join(f"{b:>12}" for b in backends) + "   numba speed-up")
    for case in dict.fromkeys(r["case"] for r in rows):
        rs = {r["backend"]: r for r in rows if r["case"] == case}
        print(f"{case:<44}" + "".join(f"{rs[b]['median_ms']:>10.2f}ms" for b in backends)
              + f"   {rs['numba']['speedup_vs_numpy']:>6.1f}x")

    width = max(len(m) for m in models) + 2
    print(f"\n{'GAN step':<{width}}{'batch':>6}{'backend':>8}{'median':>11}{'first':>10}"
          f"{'GFLOP':>8}{'GFLOP/s':>9}{'torch':>11}{'ratio':>7}")
    def batches_of(model):
        own = STEP_MODELS[model][2] or batches
        return own[:1] if args.quick else own

    # With PyTorch, the fast backends and PyTorch are timed in alternating
    # rounds, so that a change in the machine's load falls on both sides of
    # a ratio; each median is over all rounds' runs.
    rounds = (2 if args.quick else 3) if use_torch else 1
    for model in models:
        for batch in batches_of(model):
            steps, times, torch_times, torch_err = {}, {}, [], None
            for b in backends:
                if b == "numpy" and model == "dcgan" and batch > 64 and args.quick:
                    continue
                steps[b] = minigan_step(model, batch, b)
                times[b] = []
            for r in range(rounds):
                if use_torch and torch_err is None:
                    res, torch_err = run_torch(model, batch, args.threads, reps)
                    if res:
                        torch_times += res["torch_times_ms"]
                        meta["torch"] = res["torch"]
                for b in steps:
                    if b != "numpy" or r == 0:          # the reference: one round
                        times[b] += common.times_ms(steps[b][0], reps, warmup=1 if r == 0 else 0)
            torch_ms = statistics.median(torch_times) if torch_times else None
            for b, (_, first_ms, gflop) in steps.items():
                ms = statistics.median(times[b])
                row = {"kind": "step", "model": model, "batch": batch, "backend": b,
                       "threads": args.threads, "median_ms": ms, "first_ms": first_ms,
                       "gflop": gflop, "gflops_per_s": gflop / (ms / 1e3),
                       "runs": len(times[b])}
                if torch_ms is not None:
                    row["torch_median_ms"] = torch_ms
                    row["ratio_vs_torch"] = ms / torch_ms
                rows.append(row)
                tm = f"{torch_ms:>9.1f}ms" if torch_ms else f"{'-':>11}"
                ratio = f"{ms / torch_ms:>7.2f}" if torch_ms else f"{'-':>7}"
                print(f"{model:<{width}}{batch:>6}{b:>8}{ms:>9.2f}ms{first_ms:>8.0f}ms{gflop:>8.2f}"
                      f"{gflop / (ms / 1e3):>9.1f}{tm}{ratio}  {1e3 / ms:>6.0f} steps/s")
            steps.clear()
            if torch_err:
                print(f"  (PyTorch did not run: {torch_err[0]})")
    for model in models:
        for batch in batches_of(model):
            rs = {r["backend"]: r for r in rows if r["kind"] == "step" and r["model"] == model
                  and r["batch"] == batch}
            if "numpy" in rs and "numba" in rs:
                speedup = rs["numpy"]["median_ms"] / rs["numba"]["median_ms"]
                print(f"{model} batch {batch}: numba is {speedup:.2f}x the numpy reference")

    if not args.models:                   # the fresh process belongs to the full run
        probe_batch = 64 if args.quick else 256
        probe = run_probe(probe_batch, 2 if args.quick else 3, args.threads)
        rows.append({"kind": "probe", "model": "dcgan", "batch": probe_batch, "backend": "numba",
                     "threads": args.threads, "median_ms": None, "gflop": None, **probe})
        print(f"\nfresh process, warm Numba cache: first dcgan step done "
              f"{probe['first_step_s']:.2f} s after start; peak RSS at batch {probe_batch}: "
              f"{probe['peak_rss_mb']:.0f} MB")
    if args.json:
        common.dump_json(args.json, {"meta": meta, "rows": rows})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
