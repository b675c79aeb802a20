"""The ``minigan`` command (also ``python -m minigan``).

Subcommands:

``minigan train``       train a GAN (default: DCGAN on the bundled MNIST digits)
``minigan sample CKPT`` a grid PNG (or raw .npy samples) from a checkpoint
``minigan evaluate CKPT`` classifier FID / IS / coverage (or 2D mode metrics)
``minigan gradcheck``   gradient-check every layer and loss, print the table

Bad flags, missing files and unknown data sets print one line on stderr and
exit with status 2, without a traceback.
"""

import argparse
import os
import sys
import time

import numpy as np


def one_line(text):
    """``text`` with every unprintable character (a newline in a file name, say)
    escaped, so that an error message stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line, exit status 2."""

    def error(self, message):
        sys.stderr.write(f"minigan: error: {one_line(message)} (see minigan --help)\n")
        sys.exit(2)


def cmd_gradcheck(args):
    from minigan import backend
    backend.set_backend(args.backend)
    worst = 0.0
    print(f"gradient check, float64, central differences, backend {args.backend}")
    from minigan.gradcheck import table
    for name, errors in table(args.seed):
        cells = "  ".join(f"{k}={v:.1e}" for k, v in errors.items())
        print(f"  {name:<42} {cells}")
        worst = max(worst, *errors.values())
    print(f"worst relative error: {worst:.2e} ({'ok' if worst <= 1e-6 else 'FAILED'})")
    return 0 if worst <= 1e-6 else 1


# Config fields that `minigan train` sets from flags of the same name.
TRAIN_FLAGS = ("model", "dataset", "data_dir", "limit", "epochs", "batch_size", "lr", "beta1",
               "beta2", "loss", "label_smoothing", "ema", "seed", "backend", "image_size",
               "channels", "checkpoint_every", "eval_every", "n_critic", "clip", "gp_weight",
               "pack", "width", "dropout", "codes", "info_weight", "clusters", "spectral_norm",
               "sn_per_piece", "conditional", "label_noise", "label_flip", "instance_noise",
               "tensorboard", "updates", "real_packs")
# What --resume may change: where and how long it runs, how often it reports,
# and the backend (which changes only rounding). Everything else is the run.
RESUME_MAY_CHANGE = ("epochs", "checkpoint_every", "eval_every", "backend", "tensorboard")


def _given_flags(args):
    """The training flags given on the command line, as Config fields."""
    given = {k: getattr(args, k) for k in TRAIN_FLAGS if getattr(args, k) is not None}
    for k in ("spectral_norm", "sn_per_piece", "conditional", "tensorboard"):  # store_true
        if not given.get(k):
            given.pop(k, None)
    return given


def _resume(args):
    """A trainer resumed from ``args.resume``; a flag that contradicts the
    checkpoint's settings is refused, naming both values."""
    from minigan import checkpoint
    from minigan.gan.config import DATASET_ALIASES, Config
    from minigan.gan.trainer import Trainer
    _, meta = checkpoint.load(args.resume)
    saved = Config.from_dict(meta.get("config", {})).validate()
    given = _given_flags(args)
    if "dataset" in given:
        given["dataset"] = DATASET_ALIASES.get(given["dataset"], given["dataset"])
    for k, v in given.items():
        if k not in RESUME_MAY_CHANGE and v != getattr(saved, k):
            raise ValueError(
                f"--{k.replace('_', '-')} {v} contradicts the checkpoint {args.resume}, which "
                f"has {k}={getattr(saved, k)!r}; --resume continues a run with its own settings "
                f"(only {', '.join('--' + f.replace('_', '-') for f in RESUME_MAY_CHANGE)} "
                f"and --out may change)")
    overrides = {k: given[k] for k in RESUME_MAY_CHANGE if k in given}
    # the run goes on in the checkpoint's own folder (not the folder named
    # in its config: a moved run must not write into another run's files)
    overrides["out"] = args.out or os.path.dirname(os.path.abspath(args.resume))
    return Trainer.from_checkpoint(args.resume, **overrides)


def _numba_cache_is_cold(name):
    """Whether the Numba kernels will compile on this run (no on-disk cache yet)."""
    if name != "numba":
        return False
    try:
        from minigan.kernels import numba_cpu
        cache = numba_cpu._im2col.parallel._cache._cache_path   # Numba's index files' folder
        return not any(f.endswith(".nbi") for f in os.listdir(cache))
    except (AttributeError, OSError):
        return False


def train_config(args):
    """The run's :class:`~minigan.gan.config.Config`: the flags given, every
    other setting the config's own default (so ``minigan train`` and
    ``Config()`` train the same model)."""
    from minigan.gan.config import Config
    given = _given_flags(args)
    if args.download:
        given["download"] = True
    if args.out or args.name:
        given["out"] = args.out or os.path.join("runs", args.name)
    return Config(**given).validate()


def cmd_train(args):
    from minigan.gan.run_files import check_folder
    from minigan.gan.trainer import Trainer
    if args.resume:
        trainer = _resume(args)
        print(f"resumed {args.resume} at step {trainer.step} (epoch {trainer.epoch})")
        if trainer.epoch >= trainer.cfg.epochs:
            print(f"the run is already at epoch {trainer.epoch}, at or past --epochs "
                  f"{trainer.cfg.epochs}: nothing to train, no file changed (ask for more "
                  f"with --epochs N)")
            return 0
    else:
        cfg = train_config(args)
        check_folder(cfg.out, args.overwrite)    # another run there: refused before any work
        trainer = Trainer(cfg)
    cfg = trainer.cfg
    fixed = f" in fixed packs of {cfg.fixed_packs}" if cfg.fixed_packs else ""
    print(f"training {cfg.model} on {cfg.dataset} ({len(trainer.batches.data)} samples{fixed}, "
          f"batch {cfg.batch_size}, {cfg.epochs} epochs, backend {cfg.backend}) -> {cfg.out}")
    if _numba_cache_is_cold(cfg.backend):
        print("compiling kernels (first run only, about 10-30 s)...", flush=True)
    t = time.perf_counter()
    try:
        trainer.fit(progress=not args.no_progress, overwrite=args.overwrite)
    except KeyboardInterrupt:
        ckpt = trainer.paths()["checkpoint"]
        how = (f"resume from its last checkpoint with: minigan train --resume {ckpt}"
               if os.path.exists(ckpt) else "no checkpoint had been written yet (one is "
               "written after each epoch)")
        sys.stderr.write(one_line(f"minigan train: interrupted at step {trainer.step}; {how}")
                         + "\n")
        return 130
    p = trainer.paths()
    seconds = time.perf_counter() - t
    speed = "" if cfg.backend == "cupy" else f" (this CPU's float32 matmul: " \
        f"{matmul_gflops():.0f} GFLOP/s)"
    print(f"done in {seconds:.0f} s{speed}: samples in {p['samples']}, "
          f"animation {p['gif']}, losses {p['losses']}, log {p['log']}, "
          f"checkpoint {p['checkpoint']}")
    return 0


def matmul_gflops(n=1024, reps=5):
    """The machine's float32 matrix-product speed in GFLOP/s (the best of
    ``reps`` n x n products): printed with a run's wall time, so that times
    from different machines can be read side by side."""
    rng = np.random.default_rng(0)
    a, b = (rng.random((n, n), dtype=np.float32) for _ in range(2))
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(reps))
    return 2 * n ** 3 / best / 1e9


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _sampler(args):
    """A trainer that samples from ``args.checkpoint`` (no training data read)."""
    from minigan.gan.trainer import Trainer
    return Trainer.from_checkpoint(args.checkpoint, log=lambda *a: None, sampling_only=True,
                                   **({"backend": args.backend} if args.backend else {}))


SAMPLE_FORMATS = (".png", ".npy")


def cmd_sample(args):
    from minigan import backend, viz
    if args.n < 1:
        raise ValueError(f"--n must be at least 1, got {args.n}")
    if args.out and not args.out.lower().endswith(SAMPLE_FORMATS):
        raise ValueError(f"--out {args.out}: expected a .png (a grid) or .npy (raw samples) "
                         f"path")
    trainer = _sampler(args)
    z = np.random.default_rng(args.seed).standard_normal((args.n, trainer.cfg.latent_dim))
    labels, nrow = None, None
    if args.digit is not None:
        if not trainer.cfg.conditional:
            raise ValueError(f"{args.checkpoint} is not a conditional model; --digit needs one "
                             f"trained with --conditional")
        if not 0 <= args.digit < 10:
            raise ValueError(f"--digit must be a class from 0 to 9, got {args.digit}")
        labels = np.full(args.n, args.digit)
    elif trainer.cfg.conditional:
        per = max(1, args.n // 10)                  # one row per class
        labels, nrow = np.minimum(np.arange(args.n) // per, 9), per
    if args.cluster is not None:                     # (default: clusters in proportion)
        labels = _all_of(args, "cluster", trainer.cfg.clusters, "has no clusters",
                         "--clusters K")
    codes, K = None, trainer.cfg.codes
    if args.code is not None:
        codes = _all_of(args, "code", K, "has no InfoGAN code", "--codes K")
    elif K:
        per = max(1, args.n // K)                   # one row per code
        codes, nrow = np.minimum(np.arange(args.n) // per, K - 1), per
    out = backend.to_numpy(trainer.sample(backend.asarray(z.astype(np.float32)), labels,
                                          codes))
    path = args.out or _unused(os.path.splitext(args.checkpoint)[0] + "_samples", ".png")
    if path.lower().endswith(".npy"):
        np.save(path, out)
    elif trainer.points:
        viz.save_points(path, out)
    else:
        viz.save_grid(path, out, nrow=nrow)
    what = (f" of digit {args.digit}" if args.digit is not None else
            f" of code {args.code}" if args.code is not None else
            f" of cluster {args.cluster}" if args.cluster is not None else "")
    print(f"wrote {args.n} samples{what} to {path}")
    return 0


def _unused(stem, ext):
    """``stem + ext``, or the first of ``stem_2 + ext``, ``stem_3 + ext``, ...
    that does not exist: a default output never replaces an earlier one."""
    path, k = stem + ext, 1
    while os.path.exists(path):
        k += 1
        path = f"{stem}_{k}{ext}"
    return path


def _all_of(args, flag, K, lacks, trained_with):
    """``args.n`` copies of the ``--flag`` value, checked to be in [0, K)."""
    value = getattr(args, flag)
    if not K:
        raise ValueError(f"{args.checkpoint} {lacks}; --{flag} needs a model trained with "
                         f"{trained_with}")
    if not 0 <= value < K:
        raise ValueError(f"--{flag} must be from 0 to {K - 1}, got {value}")
    return np.full(args.n, value)


def cmd_evaluate(args):
    from minigan.gan import run_files
    from minigan.metrics.evaluate import Evaluator
    if args.n < 2:
        raise ValueError(f"--n must be at least 2 (the scores compare distributions), got "
                         f"{args.n}")
    trainer = _sampler(args)
    cfg = trainer.cfg
    kind = cfg.dataset if trainer.points else "images"
    if kind == "images" and (cfg.image_size, cfg.channels) != (28, 1):
        raise ValueError(f"the evaluator scores 28x28 grayscale digits; this model makes "
                         f"{cfg.image_size}x{cfg.image_size}x{cfg.channels} images")
    ev = Evaluator(kind, args.n, args.seed)
    gen, ref = ev.score(trainer.sample, cfg.latent_dim), ev.reference()
    print(f"{args.checkpoint}: step {trainer.step}, {args.n} generated samples vs "
          f"{'real digits' if kind == 'images' else 'the mixture'}")
    print(f"  {'score':<20}{'generated':>12}{'real':>12}")
    for k in gen:
        print(f"  {k:<20}{gen[k]:>12.4g}{ref[k]:>12.4g}")
    if kind == "images" and gen["classes_covered"] < ref["classes_covered"]:
        print(f"  note: only {gen['classes_covered']:.0f} of {ref['classes_covered']:.0f} "
              f"classes are covered; the confident share rewards a collapsed generator, so "
              f"read it beside classes_covered and kl_uniform")
    if cfg.conditional:
        acc = ev.class_accuracy(trainer.sample, cfg.latent_dim)
        print(f"  conditional: share of samples classified as the digit asked for "
              f"({args.n // 10} per digit): mean {acc['class_accuracy']:.4f}")
        print("  " + "  ".join(f"{d}:{a:.3f}" for d, a in enumerate(acc["per_class"])))
    for title, what, K in (("InfoGAN code", "code", cfg.codes),
                           ("cluster", "cluster", cfg.clusters)):
        if K and not trainer.points:
            pure = run_files.purity(trainer, ev, what)
            print(f"  {title}: share of each {what}'s samples in its majority digit "
                  f"({args.n // K} per {what}): mean {pure['code_purity']:.4f}, "
                  f"{pure['code_classes']} distinct digits")
            print("  " + "  ".join(f"{k}->{d}:{s:.3f}"
                                   for k, (d, s) in enumerate(pure["per_code"])))
    return 0


def build_parser():
    from minigan.gan.models import MODELS
    from minigan.gan.objectives import OBJECTIVES
    from minigan.gan.config import DATASET_ALIASES, DATASETS, MODEL_DEFAULTS

    def per_model(key, note=""):
        return "default: " + ", ".join(f"{m} {d[key]}" for m, d in MODEL_DEFAULTS.items()) + note
    parser = _Parser(prog="minigan", description="GANs built from nothing: NumPy, Numba, CuPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("train", help="train a GAN (default: DCGAN on the bundled MNIST digits)")
    p.add_argument("--model", choices=MODELS,
                   help="default dcgan; toy and pacgan-mlp (the PacGAN paper's 2D model) for ring "
                        "and grid")
    p.add_argument("--dataset", choices=DATASETS, type=lambda s: DATASET_ALIASES.get(s, s),
                   help="mnist (bundled 10k digits, default), mnist-full (60k, --download), "
                        "fashion (or fashion-mnist), folder (--data-dir), ring, grid (2D, with "
                        "--model toy)")
    p.add_argument("--data-dir", help="folder of Fashion-MNIST files or of your own images")
    p.add_argument("--download", action="store_true", help="allow downloading the data set")
    p.add_argument("--limit", type=int, help="use only the first N samples")
    p.add_argument("--epochs", type=int, help=per_model("epochs"))
    p.add_argument("--batch-size", type=int,
                   help=per_model("batch_size", " (pacgan-mlp: 100 packs of --pack samples)"))
    p.add_argument("--lr", type=float,
                   help="learning rate; default 2e-4 (wgan: 5e-5 RMSprop, wgan-gp and "
                        "pacgan-mlp: 1e-4)")
    p.add_argument("--beta1", type=float, help="Adam beta1, default 0.5 (pacgan-mlp: 0.8)")
    p.add_argument("--beta2", type=float, help="Adam beta2, default 0.999 (wgan-gp: 0.9)")
    p.add_argument("--loss", choices=OBJECTIVES,
                   help="default non-saturating; wgan (weight clipping, RMSprop), wgan-gp "
                        "(gradient penalty), hinge (pair it with --spectral-norm), relativistic "
                        "(the relativistic average GAN)")
    p.add_argument("--n-critic", type=int, help="critic steps per G step (default 1, wgan*: 5)")
    p.add_argument("--updates", choices=("alternating", "simultaneous"),
                   help="alternating: D's step, then G's against the new D (default); "
                        "simultaneous: both gradients at the same weights, as in the PacGAN "
                        "authors' runs (pacgan-mlp's default)")
    p.add_argument("--clip", type=float, help="WGAN weight clipping (default 0.01 for wgan)")
    p.add_argument("--gp-weight", type=float,
                   help="gradient penalty weight (wgan-gp: 10; 0.1 for the toy model)")
    p.add_argument("--spectral-norm", action="store_true",
                   help="spectral normalization of D's Dense and Conv2D weights")
    p.add_argument("--sn-per-piece", action="store_true",
                   help="with --spectral-norm on pacgan-mlp: normalize each maxout piece by "
                        "its own largest singular value (default: the layer's pieces share one)")
    p.add_argument("--pack", type=int, help="PacGAN: D judges this many samples at once")
    p.add_argument("--real-packs", choices=("fresh", "fixed"),
                   help="fresh: the training data packed anew every epoch (default); fixed: "
                        "the PacGAN authors' packs, each slot a bootstrap of the data, fixed "
                        "for the run and shuffled every epoch")
    p.add_argument("--width", type=int,
                   help="dcgan: channels of D's first conv, G's last block (default 64)")
    p.add_argument("--dropout", type=float,
                   help="dcgan: Dropout rate after D's conv blocks (default 0.3, the "
                        "TensorFlow tutorial's, with clusters as in the default model; 0 "
                        "without clusters or with a gradient penalty)")
    p.add_argument("--conditional", action="store_true",
                   help="class-conditional GAN on the dataset's labels (mnist, fashion)")
    p.add_argument("--codes", type=int, metavar="K",
                   help="InfoGAN: a categorical latent code of K values, predicted by D "
                        "(0: none)")
    p.add_argument("--clusters", type=int, metavar="K",
                   help="condition G and D on K k-means clusters of the training data (no "
                        "labels used); samples draw clusters in proportion to their sizes "
                        "(default 20 for the dcgan on mnist and mnist-full, else 0; 0 = the "
                        "plain GAN)")
    p.add_argument("--info-weight", type=float,
                   help="InfoGAN: weight of the code-prediction loss (default 1)")
    p.add_argument("--label-smoothing", type=float,
                   help="one-sided: real label = 1 - this (e.g. 0.1); default 0")
    p.add_argument("--label-noise", type=float, metavar="A",
                   help="BCE losses: move D's targets towards the other side by A*U(0,1) per "
                        "target (real 1 - s - A*u, fake A*v); default 0")
    p.add_argument("--label-flip", type=float, metavar="P",
                   help="BCE losses: swap a share P of D's targets (t -> 1 - t) each step; "
                        "default 0")
    p.add_argument("--instance-noise", type=float, metavar="SIGMA",
                   help="add N(0, sigma^2) noise to the real and fake inputs D sees, sigma "
                        "falling linearly from SIGMA to 0 over the run; default 0")
    p.add_argument("--tensorboard", action="store_true",
                   help="also write TensorBoard logs to OUT/tb (needs pip install "
                        "'minigan[tensorboard]')")
    p.add_argument("--ema", type=float,
                   help="EMA decay of G's weights for samples, 0 = off; " + per_model("ema"))
    p.add_argument("--seed", type=int, help="default 0")
    p.add_argument("--backend", choices=["numpy", "numba", "cupy"], help="default numba")
    p.add_argument("--image-size", type=int, choices=[28, 32, 64], help="default 28")
    p.add_argument("--channels", type=int, choices=[1, 3], help="default 1")
    p.add_argument("--checkpoint-every", type=int, metavar="K",
                   help="also keep a checkpoint every K epochs")
    p.add_argument("--name", help="run name: output in runs/NAME")
    p.add_argument("--out", help="output folder (overrides --name)")
    p.add_argument("--eval-every", type=int, metavar="K",
                   help="score the generator every K epochs into metrics.csv (default: every "
                        "epoch for MNIST digits and 2D mixtures; 0 = never)")
    p.add_argument("--resume", metavar="CHECKPOINT",
                   help="continue a run from its checkpoint, writing into the checkpoint's "
                        "folder (or --out); it keeps the checkpoint's settings: only --epochs, "
                        "--checkpoint-every, --eval-every, --backend and --tensorboard may "
                        "change, and any other flag that differs from the checkpoint is refused")
    p.add_argument("--overwrite", action="store_true",
                   help="start again in an output folder that holds another run (its run "
                        "files are removed first); without it such a folder is refused")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="samples from a checkpoint: a PNG grid or a .npy file")
    p.add_argument("checkpoint")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--digit", type=int,
                   help="conditional models: draw only this class (0-9); default one row "
                        "per class")
    p.add_argument("--code", type=int,
                   help="InfoGAN models: draw only this code; default one row per code")
    p.add_argument("--cluster", type=int,
                   help="models trained with --clusters: draw only this cluster; default "
                        "clusters in proportion to their sizes")
    p.add_argument("--out", help="PATH.png (grid) or PATH.npy (raw samples in [-1, 1]); "
                                 "default CHECKPOINT_samples.png beside the checkpoint, or "
                                 "_2, _3, ... where that exists")
    p.add_argument("--backend", choices=["numpy", "numba", "cupy"])
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("evaluate", help="score a checkpoint next to the real data's own scores")
    p.add_argument("checkpoint")
    p.add_argument("--n", type=int, default=5000, help="samples to score (default 5000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", choices=["numpy", "numba", "cupy"])
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("gradcheck", help="gradient-check every layer and loss")
    p.add_argument("--backend", default="numpy", choices=["numpy", "numba", "cupy"])
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_gradcheck)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        env = os.environ.get("MINIGAN_BACKEND")
        if getattr(args, "backend", None) is None and env:   # the default of --backend
            from minigan.backend import BACKENDS
            if env not in BACKENDS:
                raise ValueError(f"MINIGAN_BACKEND={env!r} is not a backend: expected one of "
                                 f"{', '.join(BACKENDS)}")
            args.backend = env
        return args.func(args)
    except KeyboardInterrupt:
        sys.stderr.write(f"minigan {args.command}: interrupted\n")
        return 130
    except (RuntimeError, ValueError, OSError) as e:
        sys.stderr.write(f"minigan {args.command}: error: {one_line(e)}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
