"""A run's settings: :class:`Config`, the one place where every default lives.

``Config()`` is the run ``minigan train`` makes without flags, and
``Config(**flags)`` the run it makes with them: the CLI passes on only the
flags it was given, and :meth:`Config.validate` fills in every setting left
as ``None`` from, in this order, the model's defaults (``MODEL_DEFAULTS``),
the objective's (``OBJECTIVE_DEFAULTS``) and the rules that depend on other
settings (the k-means clusters of the default DCGAN, the grid size of a
conditional GAN, D's Dropout, pacgan-mlp's simultaneous updates). A config
saved in a checkpoint has every setting filled in, so a resumed run never
depends on the defaults of a later version.
"""

import dataclasses
import math

from .. import data
from . import models, objectives

DATASETS = ("mnist", "mnist-full", "fashion", "folder", "ring", "grid")
DATASET_ALIASES = {"fashion-mnist": "fashion"}
LABELLED = ("mnist", "mnist-full", "fashion")
DIGITS = ("mnist", "mnist-full")
N_CLASSES = 10

# The default model is the DCGAN conditioned on 20 k-means clusters of the
# digits (no labels used): the self-conditioned GAN of Liu et al., "Diverse
# Image Generation via Self-Conditioned GANs", CVPR 2020. It is chosen where
# the model is a dcgan on the digits and nothing else gives G a class or code.
DIGIT_CLUSTERS = 20

# Per model: the data set, length, batch and EMA it trains with by default.
# The toy model's are the 2D tutorials'; pacgan-mlp's the PacGAN paper's
# (Adam 1e-4, beta1 0.8, 400 epochs of batches of 100 packs, no EMA, D and G
# updated simultaneously as in the authors' runs, and G's BatchNorm as the
# Blocks library their G was built with keeps it: epsilon 1e-4, population
# statistics that average each batch's standard deviation, refreshed by 50
# forward passes at the end of each epoch as their monitoring pass does),
# scored every 10 epochs. Every other BatchNorm is PyTorch's (epsilon 1e-5,
# running variance, no refresh).
MODEL_DEFAULTS = {
    "dcgan": dict(dataset="mnist", epochs=12, batch_size=32, ema=0.995),
    "mlp": dict(dataset="mnist", epochs=12, batch_size=32, ema=0.995),
    "toy": dict(dataset="ring", epochs=30, batch_size=256, ema=0.0),
    "pacgan-mlp": dict(dataset="ring", epochs=400, batch_size=100, ema=0.0, lr=1e-4, beta1=0.8,
                       eval_every=10, bn_eps=1e-4, bn_stats="std", bn_refresh=50),
}
UPDATES = ("alternating", "simultaneous")
REAL_PACKS = ("fresh", "fixed")
BATCHNORM_DEFAULTS = dict(bn_eps=1e-5, bn_stats="var", bn_refresh=0)   # PyTorch's

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
    """The settings a model trains with unless told otherwise (a packed
    pacgan-mlp's batch is 100 packs of ``pack`` samples)."""
    d = dict(MODEL_DEFAULTS[model])
    for k, v in BATCHNORM_DEFAULTS.items():
        d.setdefault(k, v)
    if model == "pacgan-mlp":
        d["batch_size"] = 100 * pack
    return d


@dataclasses.dataclass
class Config:
    """The settings of a run (saved as ``config.json`` and in checkpoints)."""
    model: str = "dcgan"
    dataset: str = None             # None: the model's (MODEL_DEFAULTS)
    data_dir: str = None
    download: bool = False
    limit: int = None               # use only the first N samples (tests, quick looks)
    epochs: int = None              # None: the model's
    batch_size: int = None          # None: the model's
    lr: float = None                # None: the model's, else the objective's
    beta1: float = None
    beta2: float = None
    loss: str = "non-saturating"
    label_smoothing: float = 0.0    # real label = 1 - label_smoothing (one-sided)
    label_noise: float = 0.0        # D's targets moved towards the other side by A * U(0, 1)
    label_flip: float = 0.0         # share of D's targets swapped (t -> 1 - t) per step
    instance_noise: float = 0.0     # sigma of Gaussian noise on D's inputs, annealed to 0
    tensorboard: bool = False       # also write TensorBoard logs to <out>/tb/
    n_critic: int = None            # critic steps per generator step (wgan*: 5)
    updates: str = None             # "alternating" (D, then G against the new D) or
                                    # "simultaneous" (both gradients at the same weights).
                                    # None: the model's (pacgan-mlp: simultaneous)
    clip: float = None              # WGAN weight clipping (wgan: 0.01)
    gp_weight: float = None         # WGAN-GP penalty weight (wgan-gp: 10)
    spectral_norm: bool = False     # spectral normalization of D's Dense/Conv2D weights
    sn_per_piece: bool = False      # ... each maxout piece by its own norm (pacgan-mlp)
    pack: int = 1                   # PacGAN: D judges `pack` samples at once
    real_packs: str = "fresh"       # "fresh": new packs of the data every epoch; "fixed":
                                    # the PacGAN authors' bootstrapped packs (data.Batches)
    conditional: bool = False       # class-conditional G and D (labelled datasets)
    codes: int = 0                  # InfoGAN: a categorical latent code of this many values
    clusters: int = None            # condition G and D on k-means clusters of the training
                                    # data (no labels used); 0 = off. None: 20 for the dcgan
                                    # on the digits without --conditional or --codes, else 0
    info_weight: float = 1.0        # InfoGAN: weight of the code-prediction loss
    ema: float = None               # EMA decay of G's weights for samples; 0 = off. None:
                                    # the model's (0.995; the 2D models: 0)
    seed: int = 0
    backend: str = "numba"
    latent_dim: int = 100
    image_size: int = 28
    channels: int = 1
    width: int = 64                 # dcgan: channels of D's first conv (G's last block)
    dropout: float = None           # dcgan: Dropout after each of D's conv blocks. None:
                                    # 0.3 (the TF tutorial's) with clusters (the default
                                    # dcgan), else 0 (each measured best for its model)
    out: str = None                 # None: runs/<model>-<dataset>
    checkpoint_every: int = 0       # also keep checkpoint_epoch_NNN.npz every K epochs
    samples: int = None             # size of the fixed sample grid's noise batch. None: 64,
                                    # 100 for a conditional GAN (a row per class)
    bn_eps: float = None            # G's BatchNorm: epsilon; population statistics
    bn_stats: str = None            # "var" (PyTorch's) or "std" (Blocks'); forward passes
    bn_refresh: int = None          # that refresh them after each epoch. None: the model's
                                    # (pacgan-mlp 1e-4, "std", 50; the others 1e-5, "var", 0)
    eval_every: int = None          # score G every K epochs (metrics.csv); None: every
                                    # epoch where the data can be scored, else never
    eval_samples: int = 2000        # samples per evaluation

    def validate(self):
        """Check every setting (before anything is read or written) and fill
        in the defaults that depend on others. Returns self."""
        self._check_numbers()
        if self.model not in models.MODELS:
            raise ValueError(f"unknown model {self.model!r}: expected one of "
                             f"{', '.join(models.MODELS)}")
        for name, value in model_defaults(self.model, self.pack or 1).items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        self.dataset = DATASET_ALIASES.get(self.dataset, self.dataset)
        if self.out is None:
            self.out = f"runs/{self.model}-{self.dataset}"
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
        objectives.get(self.loss)
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
        if self.bn_stats not in ("var", "std") or not self.bn_eps > 0:
            raise ValueError(f"expected bn_stats 'var' or 'std' and bn_eps > 0, got "
                             f"{self.bn_stats!r} and {self.bn_eps}")
        if self.updates is None:     # the PacGAN authors' rule for their model, where it fits
            paper = self.model == "pacgan-mlp" and self.n_critic == 1
            self.updates = "simultaneous" if paper else "alternating"
        if self.updates not in UPDATES:
            raise ValueError(f"--updates must be one of {', '.join(UPDATES)}, got "
                             f"{self.updates!r}")
        if self.updates == "simultaneous" and self.n_critic != 1:
            raise ValueError(f"--updates simultaneous takes one critic step per generator step, "
                             f"got --n-critic {self.n_critic}")
        if self.pack < 1 or self.batch_size % self.pack:
            raise ValueError(f"--pack {self.pack}: the batch size ({self.batch_size}) must be a "
                             f"multiple of the pack size (at least 1)")
        if self.real_packs not in REAL_PACKS:
            raise ValueError(f"--real-packs must be one of {', '.join(REAL_PACKS)}, got "
                             f"{self.real_packs!r}")
        if self.conditional and self.dataset not in LABELLED:
            raise ValueError(f"--conditional needs a labelled dataset ({', '.join(LABELLED)}), "
                             f"got {self.dataset!r}")
        if self.sn_per_piece and not (self.spectral_norm and self.model == "pacgan-mlp"):
            raise ValueError(f"--sn-per-piece normalizes the maxout pieces of pacgan-mlp's D: "
                             f"it needs --spectral-norm and --model pacgan-mlp, got "
                             f"--model {self.model}"
                             f"{' --spectral-norm' if self.spectral_norm else ''}")
        if not 0 <= self.label_smoothing < 0.5:
            raise ValueError(f"--label-smoothing must be in [0, 0.5), got {self.label_smoothing}")
        self._check_habits()
        if self.clusters is None:
            self_conditioned = (self.model == "dcgan" and self.dataset in DIGITS and
                                not self.conditional and not self.codes)
            self.clusters = DIGIT_CLUSTERS if self_conditioned else 0
        if self.samples is None:
            self.samples = 100 if self.conditional else 64     # 10 x 10: a row per class
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
        def flag(name):             # the settings without a CLI flag go by their own name
            return name if name.startswith("bn_") else "--" + name.replace("_", "-")
        for name in ("lr", "beta1", "beta2", "clip", "gp_weight", "info_weight",
                     "label_smoothing", "label_noise", "label_flip", "instance_noise", "ema",
                     "dropout", "bn_eps"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise ValueError(f"{flag(name)} must be a finite number, got {v}")
        for name in ("beta1", "beta2"):
            v = getattr(self, name)
            if v is not None and not 0 <= v < 1:
                raise ValueError(f"{flag(name)} must be in [0, 1), got {v}")
        for name, low in (("limit", 1), ("seed", 0), ("checkpoint_every", 0),
                          ("eval_every", 0), ("eval_samples", 2), ("bn_refresh", 0)):
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
    def fixed_packs(self):
        """The pack size of the authors' fixed real packs; 0 for fresh packs."""
        return self.pack if self.real_packs == "fixed" else 0

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
        d.setdefault("clusters", 0)  # nor clusters
        d.setdefault("updates", "alternating")  # nor simultaneous updates
        for k, v in BATCHNORM_DEFAULTS.items():    # every BatchNorm was PyTorch's
            d.setdefault(k, v)
        return cls(**d)
