"""Plot the per-epoch curves of docs/results.md and docs/pacgan.md: classifier FID and
confident share of several runs, from the ``metrics.csv`` each run's trainer wrote.

    python benchmarks/plot_curves.py --out benchmarks/results/dcgan-mnist-curves.png \
        "default (20 clusters)=benchmarks/results/dcgan-mnist-metrics.csv" \
        "plain DCGAN=benchmarks/results/plain-dcgan-mnist-metrics.csv" \
        "InfoGAN, 10 codes=benchmarks/results/infogan-mnist-metrics.csv"

``--real`` draws the real digits' own confident share as a horizontal line;
``--epochs N`` cuts every curve at epoch N. ``--points`` plots a 2D run's
PacGAN metrics instead (modes captured, high-quality share, reverse KL), with
``--paper MODES,QUALITY,KL`` as dashed lines (once per run: each run's row in
its colour):

    python benchmarks/plot_curves.py --points --epochs 400 --paper 17.3,94.8,0.70 \
        --out benchmarks/results/pacgan-grid-gan-curve.png \
        "GAN, seed 0=benchmarks/results/pacgan-grid-gan-simultaneous-metrics.csv"
"""

import argparse
import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path, epochs):
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["epoch"]) <= epochs]
    if not rows:
        raise SystemExit(f"{path}: no rows up to epoch {epochs}")
    return ([int(r["epoch"]) for r in rows], [float(r["fid"]) for r in rows],
            [float(r["confident_share"]) for r in rows])


POINT_KEYS = (("modes_captured", "modes captured", 1),
              ("high_quality_share", "high quality (%)", 100),
              ("reverse_kl", "reverse KL", 1))


def draw_points(axes, label, path, color, epochs=None, paper=None):
    """One 2D run's PacGAN metrics (its trainer's metrics.csv, or its rows as
    dicts, cut at ``epochs``) on three axes: modes, high-quality share,
    reverse KL; the paper's cells ``(modes, quality %, KL)``, if given,
    dashed in its colour."""
    if isinstance(path, str):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    else:
        rows, path = path, label
    rows = [r for r in rows if epochs is None or int(r["epoch"]) <= epochs]
    if not rows:
        raise SystemExit(f"{path}: no rows up to epoch {epochs}")
    for ax, (key, _, scale), cell in zip(axes, POINT_KEYS, paper or (None,) * 3):
        ax.plot([int(r["epoch"]) for r in rows], [scale * float(r[key]) for r in rows],
                marker="o", ms=2, lw=0.8, label=label, color=color)
        if cell is not None:
            ax.axhline(cell, color=color, ls="--", lw=0.8)


def plot_points(args):
    """Three panels of 2D runs' PacGAN metrics over the epochs."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    papers = [[float(v) for v in cells.split(",")] for cells in args.paper or []]
    if len(papers) not in (0, 1, len(args.runs)) or any(len(p) != 3 for p in papers):
        raise SystemExit(f"--paper: expected MODES,QUALITY,KL once, or once per run "
                         f"({len(args.runs)}), got {args.paper}")
    for i, spec in enumerate(args.runs):
        label, _, path = spec.partition("=")
        # one row of the paper per run: each in its run's colour
        draw_points(axes, label, path, f"C{i}", args.epochs,
                    papers[i] if len(papers) > 1 else None)
    if len(papers) == 1:
        for ax, cell in zip(axes, papers[0]):
            ax.axhline(cell, color="grey", ls="--", lw=0.8, label="the paper (10 trials)")
    for ax, (_, name, _) in zip(axes, POINT_KEYS):
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
    axes[0].legend(fontsize=8)
    fig.suptitle(args.title or "", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print("wrote", args.out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="LABEL=METRICS.CSV")
    p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--real", type=float, default=0.96,
                   help="the real digits' confident share (2,000 samples: 0.96)")
    p.add_argument("--points", action="store_true",
                   help="a 2D run's PacGAN metrics (modes, high quality, reverse KL)")
    p.add_argument("--paper", metavar="MODES,QUALITY,KL", action="append",
                   help="with --points: the paper's cells, drawn as dashed lines; once for "
                        "all runs, or once per run in the runs' order (each in its colour)")
    p.add_argument("--title", help="the figure's title (--points)")
    args = p.parse_args(argv)
    if args.points:
        return plot_points(args)
    fig, (ax_fid, ax_share) = plt.subplots(1, 2, figsize=(10, 3.8))
    for spec in args.runs:
        label, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"expected LABEL=METRICS.CSV, got {spec!r}")
        epochs, fid, share = read(path, args.epochs)
        ax_fid.plot(epochs, fid, marker="o", ms=3, label=label)
        ax_share.plot(epochs, share, marker="o", ms=3, label=label)
    ax_fid.set_yscale("log")
    ax_fid.set_xlabel("epoch")
    ax_fid.set_ylabel("classifier FID (log scale, lower is better)")
    ax_share.axhline(args.real, color="grey", lw=0.8, ls=":", label="real digits")
    ax_share.set_xlabel("epoch")
    ax_share.set_ylabel("confident share (max prob >= 0.9)")
    ax_share.set_ylim(0, 1)
    ax_share.legend(fontsize=8, loc="lower right")
    fig.suptitle("DCGAN on the 10,000 bundled digits, seed 0, 2,000 samples per epoch",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
