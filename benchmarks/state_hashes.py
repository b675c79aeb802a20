"""Fingerprints of short training runs: one SHA-256 per run of the final
checkpoint's arrays (weights, optimizer moments, EMA, BatchNorm statistics,
Dropout counters).

    python benchmarks/state_hashes.py                  # print the table
    python benchmarks/state_hashes.py --json before.json
    python benchmarks/state_hashes.py --compare before.json   # exit 1 on a change

A refactoring that must not change any trajectory is checked by running this
before and after it on the same machine: each run is ``minigan train`` with
the flags below, one thread (OpenBLAS rounds differently with one thread and
two), numba backend, no scoring. Equal hashes mean every array is equal bit
for bit after the run's steps.
"""

import argparse
import hashlib
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import set_threads  # noqa: E402

RUNS = {
    "dcgan (default: 20 clusters)": ["--limit", "256"],
    "dcgan plain": ["--limit", "128", "--clusters", "0"],
    "dcgan conditional": ["--limit", "128", "--conditional"],
    "dcgan InfoGAN": ["--limit", "128", "--codes", "4", "--clusters", "0"],
    "dcgan wgan-gp": ["--limit", "64", "--loss", "wgan-gp", "--clusters", "0"],
    "mlp": ["--model", "mlp", "--limit", "256"],
    "mlp clusters": ["--model", "mlp", "--limit", "256", "--clusters", "4"],
    "toy": ["--model", "toy", "--limit", "2048"],
    "toy wgan-gp": ["--model", "toy", "--limit", "2048", "--loss", "wgan-gp"],
    "toy hinge + spectral norm": ["--model", "toy", "--limit", "2048", "--loss", "hinge",
                                  "--spectral-norm"],
    "toy pack 2, label noise": ["--model", "toy", "--limit", "2048", "--pack", "2",
                                "--label-noise", "0.1"],
    "toy least-squares, smoothing": ["--model", "toy", "--limit", "2048", "--loss",
                                     "least-squares", "--label-smoothing", "0.1"],
    "toy minimax, flips": ["--model", "toy", "--limit", "2048", "--loss", "minimax",
                           "--label-flip", "0.1"],
    "toy wgan (clipping)": ["--model", "toy", "--limit", "2048", "--loss", "wgan"],
    "mlp instance noise, pack 2": ["--model", "mlp", "--limit", "256", "--instance-noise",
                                   "0.2", "--pack", "2"],
    "pacgan-mlp pack 2": ["--model", "pacgan-mlp", "--dataset", "grid", "--limit", "800",
                          "--pack", "2"],
    "toy simultaneous updates": ["--model", "toy", "--limit", "2048", "--updates",
                                 "simultaneous"],
    "dcgan simultaneous updates": ["--limit", "64", "--clusters", "0", "--updates",
                                   "simultaneous"],
}


def state_hash(path):
    """SHA-256 over the checkpoint's arrays, in name order."""
    from minigan import checkpoint
    arrays, _ = checkpoint.load(path)
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", help="write {run: hash} here")
    p.add_argument("--compare", help="a --json file of an earlier run: exit 1 on any change")
    args = p.parse_args(argv)
    set_threads(1)
    from minigan.cli import main as minigan
    hashes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, flags) in enumerate(RUNS.items()):
            out = os.path.join(tmp, str(i))
            rc = minigan(["train", "--epochs", "1", "--eval-every", "0", "--no-progress",
                          "--backend", "numba", "--out", out, *flags])
            if rc:
                raise SystemExit(f"{name}: minigan train exited with {rc}")
            hashes[name] = state_hash(os.path.join(out, "checkpoint.npz"))
    earlier = {}
    if args.compare:
        with open(args.compare) as f:
            earlier = json.load(f)
    changed = 0
    for name, h in hashes.items():
        mark = ""
        if name in earlier:
            mark = "  same" if earlier[name] == h else "  CHANGED"
            changed += earlier[name] != h
        print(f"{name:<32} {h[:16]}{mark}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(hashes, f, indent=1)
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
