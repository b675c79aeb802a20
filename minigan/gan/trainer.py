"""The trainer: data in, GAN trained, pictures and checkpoints out.

Everything random is a pure function of the seed and the step (the batch
order of ``data.Batches``, the noise, InfoGAN's codes, WGAN-GP's
interpolation weights, noisy or flipped labels and instance noise of step t
and critic step k); Dropout's masks are a pure function of each layer's seed
and draw counter, which are part of D's state (as is spectral
normalization's vector u). So a run is
deterministic for a seed, backend and BLAS thread count (OpenBLAS rounds
differently with one thread and two), and a resumed run continues bit for
bit.

A run folder ``runs/<name>/`` holds::

    config.json          the run's settings
    log.csv              step, epoch, d_loss, g_loss, d_real, d_fake, seconds
                         (and info_loss for an InfoGAN)
    samples/epoch_NNN.png    the fixed-noise grid after each epoch
    progress.gif         those grids as an animation
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
"""

import csv
import dataclasses
import json
import math
import os
import time

import numpy as np

from .. import backend, checkpoint, data, optim, viz
from ..kernels import workspace
from ..layers import apply_spectral_norm
from . import models, objectives
from .inputs import Inputs
from .step import Game, gan_step

DATASETS = ("mnist", "mnist-full", "fashion", "folder", "ring", "grid")
DATASET_ALIASES = {"fashion-mnist": "fashion"}
LABELLED = ("mnist", "mnist-full", "fashion")
N_CLASSES = 10

# Per objective: optimizer, lr, betas, critic steps per G step, weight clip,
# gradient-penalty weight. WGAN and WGAN-GP take their papers' settings.
OBJECTIVE_DEFAULTS = {
    "wgan": dict(optimizer="rmsprop", lr=5e-5, beta1=0.0, beta2=0.0, n_critic=5, clip=0.01,
                 gp_weight=0.0),                     # (RMSprop has no betas)
    "wgan-gp": dict(optimizer="adam", lr=1e-4, beta1=0.5, beta2=0.9, n_critic=5, clip=0.0,
                    gp_weight=10.0),
}
CLASSIC = dict(optimizer="adam", lr=2e-4, beta1=0.5, beta2=0.999, n_critic=1, clip=0.0,
               gp_weight=0.0)


def model_defaults(model, pack=1):
    """The settings ``minigan train`` gives a model unless told otherwise: the
    toy GAN's, and the PacGAN paper's for pacgan-mlp (Adam 1e-4, beta1 0.8,
    400 epochs, batches of 100 packs, no EMA; scored every 10 epochs)."""
    if model == "toy":
        return dict(epochs=30, batch_size=256, ema=0.0)
    if model == "pacgan-mlp":
        return dict(epochs=400, batch_size=100 * pack, ema=0.0, lr=1e-4, beta1=0.8,
                    eval_every=10)
    return {}


class TrainingDiverged(RuntimeError):
    """A loss or D output became NaN or infinite."""


class RunExists(ValueError):
    """The output folder already holds another run."""


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
    import glob
    patterns = ["config.json", "log.csv", "metrics.csv", "metrics.png", "losses.png",
                "progress.gif", "checkpoint.npz", "checkpoint_epoch_*.npz",
                os.path.join("samples", "epoch_*.png"), os.path.join("tb", "events.out.*")]
    for pattern in patterns:
        for path in glob.glob(os.path.join(glob.escape(out), pattern)):
            os.remove(path)


@dataclasses.dataclass
class Config:
    """The settings of a run (saved as ``config.json`` and in checkpoints)."""
    model: str = "dcgan"
    dataset: str = "mnist"
    data_dir: str = None
    download: bool = False
    limit: int = None               # use only the first N samples (tests, quick looks)
    epochs: int = 12
    batch_size: int = 32
    lr: float = None                # None: the objective's default (OBJECTIVE_DEFAULTS)
    beta1: float = None
    beta2: float = None
    loss: str = "non-saturating"
    label_smoothing: float = 0.0    # real label = 1 - label_smoothing (one-sided)
    label_noise: float = 0.0        # D's targets moved towards the other side by A * U(0, 1)
    label_flip: float = 0.0         # share of D's targets swapped (t -> 1 - t) per step
    instance_noise: float = 0.0     # sigma of Gaussian noise on D's inputs, annealed to 0
    tensorboard: bool = False       # also write TensorBoard logs to <out>/tb/
    n_critic: int = None            # critic steps per generator step (wgan*: 5)
    clip: float = None              # WGAN weight clipping (wgan: 0.01)
    gp_weight: float = None         # WGAN-GP penalty weight (wgan-gp: 10)
    spectral_norm: bool = False     # spectral normalization of D's Dense/Conv2D weights
    pack: int = 1                   # PacGAN: D judges `pack` samples at once
    conditional: bool = False       # class-conditional G and D (labelled datasets)
    codes: int = 0                  # InfoGAN: a categorical latent code of this many values
    clusters: int = 0               # condition G and D on k-means clusters of the training
                                    # data (no labels used); 0 = off
    info_weight: float = 1.0        # InfoGAN: weight of the code-prediction loss
    ema: float = 0.995              # EMA decay of G's weights for samples; 0 = off
    seed: int = 0
    backend: str = "numba"
    latent_dim: int = 100
    image_size: int = 28
    channels: int = 1
    width: int = 64                 # dcgan: channels of D's first conv (G's last block)
    dropout: float = None           # dcgan: Dropout after each of D's conv blocks. None:
                                    # 0.3 (the TF tutorial's) with --clusters, else 0
                                    # (each measured best for its model, see README)
    out: str = "runs/dcgan-mnist"
    checkpoint_every: int = 0       # also keep checkpoint_epoch_NNN.npz every K epochs
    samples: int = 64               # size of the fixed evaluation noise batch
    eval_every: int = None          # score G every K epochs (metrics.csv); None: every
                                    # epoch where the data can be scored, else never
    eval_samples: int = 2000        # samples per evaluation

    def validate(self):
        """Check every setting (before anything is read or written) and fill
        in the defaults that depend on others. Returns self."""
        self._check_numbers()
        self.dataset = DATASET_ALIASES.get(self.dataset, self.dataset)
        if self.model not in models.MODELS:
            raise ValueError(f"unknown model {self.model!r}: expected one of "
                             f"{', '.join(models.MODELS)}")
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}: expected one of "
                             f"{', '.join(DATASETS)}")
        toy_data = self.dataset in data.datasets.TOYS
        if toy_data != (self.model in models.POINT_MODELS):
            raise ValueError(f"model {self.model!r} does not fit dataset {self.dataset!r}: the "
                             f"2D datasets (ring, grid) go with the toy and pacgan-mlp models, "
                             f"images with mlp or dcgan")
        if self.model in models.POINT_MODELS:
            self.latent_dim = 2                      # the 2D models' noise is 2D
        objectives.check(self.loss)
        defaults = OBJECTIVE_DEFAULTS.get(self.loss, CLASSIC)
        if self.model == "toy" and self.loss == "wgan-gp":
            # the WGAN-GP authors' own toy experiments used lambda = 0.1: the
            # 2D mixtures are small, and lambda = 10 over-smooths the critic
            defaults = {**defaults, "gp_weight": 0.1}
        for name in ("lr", "beta1", "beta2", "n_critic", "clip", "gp_weight"):
            if getattr(self, name) is None:
                setattr(self, name, defaults[name])
        if self.n_critic < 1 or self.clip < 0 or self.gp_weight < 0:
            raise ValueError(f"expected --n-critic >= 1, --clip >= 0 and --gp-weight >= 0, got "
                             f"{self.n_critic}, {self.clip}, {self.gp_weight}")
        if self.pack < 1 or self.batch_size % self.pack:
            raise ValueError(f"--pack {self.pack}: the batch size ({self.batch_size}) must be a "
                             f"multiple of the pack size (at least 1)")
        if self.conditional and self.dataset not in LABELLED:
            raise ValueError(f"--conditional needs a labelled dataset ({', '.join(LABELLED)}), "
                             f"got {self.dataset!r}")
        if not 0 <= self.label_smoothing < 0.5:
            raise ValueError(f"--label-smoothing must be in [0, 0.5), got {self.label_smoothing}")
        self._check_habits()
        if self.dropout is None:
            clustered_dcgan = self.clusters and self.model == "dcgan" and not self.gp_weight
            self.dropout = 0.3 if clustered_dcgan else 0.0
        if not 0 <= self.dropout < 1:
            raise ValueError(f"--dropout must be in [0, 1), got {self.dropout}")
        if self.dropout and self.model != "dcgan":
            raise ValueError(f"--dropout {self.dropout}: only the dcgan's D has Dropout layers, "
                             f"the model is {self.model!r}")
        if self.dropout and self.gp_weight:
            raise ValueError(f"--dropout {self.dropout} with a gradient penalty: the critic must "
                             f"be one fixed function (no Dropout) for the penalty")
        if self.clusters < 0:
            raise ValueError(f"--clusters must be at least 0, got {self.clusters}")
        if self.clusters and self.conditional:
            raise ValueError(f"--clusters {self.clusters} with --conditional: both give G a "
                             f"class to draw; choose one")
        if self.codes < 0 or self.info_weight < 0:
            raise ValueError(f"expected --codes >= 0 and --info-weight >= 0, got {self.codes} and "
                             f"{self.info_weight}")
        if self.codes:
            why = ("--conditional already gives G the class" if self.conditional else
                   f"--clusters {self.clusters} already gives G a discrete choice"
                   if self.clusters else
                   f"a packed D (--pack {self.pack}) sees several samples, each with its own "
                   f"code" if self.pack > 1 else
                   "a gradient penalty needs a critic with one output" if self.gp_weight
                   else None)
            if why:
                raise ValueError(f"--codes {self.codes} (InfoGAN) cannot be used here: {why}")
        if self.width < 1:
            raise ValueError(f"--width must be at least 1, got {self.width}")
        if not 0 <= self.ema < 1:
            raise ValueError(f"--ema (the EMA decay) must be in [0, 1), got {self.ema}")
        for name in ("epochs", "batch_size", "samples"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got "
                                 f"{getattr(self, name)}")
        scoreable = toy_data or (self.dataset in ("mnist", "mnist-full") and
                                 self.image_size == 28 and self.channels == 1)
        if self.eval_every is None:
            self.eval_every = 1 if scoreable else 0
        if self.eval_every and not scoreable:
            raise ValueError("--eval-every scores MNIST digits (28x28, 1 channel) or the 2D "
                             f"mixtures; it cannot score dataset {self.dataset!r} at "
                             f"{self.image_size}x{self.image_size}x{self.channels}")
        if self.lr <= 0:
            raise ValueError(f"--lr must be positive, got {self.lr}")
        return self

    def _check_numbers(self):
        """Finite floats and in-range integers, each named by its CLI flag."""
        def flag(name):
            return "--" + name.replace("_", "-")
        for name in ("lr", "beta1", "beta2", "clip", "gp_weight", "info_weight",
                     "label_smoothing", "label_noise", "label_flip", "instance_noise", "ema",
                     "dropout"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise ValueError(f"{flag(name)} must be a finite number, got {v}")
        for name in ("beta1", "beta2"):
            v = getattr(self, name)
            if v is not None and not 0 <= v < 1:
                raise ValueError(f"{flag(name)} must be in [0, 1), got {v}")
        for name, low in (("limit", 1), ("seed", 0), ("checkpoint_every", 0),
                          ("eval_every", 0), ("eval_samples", 2)):
            v = getattr(self, name)
            if v is not None and v < low:
                raise ValueError(f"{flag(name)} must be at least {low}, got {v}")

    def _check_habits(self):
        """The tutorials' habits: noisy and flipped labels, instance noise, TensorBoard."""
        if not 0 <= self.label_noise <= 0.5:
            raise ValueError(f"--label-noise must be in [0, 0.5], got {self.label_noise}")
        if not 0 <= self.label_flip < 0.5:
            raise ValueError(f"--label-flip must be in [0, 0.5), got {self.label_flip}")
        if (self.label_noise or self.label_flip) and self.loss not in objectives.BCE:
            raise ValueError(f"--label-noise and --label-flip change the targets of the BCE "
                             f"objectives ({', '.join(objectives.BCE)}); --loss {self.loss} has "
                             f"none")
        if self.instance_noise < 0:
            raise ValueError(f"--instance-noise must be at least 0, got {self.instance_noise}")
        if self.instance_noise and self.gp_weight:
            raise ValueError("--instance-noise with a gradient penalty: both smooth the critic, "
                             "and the penalty needs the noise-free critic; choose one")
        if self.tensorboard:
            import importlib.util
            if importlib.util.find_spec("tensorboardX") is None:
                raise ValueError("--tensorboard needs tensorboardX: pip install "
                                 "'minigan[tensorboard]'")

    @property
    def optimizer(self):
        return OBJECTIVE_DEFAULTS.get(self.loss, CLASSIC)["optimizer"]

    @property
    def n_classes(self):
        """Classes G and D are conditioned on: the labels' or the clusters'."""
        return N_CLASSES if self.conditional else self.clusters

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        if d.get("model", "dcgan") == "dcgan" and "dropout" not in d and not d.get("gp_weight"):
            d["dropout"] = 0.3      # runs saved before the setting existed had D's Dropout
        d.setdefault("codes", 0)    # nor had they InfoGAN's code
        return cls(**d)


def load_training_data(cfg, log=print):
    """The training set as float32: images (N, C, S, S) in [-1, 1], or 2D
    points; and their labels (int64) where the dataset has them, else None."""
    labels = None
    if cfg.dataset in data.datasets.TOYS:
        # the PacGAN paper's 100,000 examples of m packed points; 50,000 points otherwise
        n = cfg.limit or (100_000 * cfg.pack if cfg.model == "pacgan-mlp" else 50_000)
        return data.sample_mixture(cfg.dataset, n, np.random.default_rng([cfg.seed, 7])), None
    if cfg.dataset == "mnist":
        images, labels = data.load_mnist("test")
    elif cfg.dataset == "mnist-full":
        images, labels = data.load_mnist("train", download=cfg.download, log=log)
    elif cfg.dataset == "fashion":
        images, labels = data.load_fashion_mnist("train", cfg.data_dir, cfg.download, log=log)
    else:
        if not cfg.data_dir:
            raise ValueError("dataset 'folder' needs --data-dir PATH")
        images = data.load_folder(cfg.data_dir, cfg.image_size, cfg.channels)
    if cfg.limit:
        images = images[:cfg.limit]
        labels = None if labels is None else labels[:cfg.limit]
    labels = None if labels is None else labels.astype(np.int64)
    return data.to_unit_range(data.fit_images(images, cfg.image_size, cfg.channels)), labels


def build_models(cfg, generator_only=False):
    """``(G, D)`` for the config: the model, conditioned and packed as asked;
    D spectrally normalized if asked, without Dropout under a gradient penalty."""
    if cfg.model in models.POINT_MODELS:
        G, D = models.build(cfg.model, rng=cfg.seed, n_classes=cfg.n_classes, pack=cfg.pack,
                            codes=cfg.codes)
    else:
        kw = dict(latent_dim=cfg.latent_dim, image_size=cfg.image_size, channels=cfg.channels,
                  rng=cfg.seed, n_classes=cfg.n_classes, pack=cfg.pack, codes=cfg.codes)
        if cfg.model == "dcgan":
            kw.update(width=cfg.width, dropout=cfg.dropout)
        G, D = models.build(cfg.model, **kw)
    if cfg.spectral_norm and not generator_only:
        apply_spectral_norm(D, rng=[cfg.seed, 8])
    return G, D


def _finite(state):
    return all(bool(backend.get_array_module(v).isfinite(v).all()) for k, v in state.items()
               if v.dtype.kind == "f")


class Trainer:
    """Train a GAN from a :class:`Config`. ``Trainer(cfg).fit()`` runs it.
    ``training_data`` (images or points, or ``(data, labels)``) replaces the
    config's dataset."""

    CSV_FIELDS = ("step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds")

    def __init__(self, cfg, training_data=None, log=print, sampling_only=None):
        self.cfg = cfg.validate()
        self.log = log
        backend.set_backend(cfg.backend)
        self.points = cfg.model in models.POINT_MODELS
        self.cluster_sizes = None
        self.claimed_folder = False      # fit() may write into cfg.out (see claim_folder)
        self._tb = None                  # the TensorBoard writer while fit() runs
        if sampling_only is not None:
            # a trainer that only samples (minigan sample / evaluate): no data,
            # what sampling needs comes from the checkpoint's metadata
            self.batches = None
            self.steps_per_epoch = sampling_only.get("steps_per_epoch", 1)
            if cfg.clusters:
                self.cluster_sizes = np.asarray(sampling_only["cluster_sizes"])
        else:
            if training_data is None:
                host, labels = load_training_data(cfg, log)
            else:
                host, labels = (training_data if isinstance(training_data, tuple)
                                else (training_data, None))
            if cfg.conditional and labels is None:
                raise ValueError("a conditional GAN needs the training data's labels")
            if cfg.clusters:
                labels = self._cluster(host)
            if cfg.n_classes and len(labels) and not 0 <= labels.min() <= labels.max() < \
                    cfg.n_classes:
                raise ValueError(f"the training labels must be in [0, {cfg.n_classes}), got "
                                 f"{labels.min()}..{labels.max()}")
            self.batches = data.Batches(host, cfg.batch_size, cfg.seed,
                                        labels if cfg.n_classes else None)
            self.steps_per_epoch = max(1, self.batches.steps_per_epoch // cfg.n_critic)
        self.G, self.D = build_models(cfg)
        self.game = Game(loss=cfg.loss, real_label=1.0 - cfg.label_smoothing,
                         n_critic=cfg.n_critic, clip=cfg.clip, gp_weight=cfg.gp_weight,
                         info_weight=cfg.info_weight)
        self.io = Inputs(cfg.n_classes, cfg.pack, spatial=cfg.model == "dcgan", codes=cfg.codes)
        self.csv_fields = self.CSV_FIELDS + (("info_loss",) if cfg.codes else ())
        self.opt_G = self._optimizer(self.G)
        self.opt_D = self._optimizer(self.D)
        self.ema = None
        if cfg.ema:
            self.ema, _ = build_models(cfg, generator_only=True)
            self.ema.load_state_dict(self.G.state_dict())
        self.fixed_z = self._noise(cfg.samples, "fixed")
        # a conditional grid has one row per class, an InfoGAN's one per code; a
        # clustered GAN's grid draws the clusters in proportion to their sizes
        self.fixed_labels = (self._rows(N_CLASSES) if cfg.conditional else
                             self._cluster_labels(cfg.samples) if cfg.clusters else None)
        self.fixed_codes = self._rows(cfg.codes) if cfg.codes else None
        self._evaluator = None
        self.step = 0
        self.elapsed = 0.0

    def _cluster(self, host):
        """k-means cluster numbers of the training samples (``data.kmeans``),
        which a clustered GAN takes for labels; their sizes set how often
        samples draw each cluster."""
        t0 = time.perf_counter()
        labels, _ = data.kmeans(host, self.cfg.clusters, seed=self.cfg.seed)
        self.cluster_sizes = np.bincount(labels, minlength=self.cfg.clusters)
        self.log(f"k-means: {self.cfg.clusters} clusters of the {len(host)} training samples "
                 f"in {time.perf_counter() - t0:.1f} s, sizes {self.cluster_sizes.min()} to "
                 f"{self.cluster_sizes.max()}")
        return labels

    def _cluster_labels(self, n):
        """``n`` clusters in proportion to their sizes (a stratified draw)."""
        return data.proportional_labels(self.cluster_sizes, n)

    def _rows(self, k):
        """Classes or codes for the fixed grid: one per row of ``samples // k``."""
        n = self.cfg.samples
        if self.points:             # a scatter plot: just cycle through them
            return np.arange(n) % k
        return np.arange(n) // max(1, n // k) % k

    @property
    def grid_columns(self):
        """Images per row of the sample grids (None: square)."""
        k = N_CLASSES if self.cfg.conditional else self.cfg.codes
        return self.cfg.samples // k if k and self.cfg.samples >= k and not self.points else None

    def _optimizer(self, net):
        cfg = self.cfg
        if cfg.optimizer == "rmsprop":
            return optim.RMSprop(net.parameters(), lr=cfg.lr)
        return optim.Adam(net.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))

    # -- randomness: pure functions of (seed, purpose, step) ------------------
    def _noise(self, n, purpose, step=0, k=0):
        tag = {"fixed": 0, "train": 1}[purpose]
        # critic step k > 0 gets its own stream; k = 0 keeps the classic GAN's keys
        key = [self.cfg.seed, tag, step] + ([k] if k else [])
        z = np.random.default_rng(key).standard_normal((n, self.cfg.latent_dim))
        return backend.asarray(z.astype(np.float32))

    def _interpolation(self, step, k, like):
        """WGAN-GP's eps ~ U(0, 1), one per sample, shaped to broadcast over ``like``."""
        eps = np.random.default_rng([self.cfg.seed, 2, step, k]).random(
            (like.shape[0],) + (1,) * (like.ndim - 1))
        return backend.asarray(eps.astype(like.dtype))

    def _targets(self, step, k):
        """D's (real, fake) targets for critic step ``k``, one per D output, or
        None without label noise or flips. With A = label_noise, P =
        label_flip, s = label_smoothing and u, v ~ U(0, 1) per target::

            real: 1 - s - A*u        fake: A*v        (moved towards the other side)
            then each target, with probability P, becomes 1 - target (flipped)
        """
        cfg = self.cfg
        if not (cfg.label_noise or cfg.label_flip):
            return None
        rng = np.random.default_rng([cfg.seed, 4, step, k])
        n = (cfg.batch_size // cfg.pack, 1)
        t_real = (1.0 - cfg.label_smoothing) - cfg.label_noise * rng.random(n)
        t_fake = cfg.label_noise * rng.random(n)
        if cfg.label_flip:
            t_real = np.where(rng.random(n) < cfg.label_flip, 1 - t_real, t_real)
            t_fake = np.where(rng.random(n) < cfg.label_flip, 1 - t_fake, t_fake)
        return (backend.asarray(t_real.astype(np.float32)),
                backend.asarray(t_fake.astype(np.float32)))

    def instance_sigma(self, step):
        """The instance noise's sigma at ``step``: ``instance_noise`` falling
        linearly to 0 at the end of the run's ``epochs``."""
        total = self.cfg.epochs * self.steps_per_epoch
        return self.cfg.instance_noise * max(0.0, 1.0 - step / total)

    def _instance_noise(self, step, k, like):
        """(real, fake) Gaussian noise of ``instance_sigma(step)`` for critic
        step ``k``, or None when there is none."""
        sigma = self.instance_sigma(step)
        if not sigma:
            return None
        rng = np.random.default_rng([self.cfg.seed, 5, step, k])
        return tuple(backend.asarray((sigma * rng.standard_normal(like.shape)).astype(like.dtype))
                     for _ in range(2))

    def _codes(self, n, step, k):
        """InfoGAN's codes c ~ U{0..K-1} for critic step ``k`` of ``step``."""
        c = np.random.default_rng([self.cfg.seed, 3, step, k]).integers(0, self.cfg.codes, n)
        return backend.asarray(c)

    @property
    def epoch(self):
        return self.step // self.steps_per_epoch

    # -- one step --------------------------------------------------------------
    def train_step(self):
        """One GAN step (``n_critic`` critic updates, one generator update) on
        the batches and noise of ``self.step``; returns its metrics."""
        cfg, n = self.cfg, self.cfg.n_critic
        reals, zs, labels, eps, codes, targets, noise = [], [], [], [], [], [], []
        for k in range(n):
            index = self.step * n + k
            reals.append(backend.asarray(self.batches.batch(index)))
            zs.append(self._noise(cfg.batch_size, "train", self.step, k))
            labels.append(backend.asarray(self.batches.labels_of(index))
                          if cfg.n_classes else None)
            eps.append(self._interpolation(self.step, k, reals[-1]) if cfg.gp_weight else None)
            codes.append(self._codes(cfg.batch_size, self.step, k) if cfg.codes else None)
            targets.append(self._targets(self.step, k))
            noise.append(self._instance_noise(self.step, k, reals[-1]))
        m = gan_step(self.G, self.D, self.opt_G, self.opt_D, reals, zs, game=self.game,
                     io=self.io, labels=labels, eps=eps, codes=codes, targets=targets,
                     noise=noise)
        for name, value in m.items():
            if not math.isfinite(value):
                raise TrainingDiverged(f"step {self.step}: {name} is {value}")
        if self.ema is not None:
            self._update_ema()
        self.step += 1
        return m

    def _update_ema(self):
        d = self.cfg.ema
        for (_, e, _), (_, g, _) in zip(self.ema.parameters(), self.G.parameters()):
            e *= d
            e += (1 - d) * g
        params = {n for n, _, _ in self.G.parameters()}
        ema_state = self.ema.state_dict()
        for k, v in self.G.state_dict().items():       # buffers (BatchNorm's running
            if k not in params and v.dtype.kind == "f":  # statistics) follow G exactly
                ema_state[k][...] = v

    # -- sampling --------------------------------------------------------------
    def sample(self, z=None, labels=None, codes=None):
        """Generator output for noise ``z`` (default: the fixed evaluation
        batch), in eval mode, from the EMA weights when EMA is on. The
        generator is back in train mode afterwards. A conditional generator
        draws the classes ``labels``, an InfoGAN the codes ``codes`` (default:
        the fixed grid's rows for the fixed noise, else 0, 1, ..., K-1, 0, 1,
        ...: a stratified draw from the uniform code)."""
        if z is None:
            z = self.fixed_z
            labels = self.fixed_labels if labels is None else labels
            codes = self.fixed_codes if codes is None else codes

        n = z.shape[0]

        def per_sample(v, default):
            v = np.asarray(backend.to_numpy(default if v is None else v), dtype=np.int64)
            return backend.asarray(np.full(n, int(v)) if v.ndim == 0 else v)

        labels = (per_sample(labels, np.arange(n) % N_CLASSES) if self.cfg.conditional else
                  per_sample(labels, self._cluster_labels(n)) if self.cfg.clusters else None)
        codes = per_sample(codes, np.arange(n) % self.cfg.codes) if self.cfg.codes else None
        net = self.ema if self.ema is not None else self.G
        net.eval()
        try:
            return net.forward(self.io.g_input(z, labels, codes))
        finally:
            net.train()

    # -- checkpoints -------------------------------------------------------------
    def state(self):
        arrays = {**checkpoint.prefixed("G", self.G.state_dict()),
                  **checkpoint.prefixed("D", self.D.state_dict()),
                  **checkpoint.prefixed("optG", self.opt_G.state_dict()),
                  **checkpoint.prefixed("optD", self.opt_D.state_dict())}
        if self.ema is not None:
            arrays.update(checkpoint.prefixed("EMA", self.ema.state_dict()))
        meta = {"config": self.cfg.to_dict(), "step": self.step, "epoch": self.epoch,
                "steps_per_epoch": self.steps_per_epoch, "elapsed": self.elapsed,
                "minigan": _version()}
        if self.cluster_sizes is not None:
            meta["cluster_sizes"] = self.cluster_sizes.tolist()
        return arrays, meta

    def save_checkpoint(self, path):
        arrays, meta = self.state()
        if not _finite({k: v for k, v in arrays.items() if not k.startswith("opt")}):
            raise TrainingDiverged(f"step {self.step}: the weights are not finite; "
                                   f"{path} was not overwritten")
        checkpoint.save(path, arrays, meta)

    def load_checkpoint(self, path):
        """Restore everything from ``path`` (made by a run of the same model)."""
        arrays, meta = checkpoint.load(path)
        saved = Config.from_dict(meta.get("config", {}))
        for key in ("model", "latent_dim", "image_size", "channels", "width", "dropout",
                    "dataset", "conditional", "codes", "clusters", "pack", "spectral_norm"):
            if getattr(saved, key) != getattr(self.cfg, key):
                raise checkpoint.CheckpointError(
                    f"{path}: checkpoint has {key}={getattr(saved, key)!r}, this run has "
                    f"{key}={getattr(self.cfg, key)!r}")
        if self.cluster_sizes is not None and \
                meta.get("cluster_sizes") != self.cluster_sizes.tolist():
            raise checkpoint.CheckpointError(
                f"{path}: the training data's {self.cfg.clusters} k-means clusters (sizes "
                f"{self.cluster_sizes.tolist()}) are not the checkpoint's "
                f"({meta.get('cluster_sizes')}): is it the same data set and --limit?")
        try:
            self.G.load_state_dict(checkpoint.split(arrays, "G"))
            self.D.load_state_dict(checkpoint.split(arrays, "D"))
            self.opt_G.load_state_dict(checkpoint.split(arrays, "optG"))
            self.opt_D.load_state_dict(checkpoint.split(arrays, "optD"))
            if self.ema is not None:
                ema = checkpoint.split(arrays, "EMA")
                self.ema.load_state_dict(ema or checkpoint.split(arrays, "G"))
        except ValueError as e:
            raise checkpoint.CheckpointError(f"{path}: {e}") from None
        self.step, self.elapsed = int(meta["step"]), float(meta.get("elapsed", 0.0))
        return meta

    @classmethod
    def from_checkpoint(cls, path, log=print, sampling_only=False, **overrides):
        """A trainer with the config and state stored in ``path`` (``overrides``
        change settings such as ``epochs`` or ``out``). ``sampling_only``: a
        trainer that can sample and be evaluated but not train, built from the
        checkpoint alone (no training data is read)."""
        _, meta = checkpoint.load(path)
        cfg = Config.from_dict({**meta["config"], **overrides})
        if sampling_only and cfg.clusters and "cluster_sizes" not in meta:
            sampling_only = False        # an older checkpoint: the clusters must be redone
        trainer = cls(cfg, log=log, sampling_only=meta if sampling_only else None)
        trainer.load_checkpoint(path)
        here = os.path.abspath(os.path.dirname(os.fspath(path)))
        trainer.claimed_folder = here == os.path.abspath(cfg.out)
        return trainer

    # -- the loop ----------------------------------------------------------------
    def paths(self):
        out = self.cfg.out
        return {"config": os.path.join(out, "config.json"), "log": os.path.join(out, "log.csv"),
                "samples": os.path.join(out, "samples"), "gif": os.path.join(out, "progress.gif"),
                "losses": os.path.join(out, "losses.png"),
                "metrics": os.path.join(out, "metrics.csv"),
                "metrics_plot": os.path.join(out, "metrics.png"),
                "checkpoint": os.path.join(out, "checkpoint.npz")}

    def _open_log(self):
        """The CSV log, trimmed to the rows before ``self.step`` (a resumed run
        rewrites what the interrupted one logged after its checkpoint)."""
        path = self.paths()["log"]
        rows = []
        if self.step and os.path.exists(path):
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) < self.step]
        f = open(path, "w", newline="")
        writer = csv.DictWriter(f, fieldnames=self.csv_fields)
        writer.writeheader()
        writer.writerows(rows)
        f.flush()
        return f, writer

    def claim_folder(self, overwrite=False):
        """Make ``cfg.out`` this run's folder. A folder holding another run is
        refused (:class:`RunExists`) unless ``overwrite``, which first removes
        the files minigan writes there (and nothing else)."""
        if self.claimed_folder:
            return
        if check_folder(self.cfg.out, overwrite):
            clear_run_files(self.cfg.out)
        self.claimed_folder = True

    def fit(self, epochs=None, progress=True, overwrite=False):
        """Train until ``epochs`` (default: the config's) are complete.

        A fresh trainer refuses to write into a folder that holds another run
        (``RunExists``) unless ``overwrite``; a trainer resumed from a
        checkpoint in its own folder goes on there."""
        cfg, paths = self.cfg, self.paths()
        epochs = epochs or cfg.epochs
        if self.step >= epochs * self.steps_per_epoch:
            return self                  # nothing to train: leave every file as it is
        self.claim_folder(overwrite)
        os.makedirs(paths["samples"], exist_ok=True)
        with open(paths["config"], "w") as f:
            json.dump(cfg.to_dict(), f, indent=1)
        spe = self.steps_per_epoch
        total = epochs * spe
        f, writer = self._open_log()
        self._tb = self._tensorboard()
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=total, initial=self.step, unit="step", dynamic_ncols=True)
        try:
            while self.step < total:
                t0 = time.perf_counter()
                epoch = self.epoch
                try:
                    m = self.train_step()
                except TrainingDiverged as e:
                    last = paths["checkpoint"]
                    keep = (f"the last good checkpoint is {last}" if os.path.exists(last)
                            else "no checkpoint had been written yet")
                    raise TrainingDiverged(f"{e}; training stopped, {keep}") from None
                self.elapsed += time.perf_counter() - t0
                writer.writerow({"step": self.step - 1, "epoch": epoch,
                                 **{k: f"{v:.6g}" for k, v in m.items()},
                                 "seconds": f"{self.elapsed:.3f}"})
                f.flush()                # a row on disk per step: the log can be watched
                if self._tb is not None:
                    for name, value in m.items():
                        self._tb.add_scalar(TB_TAGS.get(name, name), value, self.step - 1)
                if bar is not None:
                    bar.set_description(f"epoch {epoch + 1}/{epochs}")
                    bar.set_postfix(d=f"{m['d_loss']:.3f}", g=f"{m['g_loss']:.3f}")
                    bar.update(1)
                if self.step % spe == 0:
                    self.end_of_epoch()
        finally:
            f.close()
            if bar is not None:
                bar.close()
            if self._tb is not None:
                self._tb.close()
                self._tb = None
        return self

    def _tensorboard(self):
        """A tensorboardX writer into ``<out>/tb`` with --tensorboard, else None."""
        if not self.cfg.tensorboard:
            return None
        from tensorboardX import SummaryWriter
        return SummaryWriter(os.path.join(self.cfg.out, "tb"))

    def end_of_epoch(self):
        """Pictures and checkpoints after each epoch."""
        cfg, paths = self.cfg, self.paths()
        epoch = self.epoch
        frame = os.path.join(paths["samples"], f"epoch_{epoch:03d}.png")
        out = self.sample()
        if self.points:
            means = data.datasets.TOYS[cfg.dataset][0]()
            viz.save_points(frame, out, means, title=f"epoch {epoch}",
                            lim=1.5 if cfg.dataset == "ring" else 6)
        else:
            viz.save_grid(frame, out, nrow=self.grid_columns)
            if self._tb is not None:
                self._tb.add_image("samples", viz.image_grid(out, self.grid_columns), self.step,
                                   dataformats="HWC")
        frames = sorted(os.path.join(paths["samples"], p) for p in os.listdir(paths["samples"])
                        if p.startswith("epoch_") and p.endswith(".png"))
        viz.make_gif(paths["gif"], frames)
        self.plot_losses()
        if cfg.eval_every and epoch % cfg.eval_every == 0:
            row = self.evaluate_epoch(epoch)
            if self._tb is not None:
                for k, v in row.items():
                    if k not in ("epoch", "step"):
                        self._tb.add_scalar(f"scores/{k}", float(v), self.step)
        self.save_checkpoint(paths["checkpoint"])
        if cfg.checkpoint_every and epoch % cfg.checkpoint_every == 0:
            self.save_checkpoint(os.path.join(cfg.out, f"checkpoint_epoch_{epoch:03d}.npz"))

    def evaluate(self, n=None):
        """Scores of the generator (``metrics.evaluate``), a dict of floats."""
        from ..metrics.evaluate import Evaluator
        n = n or self.cfg.eval_samples
        try:
            if self._evaluator is None or self._evaluator.n != n:
                kind = self.cfg.dataset if self.points else "images"
                self._evaluator = Evaluator(kind, n, self.cfg.seed)
            out = self._evaluator.score(self.sample, self.cfg.latent_dim)
            if self.cfg.conditional:
                acc = self._evaluator.class_accuracy(self.sample, self.cfg.latent_dim,
                                                     N_CLASSES)
                out["class_accuracy"] = acc["class_accuracy"]
            for what in ("code", "cluster"):
                if getattr(self.cfg, what + "s") and not self.points:
                    pure = self.purity(self._evaluator, what)
                    out.update({f"{what}_purity": pure["code_purity"],
                                f"{what}_classes": pure["code_classes"]})
            return out
        finally:
            workspace.clear()      # scratch of shapes that training will not use again

    def purity(self, evaluator, what):
        """``evaluator.code_purity`` of InfoGAN's codes (``what="code"``) or of
        the clusters (``"cluster"``): each one's majority digit and its share."""
        K = self.cfg.codes if what == "code" else self.cfg.clusters
        key = "codes" if what == "code" else "labels"
        return evaluator.code_purity(lambda z, c: self.sample(z, **{key: c}),
                                     self.cfg.latent_dim, K)

    def evaluate_epoch(self, epoch):
        """Append this epoch's scores to metrics.csv and plot them."""
        paths = self.paths()
        row = {"epoch": epoch, "step": self.step, **self.evaluate()}
        rows = []
        if os.path.exists(paths["metrics"]):
            with open(paths["metrics"], newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["epoch"]) < epoch]
        rows.append(row)
        with open(paths["metrics"], "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            writer.writeheader()
            writer.writerows(rows)
        key = "modes_captured" if self.points else "fid"
        viz.plot_metric(paths["metrics_plot"], [int(r["epoch"]) for r in rows],
                        [float(r[key]) for r in rows], key)
        return row

    def plot_losses(self):
        paths = self.paths()
        with open(paths["log"], newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows:
            return
        col = {k: [float(r[k]) for r in rows] for k in self.CSV_FIELDS}
        viz.plot_losses(paths["losses"], col["step"], col["d_loss"], col["g_loss"],
                        col["d_real"], col["d_fake"],
                        probabilities=self.cfg.loss in objectives.BCE)


def _version():
    from .. import __version__
    return __version__
