"""Each mode's share of a 2D run's samples, epoch by epoch, and D's view of it.

    minigan train --model pacgan-mlp --dataset ring --pack 3 --seed 1 --checkpoint-every 2
    python benchmarks/mode_shares.py runs/pacgan-mlp-ring --figure shares.png
    python benchmarks/mode_shares.py runs/pacgan-mlp-ring/checkpoint.npz   # one state

PacGAN's metrics say *that* a mode was lost (a mode is captured while one
sample of 2,500 lands within 3 standard deviations of it); this script shows
*how*: for every ``checkpoint_epoch_NNN.npz`` a run kept (``--checkpoint-every
K``), or each checkpoint named, it samples G as the table scores it
(population BatchNorm statistics, the authors' 2,500 samples, ``--seed``'s
noise, the same for every epoch) and prints the share of those samples that
are high quality at each mode: a share that falls epoch after epoch is a mode
G is being pushed or drifting out of; one that drops in a step is an event.
Beside it, the share of the samples whose nearest mode it is, however far: a
mode with neither is one G draws nothing near, not one it draws badly.

Beside each share it prints D's **probe value** of the mode: D's mean logit
on packs whose first slot holds a point at the mode's centre and whose other
m - 1 slots hold real points of the mixture (the same ``--probes`` packs for
every mode and epoch). The non-saturating G loss moves G's samples towards
higher logits, so a mode whose probe value is above the others' is one D asks
G for more of, and one below is one D calls fake. With m = 1 the probe is
D's logit at the centre. ``--between A B`` prints the probe value at 11
points along the segment from mode A's centre to mode B's as well: a dip
between them is a valley that keeps G's samples at A from being pulled to B,
however much higher D rates B.

``--slope`` prints how steep D is over the mixture: the norm of the gradient
of D's logit in the first slot's point (the other m - 1 slots holding one
pack of real points), at 61 x 61 points of the modes' bounding box widened
by 1 each way, its median, 90th percentile and largest value; and, for each
maxout layer, the largest singular value of each piece of the weight D runs
with. Under spectral normalization a maxout layer's weight, its pieces
together, has largest singular value 1, so each of its p pieces has about
1/sqrt(p) where they point different ways.

A run conditioned on k-means clusters (``--clusters K``) draws each sample's
cluster on its own, in proportion to the clusters' sizes, as the table
does; its D rates a point under a cluster, so it has no probe values (nor
``--between``, ``--slope``), and the script prints instead where G puts each
cluster's samples: the mode that holds the cluster's training points (the
k-means clusters found again as the trainer found them, once per run) and
the shares of the samples drawn for that cluster (``--n`` / K, at least 100)
that are high quality at that mode and at any other.

``--batch-stats`` samples G as it trains instead: in whole batches of the
training batch size (so 2,400 of 2,500 samples at batch 300), each normalized
by its own BatchNorm statistics, which tells a mode G no longer draws from
one that only its population statistics lose.
"""

import argparse
import contextlib
import glob
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def checkpoints(runs):
    """(epoch, path) of each checkpoint file named in ``runs`` (its epoch
    from its metadata), in the order given, and of each run folder's
    per-epoch checkpoints, in order."""
    from minigan import checkpoint
    found = []
    for run in runs:
        if not os.path.isdir(run):
            try:
                found.append((checkpoint.load(run)[1]["epoch"], run))
            except (OSError, checkpoint.CheckpointError) as e:
                raise ValueError(str(e)) from None
            continue
        kept = []
        for path in glob.glob(os.path.join(run, "checkpoint_epoch_*.npz")):
            m = re.fullmatch(r"checkpoint_epoch_(\d+)\.npz", os.path.basename(path))
            if m:
                kept.append((int(m.group(1)), path))
        if not kept:
            raise ValueError(f"no checkpoint_epoch_NNN.npz in {run} (train with "
                             f"--checkpoint-every K)")
        found += sorted(kept)
    return found


def shares(points, means, std):
    """Each mode's share of ``points`` that lie within 3 std of it (their
    nearest mode), and its share of all the points whose nearest mode it is;
    both as fractions of all the points."""
    from minigan.metrics.scores import mode_counts
    good, near = mode_counts(points, means, std)
    return good / len(points), near / len(points)


@contextlib.contextmanager
def evaluating(D):
    """D in evaluation mode (no power iteration, no Dropout draw) for the
    block, back in training mode after it."""
    D.eval()
    try:
        yield D
    finally:
        D.train()


def probe_values(trainer, means, fills):
    """D's mean logit on packs [centre of mode k, fills[i]] for each mode k;
    ``fills`` is (P, m - 1, 2) real points."""
    from minigan import backend
    P, m = fills.shape[0], trainer.cfg.pack
    out = []
    with evaluating(trainer.D) as D:
        for centre in means:
            x = np.concatenate([np.broadcast_to(centre, (P, 1, 2)), fills], axis=1)
            # packing lays a pack's m samples side by side: (P, m, 2) -> (P, 2m)
            logits = D.forward(backend.asarray(x.reshape(P, m * 2).astype(np.float32)))
            out.append(float(backend.to_numpy(logits).mean()))
    return np.array(out)


SEGMENT = np.linspace(0.0, 1.0, 11)[:, None]      # the points probed from A to B


SLOPE_POINTS = 61                                  # per side of the box --slope probes


def slope(trainer, means, fill, n=SLOPE_POINTS):
    """D's slope over the mixture: ``(lo, hi, norms)``, the box [lo, hi]^2 (the
    modes' bounding box widened by 1) and the norm of the gradient of D's
    logit in the first slot's point at each of its n x n points, the other
    slots holding ``fill`` ((m - 1, 2) real points)."""
    from minigan import backend
    lo, hi = float(means.min()) - 1, float(means.max()) + 1
    side = np.linspace(lo, hi, n)
    pts = np.stack(np.meshgrid(side, side), axis=-1).reshape(-1, 1, 2)
    m = trainer.cfg.pack
    x = np.concatenate([pts, np.broadcast_to(fill, (len(pts), m - 1, 2))], axis=1)
    with evaluating(trainer.D) as D:
        logits = D.forward(backend.asarray(x.reshape(len(pts), 2 * m).astype(np.float32)))
        dy = np.zeros(logits.shape, np.float32)
        dy[:, 0] = 1                                  # the logit, not InfoGAN's code head
        dx = backend.to_numpy(D.backward(backend.asarray(dy), param_grads=False))
    return lo, hi, np.hypot(dx[:, 0], dx[:, 1])


def piece_norms(D):
    """For each Dense layer that feeds a Maxout in ``D``: the largest singular
    value of each of its pieces, of the weight D runs with (after spectral
    normalization where D has it)."""
    from minigan import backend
    from minigan.layers import Dense, Maxout
    out = []
    with evaluating(D):
        for layer, after in zip(D.layers, D.layers[1:]):
            if isinstance(layer, Dense) and isinstance(after, Maxout):
                W = backend.to_numpy(layer.weight()).astype(np.float64)   # (units * p, in)
                p = after.pieces
                out.append(np.array([np.linalg.norm(W.reshape(-1, p, W.shape[1])[:, k], 2)
                                     for k in range(p)]))
    return out


def generate(trainer, z, batch_stats, seed=0):
    """G's samples of noise ``z``: as the table scores them (a clustered G's
    clusters drawn independently, ``seed``'s), or (``batch_stats``) in the
    whole training batches that ``z`` holds, each normalized by its own
    BatchNorm statistics."""
    from minigan import backend
    labels, _ = trainer.independent_inputs(len(z), np.random.default_rng([seed, 8]))
    if not batch_stats:
        return backend.to_numpy(trainer.sample(backend.asarray(z), labels))
    b = trainer.cfg.batch_size
    if len(z) < b:
        raise ValueError(f"--batch-stats samples whole batches of {b}, got --n {len(z)}")
    return np.concatenate([backend.to_numpy(trainer.G.forward(trainer._g_input(
        backend.asarray(z[i:i + b]), None if labels is None else labels[i:i + b])))
        for i in range(0, len(z) - b + 1, b)])


def cluster_modes(trainer, means):
    """For a run conditioned on k-means clusters: each cluster's mode (the
    nearest mode of most of its training points) and the share of its
    points whose nearest mode that is. The clusters are found again as the
    trainer found them (the same points, K and seed), and must have the
    sizes the checkpoint keeps."""
    from minigan import data
    from minigan.data.training import load_training_data
    cfg = trainer.cfg
    x, _ = load_training_data(cfg, log=lambda *a: None)
    labels, _ = data.kmeans(x, cfg.clusters, seed=cfg.seed)
    if not np.array_equal(np.bincount(labels, minlength=cfg.clusters), trainer.cluster_sizes):
        raise ValueError("the k-means clusters found again are not the checkpoint's (its "
                         "cluster sizes differ)")
    nearest = np.linalg.norm(x[:, None, :] - means[None], axis=2).argmin(1)
    counts = np.stack([np.bincount(nearest[labels == k], minlength=len(means))
                       for k in range(cfg.clusters)])
    home = counts.argmax(1)
    return home, counts[np.arange(cfg.clusters), home] / counts.sum(1)


def cluster_shares(trainer, means, std, home, z):
    """For each cluster k, the shares of G's samples of noise ``z`` drawn for
    k that are high quality at k's mode ``home[k]`` and at any other mode."""
    from minigan import backend
    at_home, elsewhere = [], []
    for k, h in enumerate(home):
        pts = backend.to_numpy(trainer.sample(backend.asarray(z), np.full(len(z), k)))
        good, _ = shares(pts, means, std)
        at_home.append(good[h])
        elsewhere.append(good.sum() - good[h])
    return np.array(at_home), np.array(elsewhere)


def scan(runs, n, seed, probes, between=None, batch_stats=False, steepness=False):
    """Rows (epoch, high-quality shares, nearest shares, probe values at the
    modes, probe values along the segment ``between`` = (A, B) or None, and
    with ``steepness`` D's ``slope`` and ``piece_norms``, else None) for each
    checkpoint, all of one mixture and pack size."""
    from minigan import data
    from minigan.gan import Trainer
    rows, first, homes = [], None, {}
    for epoch, path in checkpoints(runs):
        t = Trainer.from_checkpoint(path, log=lambda *a: None, sampling_only=True)
        if t.cfg.dataset not in data.datasets.TOYS:
            raise ValueError(f"{path} is a {t.cfg.dataset} run; this reads 2D mixtures "
                             f"(ring, grid)")
        means_fn, std = data.datasets.TOYS[t.cfg.dataset]
        means = means_fn()
        if between and not all(0 <= i < len(means) for i in between):
            raise ValueError(f"--between: the {t.cfg.dataset}'s modes are 0 to "
                             f"{len(means) - 1}, got {between[0]} {between[1]}")
        if t.cfg.clusters and (between or steepness):
            raise ValueError(f"{path} is conditioned on {t.cfg.clusters} clusters: its D "
                             f"rates a point under a cluster, so --between and --slope do "
                             f"not apply")
        if first and (t.cfg.dataset, t.cfg.pack) != first[1:]:
            raise ValueError(f"{path} is a {t.cfg.dataset} run with pack {t.cfg.pack}, "
                             f"{first[0]} a {first[1]} run with pack {first[2]}: one "
                             f"mixture and pack size at a time")
        if not first:
            first = (path, t.cfg.dataset, t.cfg.pack)
            rng = np.random.default_rng([seed, 5])
            z = rng.standard_normal((n, t.cfg.latent_dim)).astype(np.float32)
            fills = data.sample_mixture(t.cfg.dataset, probes * (t.cfg.pack - 1),
                                        np.random.default_rng([seed, 6]))
            fills = fills.reshape(probes, t.cfg.pack - 1, 2)
        pts = generate(t, z, batch_stats, seed)
        segment = (probe_values(t, (1 - SEGMENT) * means[between[0]]
                                + SEGMENT * means[between[1]], fills) if between else None)
        steep = ((*slope(t, means, fills[0]), piece_norms(t.D)) if steepness else None)
        if t.cfg.clusters:          # k-means once per run: its checkpoints share the clusters
            run = (t.cfg.seed, t.cfg.limit, t.cfg.real_packs, tuple(t.cluster_sizes.tolist()))
            homes[run] = homes.get(run) or cluster_modes(t, means)
            probes_or_clusters = (*homes[run], *cluster_shares(
                t, means, std, homes[run][0], z[:max(100, len(z) // t.cfg.clusters)]))
        else:
            probes_or_clusters = probe_values(t, means, fills)
        rows.append((epoch, *shares(pts, means, std), probes_or_clusters, segment, steep))
    return rows


def print_table(rows, modes):
    probed = not isinstance(rows[0][3], tuple)
    print("each mode's share of the samples: high quality there (%) | nearest to it (%)"
          + (" | D's probe value of it (mean logit)" if probed else ""))
    names = " ".join(f"{f'm{i}':>6}" for i in modes)
    print(f"{'epoch':>5}  " + "  |  ".join([names] * (3 if probed else 2)))
    for epoch, good, near, v, *_ in rows:
        blocks = (("{:6.1%}", good), ("{:6.1%}", near)) + ((("{:6.2f}", v),) if probed else ())
        print(f"{epoch:5d}  " + "  |  ".join(" ".join(fmt.format(x) for x in block[modes])
                                            for fmt, block in blocks))
    if not probed:
        print_clusters(rows)


def print_clusters(rows, followed=0.9):
    """A clustered run's clusters: for the last checkpoint each cluster's
    mode and where G puts its samples, then for every checkpoint how many
    clusters G follows."""
    epoch, home, purity, at_home, elsewhere = rows[-1][0], *rows[-1][3]
    print(f"epoch {epoch}: each cluster's mode (its training points' share there) and "
          f"where G puts the samples drawn for it: high quality at that mode | at another "
          f"(%)")
    for k in range(len(home)):
        print(f"  c{k:<3d} m{home[k]:<3d} ({purity[k]:6.1%})  {at_home[k]:6.1%} | "
              f"{elsewhere[k]:6.1%}")
    print(f"clusters with {followed:.0%} or more of their samples high quality at their "
          f"mode (of {len(home)}) | the modes they cover | their samples' share high quality "
          f"at another mode | nowhere (means over the clusters)")
    for epoch, _, _, (home, _, at_home, elsewhere), *_ in rows:
        ok = at_home >= followed
        print(f"{epoch:5d}  {ok.sum():4d} | {len(set(home[ok].tolist())):4d} | "
              f"{elsewhere.mean():6.2%} | {1 - at_home.mean() - elsewhere.mean():6.2%}")


def print_segment(rows, a, b):
    print(f"D's probe value along the segment from mode {a} to mode {b} (mean logit)")
    print(f"{'epoch':>5}  " + " ".join(f"{f'{x:.0%}':>6}" for x in SEGMENT[:, 0]))
    for epoch, _, _, _, segment, _ in rows:
        print(f"{epoch:5d}  " + " ".join(f"{x:6.2f}" for x in segment))


def print_slopes(rows):
    lo, hi = rows[0][5][:2]
    print(f"D's slope: the norm of its logit's gradient in the first slot's point at "
          f"{SLOPE_POINTS} x {SLOPE_POINTS} points of [{lo:g}, {hi:g}]^2 | each maxout "
          f"layer's pieces' largest singular values (least-most)")
    print(f"{'epoch':>5}  {'median':>7} {'90%':>7} {'max':>7}  |  pieces")
    for epoch, *_, (_, _, norms, pieces) in rows:
        q = np.percentile(norms, [50, 90, 100])
        print(f"{epoch:5d}  " + " ".join(f"{x:7.3f}" for x in q) + "  |  "
              + ("  ".join(f"{p.min():.2f}-{p.max():.2f}" for p in pieces)
                 or "no maxout layer"))


def figure(path, rows, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs = [r[0] for r in rows]
    s = np.array([r[1] for r in rows])
    v = None if isinstance(rows[0][3], tuple) else np.array([r[3] for r in rows])
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for i in range(s.shape[1]):
        line, = a.plot(epochs, 100 * s[:, i], label=f"mode {i}")
        if v is not None:                  # a clustered run's D has no probe values
            b.plot(epochs, v[:, i] - v.mean(1), color=line.get_color())
    a.axhline(100 / s.shape[1], color="k", lw=0.5, ls=":")
    a.set(xlabel="epoch", ylabel="% of samples (high quality)", title="each mode's share")
    b.axhline(0, color="k", lw=0.5, ls=":")
    b.set(xlabel="epoch", ylabel="logit - mean over modes", title="D's probe value of each mode")
    if s.shape[1] <= 10:
        a.legend(fontsize=7, ncol=2)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN",
                   help="a run folder holding checkpoint_epoch_NNN.npz files, or a checkpoint")
    p.add_argument("--n", type=int, default=2500, help="samples per epoch (the authors' 2,500)")
    p.add_argument("--seed", type=int, default=0, help="the samples' and probes' seed")
    p.add_argument("--probes", type=int, default=2000, help="packs per probe value")
    p.add_argument("--modes", nargs="+", type=int,
                   help="print these modes' columns only (default: every mode)")
    p.add_argument("--between", nargs=2, type=int, metavar=("A", "B"),
                   help="also print D's probe value along the segment from mode A to B")
    p.add_argument("--slope", action="store_true",
                   help="also print how steep D is over the mixture, and its maxout "
                        "layers' pieces' largest singular values")
    p.add_argument("--batch-stats", action="store_true",
                   help="sample G as it trains: each batch with its own BatchNorm statistics")
    p.add_argument("--figure", help="also draw the high-quality shares and probe values "
                                    "over the epochs here (PNG), every mode")
    p.add_argument("--title", help="the figure's title (default: the run folder)")
    args = p.parse_args()
    for name in ("n", "probes"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    try:
        rows = scan(args.runs, args.n, args.seed, args.probes, args.between, args.batch_stats,
                    args.slope)
    except ValueError as e:
        print(f"mode_shares.py: {e}", file=sys.stderr)
        sys.exit(2)
    k = len(rows[0][1])
    if args.modes and not all(0 <= i < k for i in args.modes):
        print(f"mode_shares.py: --modes must be between 0 and {k - 1} (the mixture has {k} "
              f"modes), got {' '.join(map(str, args.modes))}", file=sys.stderr)
        sys.exit(2)
    print_table(rows, np.array(args.modes if args.modes else range(k)))
    if args.between:
        print_segment(rows, *args.between)
    if args.slope:
        print_slopes(rows)
    if args.figure:
        figure(args.figure, rows,
               args.title or os.path.basename(os.path.normpath(args.runs[0])))
        print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
