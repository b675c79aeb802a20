"""Where a GAN step's time goes: the wall time of each kernel of one step.

    python benchmarks/profile_step.py dcgan 256 [--steps 5] [--threads 2] [--backend numba]

Builds the step of ``bench.py`` (same models, inputs and optimizers), wraps
every kernel of the backend (``kernels/reference.py``'s ``KERNELS``) with a
timer, runs two steps to warm up and then ``--steps`` steps, and prints the
mean time per step of each kernel, largest first, and of everything outside
the kernels (Python, the layers' own NumPy operations). The timers add a
few microseconds per call.
"""

import argparse
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import common  # noqa: E402


def profile(model, batch, steps, backend_name):
    """(mean step ms, {kernel: mean ms per step})."""
    from minigan import backend, gan, kernels
    from minigan.kernels import reference
    backend.set_backend(backend_name)
    impl = kernels.implementation(backend_name)
    G, D, oG, oD, real, z, extra = bench.build_step(model, batch)
    spent = collections.defaultdict(float)
    originals = {name: getattr(impl, name) for name in reference.KERNELS}

    def timed(name, fn):
        def run(*args, **kw):
            t = time.perf_counter()
            out = fn(*args, **kw)
            spent[name] += time.perf_counter() - t
            return out
        return run

    try:
        for name, fn in originals.items():
            setattr(impl, name, timed(name, fn))
        for _ in range(2):
            gan.gan_step(G, D, oG, oD, real, z, **extra)
        spent.clear()
        t = time.perf_counter()
        for _ in range(steps):
            gan.gan_step(G, D, oG, oD, real, z, **extra)
        step_ms = 1e3 * (time.perf_counter() - t) / steps
    finally:
        for name, fn in originals.items():
            setattr(impl, name, fn)
    return step_ms, {k: 1e3 * v / steps for k, v in spent.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", choices=list(bench.STEP_MODELS))
    ap.add_argument("batch", type=int)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--backend", default="numba", choices=["numpy", "numba", "cupy"])
    args = ap.parse_args()
    common.set_threads(args.threads)
    step_ms, per_kernel = profile(args.model, args.batch, args.steps, args.backend)
    print(f"{args.model}, batch {args.batch}, {args.backend}, {args.threads} threads: "
          f"{step_ms:.1f} ms per step")
    for name, ms in sorted(per_kernel.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<24}{ms:>9.1f} ms")
    print(f"  {'outside the kernels':<24}{step_ms - sum(per_kernel.values()):>9.1f} ms")


if __name__ == "__main__":
    main()
