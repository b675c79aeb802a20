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

What a run writes into its folder is :mod:`minigan.gan.run_files`.
"""

import json
import math
import os
import time

import numpy as np

from .. import backend, checkpoint, data, optim
from ..data.training import load_training_data
from . import models, run_files
from .config import N_CLASSES, Config
from .inputs import Inputs
from .models import build_for_config as build_models
from .randomness import Draws
from .step import Game, gan_step


class TrainingDiverged(RuntimeError):
    """A loss or D output became NaN or infinite."""


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
        self.tb_writer = None            # the TensorBoard writer while fit() runs
        self.loss_log = None             # log.csv and the plotted losses while fit() runs
        self.target_epochs = 0           # the epochs that fit() trains to
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
                                        labels if cfg.n_classes else None, cfg.fixed_packs)
            self.steps_per_epoch = max(1, self.batches.steps_per_epoch // cfg.n_critic)
        self.G, self.D = build_models(cfg)
        self.game = Game(loss=cfg.loss, real_label=1.0 - cfg.label_smoothing,
                         n_critic=cfg.n_critic, clip=cfg.clip, gp_weight=cfg.gp_weight,
                         info_weight=cfg.info_weight,
                         simultaneous=cfg.updates == "simultaneous")
        self.io = Inputs(cfg.n_classes, cfg.pack, spatial=cfg.model == "dcgan", codes=cfg.codes)
        self.csv_fields = self.CSV_FIELDS + (("info_loss",) if cfg.codes else ())
        self.opt_G = self._optimizer(self.G)
        self.opt_D = self._optimizer(self.D)
        self.ema = None
        if cfg.ema:
            self.ema, _ = build_models(cfg, generator_only=True)
            self.ema.load_state_dict(self.G.state_dict())
        self.random = Draws(cfg, self.steps_per_epoch)
        self.fixed_z = self.random.noise(cfg.samples, "fixed")
        # a conditional grid has one row per class, an InfoGAN's one per code; a
        # clustered GAN's grid draws the clusters in proportion to their sizes
        self.fixed_labels = (self._rows(N_CLASSES) if cfg.conditional else
                             self._cluster_labels(cfg.samples) if cfg.clusters else None)
        self.fixed_codes = self._rows(cfg.codes) if cfg.codes else None
        self.evaluator = None            # the scorer (metrics.evaluate), made on first use
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

    def independent_inputs(self, n, rng):
        """Classes, clusters and codes for ``n`` samples, each drawn on its own
        from its distribution (classes and codes uniform, clusters in
        proportion to their sizes) by the numpy Generator ``rng``; None where
        G takes none. Pass them to :meth:`sample`. Its default draw is
        stratified, which takes the draw's noise out of a histogram score
        (reverse KL of the modes): a table that compares such a G with one
        that has only Gaussian noise draws both independently."""
        labels = codes = None
        if self.cfg.conditional:
            labels = rng.integers(N_CLASSES, size=n)
        elif self.cfg.clusters:
            labels = rng.choice(self.cfg.clusters, size=n,
                                p=self.cluster_sizes / self.cluster_sizes.sum())
        if self.cfg.codes:
            codes = rng.integers(self.cfg.codes, size=n)
        return labels, codes

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
            zs.append(self.random.noise(cfg.batch_size, "train", self.step, k))
            labels.append(backend.asarray(self.batches.labels_of(index))
                          if cfg.n_classes else None)
            eps.append(self.random.interpolation(self.step, k, reals[-1]) if cfg.gp_weight
                       else None)
            codes.append(self.random.codes(cfg.batch_size, self.step, k) if cfg.codes else None)
            targets.append(self.random.targets(self.step, k))
            noise.append(self.random.instance_noise(self.step, k, reals[-1]))
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

        net = self.ema if self.ema is not None else self.G
        net.eval()
        try:
            return net.forward(self._g_input(z, labels, codes))
        finally:
            net.train()

    def _g_input(self, z, labels=None, codes=None):
        """G's input for noise ``z``: with the classes or codes given, else a
        stratified draw of them (see :meth:`sample`)."""
        n = z.shape[0]

        def per_sample(v, default):
            v = np.asarray(backend.to_numpy(default if v is None else v), dtype=np.int64)
            return backend.asarray(np.full(n, int(v)) if v.ndim == 0 else v)

        labels = (per_sample(labels, np.arange(n) % N_CLASSES) if self.cfg.conditional else
                  per_sample(labels, self._cluster_labels(n)) if self.cfg.clusters else None)
        codes = per_sample(codes, np.arange(n) % self.cfg.codes) if self.cfg.codes else None
        return self.io.g_input(z, labels, codes)

    def refresh_batchnorm(self):
        """``bn_refresh`` forward passes of fresh noise (a batch each) through
        the generator that samples, in training mode, so that its BatchNorm
        population statistics come from the epoch's final weights, as the
        PacGAN authors' per-epoch monitoring pass does. Weights, optimizers
        and the training draws are untouched, so training is the same with or
        without it; only what G samples with changes."""
        net = self.ema if self.ema is not None else self.G
        for k in range(self.cfg.bn_refresh):
            z = self.random.noise(self.cfg.batch_size, "refresh", self.epoch, k)
            net.forward(self._g_input(z))

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
                    "dataset", "conditional", "codes", "clusters", "pack", "spectral_norm",
                    "sn_per_piece"):
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
        return run_files.paths(self.cfg.out)

    def claim_folder(self, overwrite=False):
        """Make ``cfg.out`` this run's folder. A folder holding another run is
        refused (:class:`RunExists`) unless ``overwrite``, which first removes
        the files minigan writes there (and nothing else)."""
        if self.claimed_folder:
            return
        if run_files.check_folder(self.cfg.out, overwrite):
            run_files.clear_run_files(self.cfg.out)
        self.claimed_folder = True

    def fit(self, epochs=None, progress=True, overwrite=False):
        """Train until ``epochs`` (default: the config's) are complete.

        A fresh trainer refuses to write into a folder that holds another run
        (``RunExists``) unless ``overwrite``; a trainer resumed from a
        checkpoint in its own folder goes on there. A folder that another
        process trains into now is refused in both cases (``RunInUse``)."""
        epochs = epochs or self.cfg.epochs
        if self.step >= epochs * self.steps_per_epoch:
            return self                  # nothing to train: leave every file as it is
        lock = run_files.lock_folder(self.cfg.out)
        try:
            return self._fit(epochs, progress, overwrite)
        finally:
            if lock is not None:
                lock.close()             # the folder is free again

    def _fit(self, epochs, progress, overwrite):
        cfg, paths = self.cfg, self.paths()
        self.claim_folder(overwrite)
        os.makedirs(paths["samples"], exist_ok=True)
        with open(paths["config"], "w") as f:
            json.dump(cfg.to_dict(), f, indent=1)
        spe = self.steps_per_epoch
        total = epochs * spe
        self.target_epochs = epochs
        self.loss_log = log = run_files.LossLog(paths["log"], self.csv_fields, self.step)
        self.tb_writer = run_files.tensorboard(cfg.out, cfg.tensorboard)
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
                log.write({"step": self.step - 1, "epoch": epoch,
                           **{k: f"{v:.6g}" for k, v in m.items()},
                           "seconds": f"{self.elapsed:.3f}"})
                if self.tb_writer is not None:
                    for name, value in m.items():
                        self.tb_writer.add_scalar(run_files.TB_TAGS.get(name, name), value,
                                                  self.step - 1)
                if bar is not None:
                    bar.set_description(f"epoch {epoch + 1}/{epochs}")
                    bar.set_postfix(d=f"{m['d_loss']:.3f}", g=f"{m['g_loss']:.3f}")
                    bar.update(1)
                if self.step % spe == 0:
                    self.end_of_epoch()
        finally:
            log.close()
            if bar is not None:
                bar.close()
            if self.tb_writer is not None:
                self.tb_writer.close()
                self.tb_writer = None
        return self

    def end_of_epoch(self):
        """BatchNorm's statistics refreshed (``bn_refresh``), then pictures,
        scores and checkpoints after each epoch (:mod:`.run_files`)."""
        if self.cfg.bn_refresh:
            self.refresh_batchnorm()
        run_files.end_of_epoch(self)

    def evaluate(self, n=None):
        """Scores of the generator (``metrics.evaluate``), a dict of floats."""
        return run_files.score(self, n)


def _version():
    from .. import __version__
    return __version__
