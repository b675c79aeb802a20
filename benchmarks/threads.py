"""When a Numba kernel should wake its threads: each kernel timed on one
thread and on all threads over a range of sizes.

    python benchmarks/threads.py [--threads 2] [--json PATH]

Every Numba kernel is compiled twice (``numba_cpu._Kernel``): with its
parallel loops, and as plain loops that run on the calling thread. Below a
kernel's ``one_thread_below`` elements the plain one runs, because waking the
passively waiting OpenMP threads costs more than the work. This script
measures, per kernel, the median time of each version at sizes 2^10 to 2^22
and prints the smallest size from which the parallel one is faster, beside
the threshold that ``numba_cpu.py`` uses. The crossover depends on the
machine (cores, wake-up latency, memory bandwidth).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SIZES = [1 << k for k in range(10, 23, 2)]


def cases(n):
    """(label, public kernel name, _Kernel attribute, args) at about n elements."""
    import numpy as np
    rng = np.random.default_rng(0)

    def r(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    cols = min(1000, n)
    rows = max(1, n // cols)
    L = min(100, max(1, n // 64))
    return [
        ("bias + leaky ReLU, dense (N, 1000)", "bias_act_forward", "_bias_act",
         (r(rows, cols, 1), r(cols), 0.2)),
        ("bias, conv (N, 64, L)", "bias_act_forward", "_bias_act",
         (r(max(1, n // (64 * L)), 64, L), r(64), None)),
        ("leaky ReLU backward", "leaky_relu_backward", "_leaky_backward", (r(n), r(n), 0.2)),
        ("dropout", "dropout", "_dropout", (r(n), 0.3, 12345)),
        ("BatchNorm forward (N, 1000)", "batchnorm_forward", "_bn_forward_2d",
         (r(rows, cols, 1), r(cols), r(cols), 1e-5)),
        ("maxout forward, 5 pieces", "maxout_forward", "_maxout_forward",
         (r(rows, cols - cols % 5 or 5), 5)),
        ("Adam", "adam_update", "_adam",
         (r(n), r(n), r(n), np.abs(r(n)), 1e-4, 0.8, 0.999, 1e-8, 3, 0.0, 1.0)),
        ("layout (N, C, L) -> (C, N*L)", "channels_first", "_channels_first",
         (r(max(1, n // (64 * L)), 64, L),)),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="two sizes, 3 runs each (a smoke test)")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()
    common.set_threads(args.threads)
    from minigan import backend  # first: it sets OMP_WAIT_POLICY before Numba's threads start
    backend.set_backend("numba")
    import numba

    from minigan.kernels import numba_cpu as nc
    numba.set_num_threads(args.threads)

    sizes = SIZES[:3:2] if args.quick else SIZES
    reps = 3 if args.quick else args.reps
    times = {}
    for n in sizes:
        for label, name, attr, a in cases(n):
            fn = getattr(nc, name)
            copies = [x.copy() if hasattr(x, "copy") else x for x in a]
            kernel = getattr(nc, attr)
            saved = kernel.one_thread_below
            try:
                kernel.one_thread_below = float("inf")
                one = common.median_ms(lambda: fn(*copies), reps)
                kernel.one_thread_below = 0
                par = common.median_ms(lambda: fn(*copies), reps)
            finally:
                kernel.one_thread_below = saved
            times.setdefault(label, {"kernel": attr, "threshold": saved, "sizes": []})
            times[label]["sizes"].append({"n": n, "one_thread_us": 1e3 * one,
                                          "parallel_us": 1e3 * par})

    print(f"{'kernel':<36}" + "".join(f"{'2^%d' % (n.bit_length() - 1):>14}" for n in sizes)
          + "   parallel wins from   threshold")
    for label, row in times.items():
        cells = "".join(f"{s['one_thread_us']:>6.0f}/{s['parallel_us']:<7.0f}"
                        for s in row["sizes"])
        wins = next((s["n"] for s in row["sizes"] if s["parallel_us"] < s["one_thread_us"]),
                    None)
        row["parallel_wins_from"] = wins
        first = f"2^{wins.bit_length() - 1}" if wins else "never"
        print(f"{label:<36}{cells}   {first:>18}   2^{row['threshold'].bit_length() - 1}")
    print("(microseconds: one thread / all threads, median of each)")
    if args.json:
        meta = common.machine_info(args.threads)
        common.dump_json(args.json, {"meta": meta, "kernels": times})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
