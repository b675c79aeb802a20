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


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line, exit status 2."""

    def error(self, message):
        sys.stderr.write(f"minigan: error: {message} (see minigan --help)\n")
        sys.exit(2)


def gradcheck_table(seed=0):
    """``[(layer description, {tensor: error}), ...]`` for every layer and loss."""
    import minigan as mg
    from minigan import gradcheck

    rng = np.random.default_rng(seed)
    f64 = np.float64
    xs = {"vec": rng.standard_normal((4, 6)), "img": rng.standard_normal((2, 3, 6, 6))}
    nonzero = np.where(np.abs(xs["img"]) < 0.05, 0.05, xs["img"])
    cases = [
        (mg.Dense(6, 5, rng=seed, dtype=f64), xs["vec"]),
        (mg.Conv2D(3, 4, 3, stride=2, padding=1, rng=seed, dtype=f64), xs["img"]),
        (mg.ConvTranspose2D(3, 2, 5, stride=2, padding=2, output_padding=1, rng=seed,
                            dtype=f64), xs["img"]),
        (mg.BatchNorm(3, dtype=f64), xs["img"]),
        (mg.BatchNorm(6, dtype=f64), xs["vec"]),
        (mg.Dropout(0.3, rng=seed), xs["vec"]),
        (mg.ReLU(), nonzero), (mg.LeakyReLU(0.2), nonzero),
        (mg.Tanh(), xs["vec"]), (mg.Sigmoid(), xs["vec"]),
    ]
    rows = [(repr(layer), gradcheck.check_layer(layer, x, seed=seed)) for layer, x in cases]
    t = rng.uniform(size=(4, 1))
    for name, fn, x in [("bce_with_logits", mg.bce_with_logits, 3 * rng.standard_normal((4, 1))),
                        ("bce", mg.bce, rng.uniform(0.05, 0.95, size=(4, 1))),
                        ("mse", mg.mse, rng.standard_normal((4, 1)))]:
        rows.append((name, gradcheck.check_loss(fn, x, t)))
    return rows


def cmd_gradcheck(args):
    from minigan import backend
    backend.set_backend(args.backend)
    worst = 0.0
    print(f"gradient check, float64, central differences, backend {args.backend}")
    for name, errors in gradcheck_table(args.seed):
        cells = "  ".join(f"{k}={v:.1e}" for k, v in errors.items())
        print(f"  {name:<42} {cells}")
        worst = max(worst, *errors.values())
    print(f"worst relative error: {worst:.2e} ({'ok' if worst <= 1e-6 else 'FAILED'})")
    return 0 if worst <= 1e-6 else 1


def cmd_train(args):
    from minigan.gan.trainer import Config, Trainer
    if args.resume:
        overrides = {"epochs": args.epochs} if args.epochs else {}
        if args.out:
            overrides["out"] = args.out
        trainer = Trainer.from_checkpoint(args.resume, **overrides)
        print(f"resumed {args.resume} at step {trainer.step} (epoch {trainer.epoch})")
    else:
        model = args.model or "dcgan"
        dataset = args.dataset or ("ring" if model == "toy" else "mnist")
        given = {k: getattr(args, k) for k in (
            "data_dir", "limit", "epochs", "batch_size", "lr", "loss", "label_smoothing", "ema",
            "seed", "backend", "image_size", "channels", "checkpoint_every", "eval_every")
            if getattr(args, k) is not None}
        if model == "toy":
            given = {"epochs": 30, "batch_size": 256, "ema": 0.0, **given}
        cfg = Config(model=model, dataset=dataset, download=args.download,
                     out=args.out or os.path.join("runs", args.name or f"{model}-{dataset}"),
                     **given)
        trainer = Trainer(cfg)
    cfg = trainer.cfg
    print(f"training {cfg.model} on {cfg.dataset} ({len(trainer.batches.data)} samples, "
          f"batch {cfg.batch_size}, {cfg.epochs} epochs, backend {cfg.backend}) -> {cfg.out}")
    t = time.perf_counter()
    trainer.fit(progress=not args.no_progress)
    p = trainer.paths()
    print(f"done in {time.perf_counter() - t:.0f} s: samples in {p['samples']}, "
          f"animation {p['gif']}, losses {p['losses']}, log {p['log']}, "
          f"checkpoint {p['checkpoint']}")
    return 0


def cmd_sample(args):
    from minigan import backend, viz
    from minigan.gan.trainer import Trainer
    trainer = Trainer.from_checkpoint(args.checkpoint, log=lambda *a: None,
                                      **({"backend": args.backend} if args.backend else {}))
    z = np.random.default_rng(args.seed).standard_normal((args.n, trainer.cfg.latent_dim))
    out = backend.to_numpy(trainer.sample(backend.asarray(z.astype(np.float32))))
    path = args.out or os.path.splitext(args.checkpoint)[0] + "_samples.png"
    if path.endswith(".npy"):
        np.save(path, out)
    elif trainer.points:
        viz.save_points(path, out)
    else:
        viz.save_grid(path, out)
    print(f"wrote {args.n} samples to {path}")
    return 0


def cmd_evaluate(args):
    from minigan.gan.trainer import Trainer
    from minigan.metrics.evaluate import Evaluator
    trainer = Trainer.from_checkpoint(args.checkpoint, log=lambda *a: None,
                                      **({"backend": args.backend} if args.backend else {}))
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
    return 0


def build_parser():
    from minigan.gan.models import MODELS
    from minigan.gan.objectives import OBJECTIVES
    from minigan.gan.trainer import DATASETS
    parser = _Parser(prog="minigan", description="GANs from scratch: NumPy, Numba, CuPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("train", help="train a GAN (default: DCGAN on the bundled MNIST digits)")
    p.add_argument("--model", choices=MODELS, help="default dcgan")
    p.add_argument("--dataset", choices=DATASETS,
                   help="mnist (bundled 10k digits, default), mnist-full (60k, --download), "
                        "fashion, folder (--data-dir), ring, grid (2D, with --model toy)")
    p.add_argument("--data-dir", help="folder of Fashion-MNIST files or of your own images")
    p.add_argument("--download", action="store_true", help="allow downloading the data set")
    p.add_argument("--limit", type=int, help="use only the first N samples")
    p.add_argument("--epochs", type=int, help="default 12 (toy: 30)")
    p.add_argument("--batch-size", type=int, help="default 32 (toy: 256)")
    p.add_argument("--lr", type=float, help="Adam learning rate, default 2e-4")
    p.add_argument("--loss", choices=OBJECTIVES, help="default non-saturating")
    p.add_argument("--label-smoothing", type=float,
                   help="one-sided: real label = 1 - this (e.g. 0.1); default 0")
    p.add_argument("--ema", type=float,
                   help="EMA decay of G's weights for samples; default 0.995 (toy: 0), 0 = off")
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
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="samples from a checkpoint: a PNG grid or a .npy file")
    p.add_argument("checkpoint")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="PATH.png (grid) or PATH.npy (raw samples in [-1, 1])")
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
        return args.func(args)
    except KeyboardInterrupt:
        sys.stderr.write(f"minigan {args.command}: interrupted\n")
        return 130
    except (RuntimeError, ValueError, OSError) as e:
        sys.stderr.write(f"minigan {args.command}: error: {e}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
