"""PacGAN's Table 1, reproduced: GAN and PacGAN2-4 on the ring and the grid.

    python benchmarks/paper_tables.py --json benchmarks/results/pacgan-table1.json \\
        --figure benchmarks/results/pacgan-table1.png          # the paper's 400 epochs
    python benchmarks/paper_tables.py --epochs 50 --trials 3   # shorter, stated in the table
    python benchmarks/paper_tables.py --trials 1 --curves curves.png   # each row's curve
    python benchmarks/paper_tables.py --quick                  # one tiny trial (the tests)
    python benchmarks/paper_tables.py --progress --curves c.png  # where each trial stands
    python benchmarks/paper_tables.py --rows WGAN-GP hinge+SN hinge+SN-piece clusters
                                                               # beyond the paper
    python benchmarks/paper_tables.py --rows GAN --datasets grid --seeds 1 2 --json part.json
    python benchmarks/paper_tables.py --from part.json other.json --json table.json \\
        --figure table.png --curves curves.png       # one table from several runs' files

A trial whose folder already holds its checkpoint goes on from it (a run of
400 epochs can be stopped and resumed, bit for bit, over several sittings;
a finished one is only scored; ``--progress`` prints where each trial
stands and its hours of steps left at its recent rate); ``--restart``
trains every trial again. Trials start in this order: those with a
checkpoint, then each row's first trial, each row's second, and so on, so
that a table stopped part way has every row. A
checkpoint trained with a setting that the same flags no longer give (an
older model: say, another BatchNorm) is not resumed into the table: the
script stops with one line naming it.

Each trial is ``minigan train --model pacgan-mlp --dataset D --pack M --seed S``
(the paper's model and settings: see ``minigan/gan/models.py``), scored as
``minigan evaluate`` scores it, on the authors' 2,500 samples: PacGAN's
metrics (modes captured, the share of high-quality samples within 3
standard deviations of a mode, the reverse KL of the mode histogram); the
clustered row's clusters are drawn independently, as its noise is, where
``minigan evaluate`` draws them stratified (see ``variants.py``). Runs go
to processes of one thread each, ``--workers`` at a time. The table gives
mean ± standard error over the trials beside the paper's figures (and,
last for each mixture, the scores of 2,500 of its own points, 10 draws:
the floor of the reverse KL), and ``--figure`` draws one trial's samples
per row next to the real mixture. Each row of the JSON
keeps what the table, the figure and the curves need (the trial's scores,
config and kernels, its scorings over the epochs, the figure's 2,500
points), so trials trained in different places (``--seeds`` picks which)
make one table with ``--from``, which trains nothing and refuses a trial
that two files score differently, whose config the same flags no longer
give, or whose command lacks its row's flags as ``ROWS`` has them now (a
row whose flags changed starts its trials again). ``--real-packs fixed``
trains every trial on the authors' fixed, bootstrapped real packs instead
of packs drawn anew every epoch (``minigan train --real-packs``). The
trials use OpenBLAS's AVX2 kernels where the CPU has them (see
``pin_blas_kernels``), so that a seed's trial is the same run on any such
CPU; the JSON records the kernels.

The paper's numbers: Lin, Khetan, Fanti & Oh, "PacGAN: The power of two
samples in generative adversarial networks", NeurIPS 2018, Table 1 (mean ±
standard error over 10 trials; the authors' repository fjxmlzn/PacGAN,
``synthetic_data_experiments/results/Table1.png``).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from variants import KEYS, one_run  # noqa: E402

# Each row's flags for ``minigan train --model pacgan-mlp``: the paper's
# rows, then minigan's variants on the same model and budget, which no paper
# ran in this setting (WGAN-GP as its authors' own 2D runs: penalty weight
# 0.1 and Adam's beta1 0.5 with minigan's WGAN-GP beta2 0.9, where the
# paper's beta1 0.8 makes its scores swing; hinge + SN also with each maxout
# piece normalized by its own norm, as the grid needs; the clustered GAN's K
# is twice the grid's modes, not tuned).
ROWS = {"GAN": ["--pack", "1"], "PacGAN2": ["--pack", "2"], "PacGAN3": ["--pack", "3"],
        "PacGAN4": ["--pack", "4"],
        "WGAN-GP": ["--loss", "wgan-gp", "--gp-weight", "0.1", "--beta1", "0.5"],
        "hinge+SN": ["--loss", "hinge", "--spectral-norm"],
        "hinge+SN-piece": ["--loss", "hinge", "--spectral-norm", "--sn-per-piece"],
        "clusters": ["--clusters", "50"]}
PAPER_ROWS = ("GAN", "PacGAN2", "PacGAN3", "PacGAN4")
# The authors score the points of 2,500 noise vectors after each epoch
# (config.py's num_log_figure_sample; extensions.py's MetricLogger reads the
# points GraphLogger drew); more samples could only capture more modes.
SCORED = 2500
# (modes, its s.e.), (high-quality %, s.e.), (reverse KL, s.e.)
PAPER = {
    ("ring", "GAN"): ((6.3, 0.5), (98.2, 0.2), (0.45, 0.09)),
    ("ring", "PacGAN2"): ((7.9, 0.1), (95.6, 2.0), (0.07, 0.03)),
    ("ring", "PacGAN3"): ((7.8, 0.1), (97.7, 0.3), (0.10, 0.02)),
    ("ring", "PacGAN4"): ((7.8, 0.1), (95.9, 1.4), (0.07, 0.02)),
    ("grid", "GAN"): ((17.3, 0.8), (94.8, 0.7), (0.70, 0.07)),
    ("grid", "PacGAN2"): ((23.8, 0.7), (91.3, 0.8), (0.13, 0.04)),
    ("grid", "PacGAN3"): ((24.6, 0.4), (94.2, 0.4), (0.06, 0.02)),
    ("grid", "PacGAN4"): ((24.8, 0.2), (93.6, 0.6), (0.04, 0.01)),
}


def pin_blas_kernels():
    """The OpenBLAS kernels every trial uses, set before any trial imports
    numpy. OpenBLAS picks its kernels by CPU (AVX-512 ones where it can),
    and they round differently, which a GAN's training amplifies until the
    same seed is another run (docs/results.md, Method). So the trials use
    the AVX2 (Haswell) kernels wherever the CPU has AVX2 and FMA, where a
    trial is the same run on any such CPU; ``OPENBLAS_CORETYPE`` set in the
    environment wins. Returns the kernels' name, "auto" where OpenBLAS chose."""
    if "OPENBLAS_CORETYPE" not in os.environ:
        try:
            with open("/proc/cpuinfo") as f:
                flags = next((set(line.split()) for line in f if line.startswith("flags")),
                             set())
        except OSError:
            flags = set()
        if {"avx2", "fma"} <= flags:
            os.environ["OPENBLAS_CORETYPE"] = "Haswell"
    return os.environ.get("OPENBLAS_CORETYPE", "auto")


def mean_se(values):
    import numpy as np
    v = np.asarray(values, np.float64)
    se = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
    return v.mean(), se


def lengths(rs):
    """A row's "trials x epochs" cell: "3 x 400", or "2 x 400, 1 x 100"."""
    import collections
    counts = collections.Counter(r["epochs_trained"] for r in rs)
    return ", ".join(f"{n} x {e}" for e, n in sorted(counts.items(), reverse=True))


def table(rows):
    lines = ["| row | data | modes | paper | high quality | paper | reverse KL | paper | "
             "trials x epochs |", "| --- " * 9 + "|"]
    for dataset in ("ring", "grid"):
        for name in ROWS:
            rs = [r for r in rows if r["variant"] == name and r["dataset"] == dataset]
            if not rs:
                continue
            ours = [mean_se([r[k] * (100 if k == "high_quality_share" else 1) for r in rs])
                    for k in KEYS]
            cells = []
            for (m, se), (pm, pse), d in zip(ours, PAPER.get((dataset, name), [(None, None)] * 3),
                                             (1, 1, 2)):      # the paper's decimals
                cells += [f"{m:.{d + 1}f}" + (f" ± {se:.{d + 1}f}" if len(rs) > 1 else ""),
                          "—" if pm is None else f"{pm:.{d}f} ± {pse:.{d}f}"]
            cells[2] += " %"
            cells[3] += " %" if cells[3] != "—" else ""
            lines.append(f"| {name} | {dataset} | " + " | ".join(cells) + f" | {lengths(rs)} |")
        if any(r["dataset"] == dataset for r in rows):
            lines.append(real_row(dataset))
    return "\n".join(lines)


def real_row(dataset, draws=10):
    """The table's line for the mixture's own samples: ``draws`` draws of
    2,500 scored by the same code (``Evaluator.reference``), mean ± standard
    error. What a G that draws the mixture exactly would score: the reverse
    KL of 2,500 samples is not 0 but the noise of the draw."""
    from minigan.metrics.evaluate import Evaluator
    refs = [Evaluator(dataset, SCORED, s).reference() for s in range(draws)]
    (m, ms), (q, qs), (kl, kls) = (mean_se([r[k] * (100 if k == "high_quality_share" else 1)
                                            for r in refs]) for k in KEYS)
    return (f"| *real samples* | {dataset} | {m:.2f} ± {ms:.2f} | — | {q:.2f} ± {qs:.2f} % | — | "
            f"{kl:.4f} ± {kls:.4f} | — | {draws} draws |")


def samples(row):
    """The points the figure draws for a trial: those its row keeps, else
    its checkpoint's G on 2,500 noise vectors (the figure's own draw)."""
    import base64

    import numpy as np
    if row.get("points"):
        return np.frombuffer(base64.b64decode(row["points"]), "<f4").reshape(-1, 2)
    from minigan import backend
    from minigan.gan import Trainer
    t = Trainer.from_checkpoint(trial_file(row, "checkpoint.npz"), log=lambda *a: None,
                                sampling_only=True)
    z = np.random.default_rng(1).standard_normal((SCORED, 2)).astype(np.float32)
    inputs = t.independent_inputs(SCORED, np.random.default_rng(2))
    return backend.to_numpy(t.sample(backend.asarray(z), *inputs)).astype(np.float32)


def keep(row, kernels):
    """What a finished trial's row keeps, so that the table, the figure and
    the curves can be drawn again from the JSON alone (``--from``), where
    the trial folders are gone: the trial's config, the trainer's scorings
    over the epochs, the figure's 2,500 points (float32, base64) and the
    BLAS kernels this run of the script trained and scored it on (a trial
    resumed from earlier sittings ran on theirs before)."""
    import base64
    import csv

    from minigan import checkpoint
    row["config"] = checkpoint.load(trial_file(row, "checkpoint.npz"))[1]["config"]
    metrics = trial_file(row, "metrics.csv")
    if os.path.exists(metrics):
        with open(metrics, newline="") as f:
            row["metrics"] = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]
    row["points"] = base64.b64encode(samples(row).astype("<f4").tobytes()).decode()
    row["blas_kernels"] = kernels
    return row


def merged(paths, names, datasets):
    """The rows of earlier runs' JSON files (``--from``), of the rows and
    data sets asked for: one per trial (a trial in two files must score the
    same in both), each checked against the model the same flags give now
    where its row keeps its config."""
    import shlex
    rows, seen = [], {}
    need = ("variant", "dataset", "seed", "epochs_trained", "command", *KEYS)
    for path in paths:
        try:
            with open(path) as f:
                result = json.load(f)
            got = result["rows"]
            missing = [k for r in got for k in need if k not in r]
            if missing:
                raise ValueError(f"a row without {missing[0]}")
        except (OSError, ValueError, KeyError, TypeError) as e:
            sys.exit(f"paper_tables.py: --from {path}: not a paper_tables.py JSON file ({e})")
        for r in got:
            if r["variant"] not in names or r["dataset"] not in datasets:
                continue
            r.setdefault("blas_kernels", result.get("blas_kernels"))
            key = (r["variant"], r["dataset"], r["seed"])
            if key in seen:
                first, earlier = seen[key]
                if any(first[k] != r[k] for k in (*KEYS, "epochs_trained")):
                    sys.exit(f"paper_tables.py: {key[1]} {key[0]} seed {key[2]} scores "
                             f"differently in {earlier} and {path}")
                continue
            if "config" in r:
                argv = shlex.split(r["command"])[2:]       # past "minigan train"
                flags = [a for a, before in zip(argv, ["", *argv])
                         if "--out" not in (a, before) and a != "--no-progress"]
                diff = config_diff(r["config"], r["dataset"], r["seed"], flags)
                if diff:
                    sys.exit(f"paper_tables.py: {path}: {key[1]} {key[0]} seed {key[2]} was "
                             f"trained with {', '.join(diff)}")
                want = ROWS[r["variant"]]
                if not any(argv[i:i + len(want)] == want for i in range(len(argv))):
                    sys.exit(f"paper_tables.py: {path}: {key[1]} {key[0]} seed {key[2]} was "
                             f"trained by '{r['command']}', without the row's flags "
                             f"'{' '.join(want)}'")
            seen[key] = (r, path)
            rows.append({**r, "source": path})
    return sorted(rows, key=lambda r: (r["seed"], r["dataset"] != "ring",
                                       list(ROWS).index(r["variant"])))


def write_json(path, head, rows):
    """The table's JSON, one row a line (a row keeps its points and curves),
    written whole or not at all."""
    lines = ["{"] + [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    lines += [' "rows": [', ",\n".join(f"  {json.dumps(r)}" for r in rows), " ]", "}"]
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


def figure(path, rows):
    """One trial's samples per row beside the real mixture: the lowest seed
    whose points its row keeps or whose checkpoint is there."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from minigan import data
    datasets = [d for d in ("ring", "grid") if any(r["dataset"] == d for r in rows)]
    names = [n for n in ROWS if any(r["variant"] == n for r in rows)]
    fig, axes = plt.subplots(len(datasets), len(names) + 1, squeeze=False,
                             figsize=(2.4 * (len(names) + 1), 2.4 * len(datasets)))
    for i, d in enumerate(datasets):
        lim = 1.5 if d == "ring" else 6
        real = data.sample_mixture(d, SCORED, np.random.default_rng(0))
        panels = [("real", real)]
        panels += [panel(rows, name, d) for name in names]
        for ax, (title, pts) in zip(axes[i], panels):
            if pts is not None:
                ax.scatter(pts[:, 0], pts[:, 1], s=1, alpha=0.4)
            ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim), ax.set_aspect("equal")
            ax.set_title(f"{d}: {title}", fontsize=8)
            ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def trial_file(row, name):
    """A file of the row's trial folder; "" for a row read from a JSON file
    (``--from``), whose folder, if there is one, may hold another run."""
    return "" if "source" in row else os.path.join(row["out"], name)


def panel(rows, name, dataset):
    """The figure's panel of a row on a mixture: its title, and the points of
    its lowest seed that kept them (None where no trial did, or none ran)."""
    r = first_kept(rows, name, dataset, "points", "checkpoint.npz")
    if r:
        return f"{name}, seed {r['seed']}", samples(r)
    if any(t["variant"] == name and t["dataset"] == dataset for t in rows):
        return f"{name}: no trial's samples kept", None     # rows of an older JSON
    return f"{name}: no trial yet", None


def first_kept(rows, name, dataset, key, filename):
    """The lowest seed's trial of a row whose row keeps ``key`` or whose
    folder holds ``filename``; None where no trial does."""
    kept = [r for r in rows if r["variant"] == name and r["dataset"] == dataset
            and (r.get(key) or os.path.exists(trial_file(r, filename)))]
    return min(kept, key=lambda r: r["seed"]) if kept else None


def curves(path, rows):
    """The scores over the epochs of each row's first trial (the trainer's
    metrics.csv, or the scorings its row keeps), with the paper's final
    figure as a dashed line."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from plot_curves import POINT_KEYS, draw_points
    datasets = [d for d in ("ring", "grid") if any(r["dataset"] == d for r in rows)]
    fig, axes = plt.subplots(len(datasets), 3, squeeze=False, figsize=(11, 3 * len(datasets)))
    for i, d in enumerate(datasets):
        for c, name in enumerate(n for n in ROWS if any(r["variant"] == n for r in rows)):
            r = first_kept(rows, name, d, "metrics", "metrics.csv")
            if not r:
                print(f"curves: no {d} {name} trial keeps its scorings")
                continue
            draw_points(axes[i], f"{name}, seed {r['seed']}",
                        r.get("metrics") or trial_file(r, "metrics.csv"), f"C{c}",
                        paper=[cell for cell, _ in PAPER.get((d, name), [(None, None)] * 3)])
        for ax, (_, title, _) in zip(axes[i], POINT_KEYS):
            ax.set_title(f"{d}: {title} (dashed: the paper's)", fontsize=8)
            ax.set_xlabel("epoch", fontsize=8)
        if axes[i][0].lines:
            axes[i][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def config_diff(saved, dataset, seed, flags):
    """The settings (BatchNorm's epsilon, the update rule, the optimizer, the
    loss...) in which the saved config dict differs from what ``minigan train
    --dataset D --seed S FLAGS`` gives now, as "name saved (now now)"."""
    import dataclasses

    from minigan import cli
    from minigan.gan.config import Config
    saved = Config.from_dict(saved).validate()
    now = cli.train_config(cli.build_parser().parse_args(
        ["train", "--dataset", dataset, "--seed", str(seed), *flags]))
    skip = set(cli.RESUME_MAY_CHANGE) | {"out"}
    return [f"{f.name} {getattr(saved, f.name)} (now {getattr(now, f.name)})"
            for f in dataclasses.fields(Config)
            if f.name not in skip and getattr(saved, f.name) != getattr(now, f.name)]


def stale_trial(job):
    """Why the trial folder of ``job`` cannot be resumed, or None: its
    checkpoint was trained with a setting that the same flags no longer
    give, and resuming it would mix two models in one row."""
    from minigan import checkpoint
    _, dataset, seed, out, _, flags = job[:6]
    path = os.path.join(out, "checkpoint.npz")
    if not os.path.exists(path):
        return None
    diff = config_diff(checkpoint.load(path)[1]["config"], dataset, seed, flags)
    return f"{path} was trained with {', '.join(diff)}" if diff else None


def hours_left(log_path, epochs, window=10_000):
    """Hours of training steps a trial has left at its recent rate: the
    trainer's clock (``log.csv``'s ``seconds``, summed over sittings) over its
    last ``window`` steps, times the steps still to go. None before
    ``window`` steps are logged."""
    import collections
    import csv
    with open(log_path, newline="") as f:
        tail = collections.deque(csv.DictReader(f), maxlen=window + 1)
    # steps and epochs count from 0: an epoch's first step is epoch * its steps
    starts = [r for r, before in zip(list(tail)[1:], tail) if r["epoch"] != before["epoch"]]
    if len(tail) <= window or not starts:
        return None
    first, last = tail[0], tail[-1]
    per_step = (float(last["seconds"]) - float(first["seconds"])) / window
    steps_per_epoch = int(starts[0]["step"]) // int(starts[0]["epoch"])
    return max(epochs * steps_per_epoch - int(last["step"]) - 1, 0) * per_step / 3600


def progress(jobs, epochs):
    """Where each trial stands, without training: its epoch, its latest
    scoring by the trainer (metrics.csv), the hours of steps it has left at
    its recent rate, and whether it is an older model. Returns the started
    trials as rows for ``curves``."""
    import csv

    from minigan import checkpoint
    done, started, left = 0, [], 0.0
    for job in jobs:
        name, dataset, seed, out = job[:4]
        path = os.path.join(out, "checkpoint.npz")
        head = f"{dataset} {name} seed {seed} ({out}): "
        if not os.path.exists(path):
            print(head + "not started")
            continue
        epoch = checkpoint.load(path)[1]["epoch"]
        done += min(epoch, epochs)
        line = head + f"epoch {epoch} of {epochs}"
        metrics = os.path.join(out, "metrics.csv")
        if os.path.exists(metrics):
            with open(metrics, newline="") as f:
                log = list(csv.DictReader(f))
            if log:
                started.append({"variant": name, "dataset": dataset, "seed": seed, "out": out})
                e = log[-1]
                line += (f"; scored at epoch {e['epoch']}: {e['modes_captured']} modes, "
                         f"{100 * float(e['high_quality_share']):.1f}% high quality, "
                         f"reverse KL {float(e['reverse_kl']):.3f}")
        hours = hours_left(os.path.join(out, "log.csv"), epochs) if epoch < epochs else None
        if hours is not None:
            left += hours
            line += f"; {hours:.1f} h of steps left at its recent rate"
        stale = stale_trial(job)
        print(line + (f"; an older model, not resumable: {stale}" if stale else ""))
    print(f"{done} of {len(jobs) * epochs} epochs trained ({len(jobs)} trials)"
          + (f"; {left:.1f} core-hours of steps left in the started trials" if left else ""))
    return started


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=3)
    p.add_argument("--seeds", nargs="+", type=int,
                   help="train these trials only (default: 0 to --trials - 1)")
    p.add_argument("--from", dest="sources", nargs="+", metavar="JSON",
                   help="train nothing: the table, --json, --figure and --curves from the "
                        "rows of earlier runs' --json files")
    p.add_argument("--epochs", type=int, default=400, help="the paper's 400 by default")
    p.add_argument("--rows", nargs="+", choices=ROWS,
                   help="the paper's four by default (--quick: GAN and PacGAN2); also " +
                        ", ".join(r for r in ROWS if r not in PAPER_ROWS))
    p.add_argument("--datasets", nargs="+", choices=("ring", "grid"), default=["ring", "grid"])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default="runs/paper-tables")
    p.add_argument("--json", help="write the rows here")
    p.add_argument("--figure", help="write the samples figure here (PNG)")
    p.add_argument("--curves", help="write each row's scores over the epochs here (PNG), from "
                                    "the first trial's metrics.csv (or the scorings its row "
                                    "keeps)")
    p.add_argument("--real-packs", choices=("fresh", "fixed"), default="fresh",
                   help="the real packs every trial trains on (minigan train --real-packs)")
    p.add_argument("--restart", action="store_true",
                   help="train every trial from the start, even where its checkpoint exists")
    p.add_argument("--quick", action="store_true",
                   help="one trial of GAN and PacGAN2 on the ring, 1 epoch of 2,000 points")
    p.add_argument("--progress", action="store_true",
                   help="train nothing: print each trial's epoch and latest scores (with "
                        "--curves, draw the started trials' curves so far)")
    args = p.parse_args()
    extra = []
    if args.quick:
        args.trials, args.epochs, args.datasets = 1, 1, ["ring"]
        args.rows = args.rows or ["GAN", "PacGAN2"]
        extra = ["--limit", "2000", "--eval-every", "1"]
    if args.sources:
        rows = merged(args.sources, args.rows or list(ROWS), args.datasets)
        if not rows:
            sys.exit(f"paper_tables.py: no rows of {', '.join(args.rows or ROWS)} on "
                     f"{', '.join(args.datasets)} in {', '.join(args.sources)}")
        return report(args, rows, {"sources": args.sources})
    args.rows = args.rows or list(PAPER_ROWS)
    jobs = []
    seeds = args.seeds if args.seeds is not None else range(args.trials)
    for s in seeds:                         # every row's first trial, then every second...
        for d in args.datasets:
            for name in args.rows:
                out = os.path.join(args.out, f"{d}-{name.lower().replace('+', '-')}-{s}")
                flags = ["--model", "pacgan-mlp", *ROWS[name], *extra,
                         *(["--real-packs", "fixed"] if args.real_packs == "fixed" else [])]
                jobs.append((name, d, s, out, False, flags, args.epochs, not args.restart,
                             SCORED))
    # trials with a checkpoint first: a sitting goes on with what the last one left
    jobs.sort(key=lambda job: args.restart or not os.path.exists(
        os.path.join(job[3], "checkpoint.npz")))
    if args.progress:
        started = progress(jobs, args.epochs)
        if args.curves and started:
            curves(args.curves, started)
            print(f"wrote {args.curves}")
        return
    if not args.restart:
        stale = [m for m in map(stale_trial, jobs) if m]
        if stale:
            sys.exit("paper_tables.py: " + "; ".join(stale) + ". --restart trains every trial "
                     "again; or move those folders away")
    kernels = pin_blas_kernels()
    from multiprocessing import get_context
    rows = []
    with get_context("spawn").Pool(args.workers) as pool:
        for job, r in zip(jobs, pool.imap(one_run, jobs)):
            r["out"] = job[3]
            rows.append(keep(r, kernels))
            how = "resumed, " if r["resumed"] else ""
            print(f"{r['dataset']} {r['variant']} seed {r['seed']}: "
                  + ", ".join(f"{k} {r[k]:.3g}" for k in KEYS)
                  + f" ({how}{r['epochs_trained']} epochs; {r['seconds']:.0f} s now, "
                    f"{r['train_seconds'] / 3600:.1f} h of training steps in all)", flush=True)
    report(args, rows, {"epochs": args.epochs, "blas_kernels": kernels})


def report(args, rows, head):
    """The table on stdout; the JSON, the figure and the curves where asked."""
    print(table(rows))
    if args.json:
        write_json(args.json, {**head, "paper": {f"{d} {n}": v for (d, n), v in PAPER.items()}},
                   rows)
    if args.figure:
        figure(args.figure, rows)
        print(f"wrote {args.figure}")
    if args.curves:
        curves(args.curves, rows)
        print(f"wrote {args.curves}")


if __name__ == "__main__":
    main()
