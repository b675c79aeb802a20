"""The GAN variants on the 2D mixtures, over seeds: the evidence table.

    python benchmarks/variants.py                     # 4 variants x ring, grid x seeds 0-2
    python benchmarks/variants.py --workers 2 --json benchmarks/results/variants.json
    python benchmarks/variants.py --only InfoGAN --json benchmarks/results/variants.json --append
    python benchmarks/variants.py --set habits --json benchmarks/results/habits.json
    python benchmarks/variants.py --set habits --datasets mnist --seeds 1 --epochs 2 \
        --json benchmarks/results/habits-mnist.json

``--set habits`` compares the tutorials' habits (noisy labels, flipped
labels, instance noise) with the plain run instead. ``--datasets mnist``
trains the default model (``minigan train``'s dcgan on the bundled digits)
with ``--epochs`` and scores it as ``minigan evaluate`` does (classifier FID,
classes covered, KL to uniform, confident share on 5,000 samples).

Each run is ``minigan train --model toy --dataset D --seed S`` plus the
variant's flags (30 epochs of the 50,000 points, batch 256), then scored as
``minigan evaluate`` scores its checkpoint (PacGAN's metrics on 5,000
samples), but for InfoGAN's codes: ``minigan evaluate`` draws them
stratified (as many of each), which leaves out the draw's noise that every
other row's mode histogram carries, so the table draws them independently
(``Trainer.independent_inputs``; clusters and classes alike). Runs go to
processes of one thread each, ``--workers`` at a time.
Prints a markdown table of mean and standard deviation over the seeds.
``--score-only`` rescores the checkpoints of an earlier run; ``--only`` runs
the variants whose names start with the words given, and ``--append`` merges
the rows into an existing ``--json`` file (replacing rows of the same run).
"""

import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import set_threads  # noqa: E402

VARIANTS = {
    "vanilla (non-saturating)": [],
    "PacGAN2": ["--pack", "2"],
    "WGAN-GP": ["--loss", "wgan-gp"],
    "hinge + spectral norm": ["--loss", "hinge", "--spectral-norm", "--n-critic", "5",
                              "--beta1", "0", "--beta2", "0.9"],
    "InfoGAN (8-value code)": ["--codes", "8"],
    "relativistic average": ["--loss", "relativistic"],
}
HABITS = {
    "plain (non-saturating)": [],
    "label noise 0.1": ["--label-noise", "0.1"],
    "label flips 5%": ["--label-flip", "0.05"],
    "instance noise 0.1": ["--instance-noise", "0.1"],
}
SETS = {"variants": VARIANTS, "habits": HABITS}
KEYS = ("modes_captured", "high_quality_share", "reverse_kl")
IMAGE_KEYS = ("fid", "classes_covered", "kl_uniform", "confident_share")


def one_run(job):
    """Train (or, with ``score_only``, only score) one run and score it. An
    eighth entry ``resume`` true goes on from the run's checkpoint when there
    is one (the flags must agree with it; a finished run is only scored)
    instead of training it again from the start; a ninth is the number of
    samples scored (5,000, ``minigan evaluate``'s, when not given)."""
    name, dataset, seed, out, score_only, flags, epochs, *rest = job
    n_scored = rest[1] if len(rest) > 1 else 5000
    set_threads(1)
    import numpy as np

    from minigan.cli import main
    from minigan.gan import Trainer
    from minigan.metrics.evaluate import Evaluator
    toy = dataset in ("ring", "grid")
    ckpt = os.path.join(out, "checkpoint.npz")
    start = (["--resume", ckpt] if rest and rest[0] and os.path.exists(ckpt)
             else ["--overwrite"])
    argv = ["train", *(["--model", "toy"] if toy and "--model" not in flags else []),
            "--dataset", dataset, "--seed",
            str(seed), "--out", out, "--no-progress", *start, *flags,
            *(["--epochs", str(epochs)] if epochs else [])]
    t = time.perf_counter()
    if not score_only:
        with open(os.devnull, "w") as devnull:
            stdout, sys.stdout = sys.stdout, devnull
            try:
                code = main(argv)
            finally:
                sys.stdout = stdout
        if code:
            raise RuntimeError(f"minigan {' '.join(argv)} exited with {code}")
    seconds = time.perf_counter() - t
    trainer = Trainer.from_checkpoint(os.path.join(out, "checkpoint.npz"), log=lambda *a: None,
                                      sampling_only=True)
    rng = np.random.default_rng([0, 8])

    def generate(z):
        """G's samples; on the mixtures, whose tables compare rows, with its
        classes, clusters or codes drawn independently as the noise is."""
        return trainer.sample(z, *(trainer.independent_inputs(len(z), rng) if toy else ()))

    scores = Evaluator(dataset if toy else "images", n_scored, 0).score(generate,
                                                                       trainer.cfg.latent_dim)
    shown = out if not os.path.isabs(out) else os.path.join("runs", os.path.basename(out))
    return {"variant": name, "dataset": dataset, "seed": seed,
            "seconds": None if score_only else seconds, "resumed": start[0] == "--resume",
            "epochs_trained": trainer.epoch, "samples_scored": n_scored,
            # the run's training time over all its sittings (the trainer's clock, steps only)
            "train_seconds": trainer.elapsed,
            # the command (an absolute --out shown under runs/), to run it again
            "command": "minigan " + " ".join(shown if a == out else a
                                              for a in argv if a not in ("--resume", ckpt)),
            **{k: float(scores[k]) for k in (KEYS if toy else IMAGE_KEYS)}}


def table(rows, variants):
    import numpy as np
    image = any(r["dataset"] == "mnist" for r in rows)
    keys = IMAGE_KEYS if image else KEYS
    head = ("| variant | dataset | FID | classes covered | KL to uniform | confident share | "
            if image else "| variant | dataset | modes captured | high-quality share | "
            "reverse KL | ")
    lines = [head + "minutes per run |", "| --- " * (len(keys) + 3) + "|"]
    for dataset in ("ring", "grid", "mnist"):
        for name in variants:
            rs = [r for r in rows if r["variant"] == name and r["dataset"] == dataset]
            if not rs:
                continue
            cells = []
            for k in keys:
                v = np.array([r[k] for r in rs])
                cells.append(f"{v.mean():.2f} ± {v.std():.2f}" if np.isfinite(v).all()
                             else "inf in " + str(int((~np.isfinite(v)).sum())) + " runs")
            if not image:
                cells[0] = cells[0] + f" / {8 if dataset == 'ring' else 25}"
            times = [r["seconds"] for r in rs if r["seconds"] is not None]
            minutes = f"{np.mean(times) / 60:.1f}" if times else "-"
            lines.append(f"| {name} | {dataset} | " + " | ".join(cells) + f" | {minutes} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--set", choices=SETS, default="variants",
                   help="the GAN variants (default) or the tutorials' habits")
    p.add_argument("--epochs", type=int, help="train this many epochs (default: the model's)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--datasets", nargs="+", default=["ring", "grid"])
    p.add_argument("--out", default="runs/variants")
    p.add_argument("--json", help="also write the rows to this file")
    p.add_argument("--score-only", action="store_true",
                   help="only rescore the checkpoints already in --out")
    p.add_argument("--times-from", metavar="JSON",
                   help="with --score-only: take the run times from the --json of the run")
    p.add_argument("--only", nargs="+", metavar="NAME",
                   help="run only the variants whose names start with one of these")
    p.add_argument("--append", action="store_true",
                   help="merge into the --json file's rows instead of overwriting them")
    args = p.parse_args()
    variants = SETS[args.set]
    names = [n for n in variants if not args.only or any(n.startswith(o) for o in args.only)]
    if not names:
        p.error(f"--only {' '.join(args.only)} matches none of: {', '.join(variants)}")
    if args.append and not args.json:
        p.error("--append needs --json FILE")
    slug = {n: re.sub(r"[^a-z0-9]+", "-", n.lower()).strip("-") for n in names}
    jobs = [(name, d, s, os.path.join(args.out, f"{d}-{slug[name]}-{s}"),
             args.score_only, variants[name], args.epochs)
            for d in args.datasets for name in names for s in range(args.seeds)]
    from multiprocessing import get_context
    with get_context("spawn").Pool(args.workers) as pool:
        rows = []
        for r in pool.imap_unordered(one_run, jobs):
            rows.append(r)
            print(f"{r['dataset']} {r['variant']} seed {r['seed']}: "
                  + ", ".join(f"{k} {r[k]:.3g}" for k in (*KEYS, *IMAGE_KEYS) if k in r)
                  + (f" ({r['seconds']:.0f} s)" if r["seconds"] is not None else ""),
                  flush=True)
    if args.times_from:
        with open(args.times_from) as f:
            times = {(r["variant"], r["dataset"], r["seed"]): r["seconds"] for r in json.load(f)}
        for r in rows:
            r["seconds"] = times.get((r["variant"], r["dataset"], r["seed"]), r["seconds"])
    if args.append and os.path.exists(args.json):
        with open(args.json) as f:
            new = {(r["variant"], r["dataset"], r["seed"]) for r in rows}
            rows = [r for r in json.load(f)
                    if (r["variant"], r["dataset"], r["seed"]) not in new] + rows
    print(table(rows, variants))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
