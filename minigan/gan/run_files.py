"""What a run writes, and the rule that no run overwrites another.

A run folder ``runs/<name>/`` holds::

    config.json          the run's settings
    log.csv              step, epoch, d_loss, g_loss, d_real, d_fake, seconds
                         (and info_loss for an InfoGAN)
    samples/epoch_NNN.png    the fixed-noise grid after each epoch
    progress.gif         those grids as an animation (50 frames at most)
    losses.png           loss curves and D's outputs
    metrics.csv, metrics.png   classifier FID / IS / coverage (or 2D mode
                         metrics; class_accuracy for a conditional GAN,
                         code_purity and code_classes for an InfoGAN,
                         cluster_purity and cluster_classes for --clusters)
                         every ``eval_every`` epochs
    checkpoint.npz       the latest checkpoint (and checkpoint_epoch_NNN.npz
                         every K epochs if asked)
    tb/                  TensorBoard event files, with --tensorboard: the step
                         losses and D's mean outputs, the per-epoch scores and
                         the fixed-noise grid (tensorboardX)

A folder that holds another run's files is refused (:class:`RunExists`)
unless the caller asks to overwrite it, and then only these files are
removed. While a run trains, it holds ``.minigan.lock`` in its folder (an
advisory ``flock``, released when the process ends however it ends): a
second process training into the same folder at the same time, which would
interleave both runs' files, is refused (:class:`RunInUse`).
"""

import array
import csv
import glob
import os

from .. import data, viz
from ..kernels import workspace
from . import objectives
from .config import N_CLASSES


class RunExists(ValueError):
    """The output folder already holds another run."""


class RunInUse(ValueError):
    """Another process is training into the output folder now."""


def lock_folder(out):
    """Hold ``<out>/.minigan.lock`` for this process and return it open (the
    lock lasts while it is open); raises :class:`RunInUse`, naming the
    holder's pid, if another process holds it. Where ``flock`` does not
    exist (Windows), returns None: no lock."""
    try:
        import fcntl
    except ImportError:
        return None
    os.makedirs(out, exist_ok=True)
    f = open(os.path.join(out, ".minigan.lock"), "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        pid = f.read().strip() or "unknown"
        f.close()
        raise RunInUse(f"{out} is in use: another minigan process (pid {pid}) is training "
                       "into it now; wait for it to end, or write elsewhere with --out PATH "
                       "or --name NAME") from None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f


RUN_FILES = ("config.json", "log.csv", "metrics.csv", "checkpoint.npz")
TB_TAGS = {"d_loss": "loss/D", "g_loss": "loss/G", "d_real": "D_output/real",
           "d_fake": "D_output/fake", "info_loss": "loss/InfoGAN_code"}


def check_folder(out, overwrite=False):
    """The files of another run in ``out`` (empty when there is none); raises
    :class:`RunExists`, naming the ways on, if there are some and not ``overwrite``."""
    found = [f for f in RUN_FILES if os.path.exists(os.path.join(out, f))]
    if found and not overwrite:
        raise RunExists(
            f"{out} already holds a run ({', '.join(found)}); continue it with --resume "
            f"{os.path.join(out, 'checkpoint.npz')}, write elsewhere with --out PATH or "
            f"--name NAME, or start it again with --overwrite")
    return found


def clear_run_files(out):
    """Remove what a run writes into ``out`` (and nothing else there)."""
    patterns = ["config.json", "log.csv", "metrics.csv", "metrics.png", "losses.png",
                "progress.gif", "checkpoint.npz", "checkpoint_epoch_*.npz",
                os.path.join("samples", "epoch_*.png"), os.path.join("tb", "events.out.*")]
    for pattern in patterns:
        for path in glob.glob(os.path.join(glob.escape(out), pattern)):
            os.remove(path)


def paths(out):
    """The files of a run folder, by role."""
    names = {"config": "config.json", "log": "log.csv", "samples": "samples",
             "gif": "progress.gif", "losses": "losses.png", "metrics": "metrics.csv",
             "metrics_plot": "metrics.png", "checkpoint": "checkpoint.npz"}
    return {k: os.path.join(out, v) for k, v in names.items()}


class LossLog:
    """log.csv, one row per step, and the columns that losses.png draws, kept
    in memory: the picture is redrawn after every epoch, and reading the
    whole log back each time would cost more than the epoch at 400 epochs.
    On resume the log is trimmed to the rows before ``step`` (a resumed run
    rewrites what the interrupted one logged after its checkpoint). The
    header is on disk before the first step."""

    PLOTTED = ("step", "d_loss", "g_loss", "d_real", "d_fake")

    def __init__(self, path, fields, step):
        rows = []
        if step and os.path.exists(path):
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) < step]
        self.columns = {k: array.array("d", (float(r[k]) for r in rows)) for k in self.PLOTTED}
        self.file = open(path, "w", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=fields)
        self.writer.writeheader()
        self.writer.writerows(rows)
        self.file.flush()

    def write(self, row):
        """Add one step's ``row`` (the CSV's text), on disk at once: the log can be watched."""
        self.writer.writerow(row)
        self.file.flush()
        for k, column in self.columns.items():
            column.append(float(row[k]))

    def plot(self, path, probabilities):
        """losses.png (D's outputs drawn as probabilities for the BCE objectives)."""
        c = self.columns
        if len(c["step"]):
            viz.plot_losses(path, c["step"], c["d_loss"], c["g_loss"], c["d_real"], c["d_fake"],
                            probabilities=probabilities)

    def close(self):
        self.file.close()


def tensorboard(out, enabled):
    """A tensorboardX writer into ``<out>/tb`` when ``enabled``, else None."""
    if not enabled:
        return None
    from tensorboardX import SummaryWriter
    return SummaryWriter(os.path.join(out, "tb"))


GIF_FRAMES = 50      # progress.gif's frames at most (a longer animation is not watched)


def gif_frames(epochs, epoch, total):
    """Which of the sample pictures of ``epochs`` progress.gif shows after
    ``epoch`` of a run of ``total``: every s-th epoch's, s = total / 50
    rounded up (every epoch's up to 50 epochs), and the latest; or None when
    it is not redrawn after this epoch (only after every s-th and the last,
    so that the animation costs about 50 redrawings, however long the run)."""
    s = max(1, -(-total // GIF_FRAMES))
    if epoch % s and epoch < total:
        return None
    return sorted(e for e in epochs if e % s == 0 or e == epoch)


def write_frame(p, epoch, total, samples, grid_columns=None, means=None, lim=None):
    """The epoch's sample picture (a grid of images, or 2D points beside the
    mixture's ``means``) and the animation of the pictures so far (:func:`gif_frames`)."""
    frame = os.path.join(p["samples"], f"epoch_{epoch:03d}.png")
    if means is not None:
        viz.save_points(frame, samples, means, title=f"epoch {epoch}", lim=lim)
    else:
        viz.save_grid(frame, samples, nrow=grid_columns)
    done = [int(f[6:-4]) for f in os.listdir(p["samples"])
            if f.startswith("epoch_") and f.endswith(".png") and f[6:-4].isdigit()]
    shown = gif_frames(done, epoch, total)
    if shown is not None:
        viz.make_gif(p["gif"], [os.path.join(p["samples"], f"epoch_{e:03d}.png") for e in shown])


def append_metrics(p, row, key):
    """Add this epoch's ``row`` of scores to metrics.csv (replacing rows of
    this and later epochs, which a resumed run scores again) and plot ``key``."""
    rows = []
    if os.path.exists(p["metrics"]):
        with open(p["metrics"], newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["epoch"]) < row["epoch"]]
    rows.append(row)
    with open(p["metrics"], "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        writer.writeheader()
        writer.writerows(rows)
    viz.plot_metric(p["metrics_plot"], [int(r["epoch"]) for r in rows],
                    [float(r[key]) for r in rows], key)


def end_of_epoch(trainer):
    """After each epoch: the sample picture and animation, the loss plot, the
    scores every ``eval_every`` epochs, and the checkpoint(s)."""
    cfg, p, tb = trainer.cfg, paths(trainer.cfg.out), trainer.tb_writer
    epoch = trainer.epoch
    out = trainer.sample()
    total = max(epoch, trainer.target_epochs)
    if trainer.points:
        write_frame(p, epoch, total, out, means=data.datasets.TOYS[cfg.dataset][0](),
                    lim=1.5 if cfg.dataset == "ring" else 6)
    else:
        write_frame(p, epoch, total, out, grid_columns=trainer.grid_columns)
        if tb is not None:
            tb.add_image("samples", viz.image_grid(out, trainer.grid_columns), trainer.step,
                         dataformats="HWC")
    if trainer.loss_log is not None:
        trainer.loss_log.plot(p["losses"], probabilities=cfg.loss in objectives.BCE)
    if cfg.eval_every and epoch % cfg.eval_every == 0:
        row = {"epoch": epoch, "step": trainer.step, **trainer.evaluate()}
        append_metrics(p, row, "modes_captured" if trainer.points else "fid")
        if tb is not None:
            for k, v in row.items():
                if k not in ("epoch", "step"):
                    tb.add_scalar(f"scores/{k}", float(v), trainer.step)
    trainer.save_checkpoint(p["checkpoint"])
    if cfg.checkpoint_every and epoch % cfg.checkpoint_every == 0:
        trainer.save_checkpoint(os.path.join(cfg.out, f"checkpoint_epoch_{epoch:03d}.npz"))


def score(trainer, n=None):
    """The trainer's generator scored on ``n`` samples (default
    ``eval_samples``) by a :class:`~minigan.metrics.evaluate.Evaluator` kept on
    the trainer: classifier FID, IS and coverage or the 2D mode metrics, plus
    class accuracy (conditional) and code or cluster purity."""
    from ..metrics.evaluate import Evaluator
    cfg = trainer.cfg
    n = n or cfg.eval_samples
    try:
        if trainer.evaluator is None or trainer.evaluator.n != n:
            trainer.evaluator = Evaluator(cfg.dataset if trainer.points else "images", n,
                                           cfg.seed)
        ev = trainer.evaluator
        out = ev.score(trainer.sample, cfg.latent_dim)
        if cfg.conditional:
            out["class_accuracy"] = ev.class_accuracy(trainer.sample, cfg.latent_dim,
                                                      N_CLASSES)["class_accuracy"]
        for what in ("code", "cluster"):
            if getattr(cfg, what + "s") and not trainer.points:
                pure = purity(trainer, ev, what)
                out.update({f"{what}_purity": pure["code_purity"],
                            f"{what}_classes": pure["code_classes"]})
        return out
    finally:
        workspace.clear()      # work arrays of shapes that training will not use again


def purity(trainer, evaluator, what):
    """``evaluator.code_purity`` of InfoGAN's codes (``what="code"``) or of
    the clusters (``"cluster"``): each one's majority digit and its share."""
    K = trainer.cfg.codes if what == "code" else trainer.cfg.clusters
    key = "codes" if what == "code" else "labels"
    return evaluator.code_purity(lambda z, c: trainer.sample(z, **{key: c}),
                                 trainer.cfg.latent_dim, K)
