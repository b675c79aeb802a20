"""The ``minigan`` command (also ``python -m minigan``).

Subcommands:

``minigan train``       train a GAN (default: DCGAN on the bundled MNIST digits)
``minigan sample CKPT`` a grid PNG (or raw .npy samples) from a checkpoint
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
        d = Config()
        model = args.model or d.model
        dataset = args.dataset or ({"toy": "ring"}.get(model, d.dataset))
        cfg = Config(model=model, dataset=dataset, data_dir=args.data_dir,
                     download=args.download, limit=args.limit,
                     epochs=args.epochs or (30 if model == "toy" else d.epochs),
                     batch_size=args.batch_size, lr=args.lr, loss=args.loss,
                     label_smoothing=args.label_smoothing, ema=args.ema, seed=args.seed,
                     backend=args.backend, image_size=args.image_size,
                     channels=args.channels, checkpoint_every=args.checkpoint_every,
                     out=args.out or os.path.join("runs", args.name or f"{model}-{dataset}"))
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
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--loss", choices=OBJECTIVES, default="non-saturating")
    p.add_argument("--label-smoothing", type=float, default=0.0,
                   help="one-sided: real label = 1 - this (e.g. 0.1)")
    p.add_argument("--ema", type=float, default=0.0, help="EMA decay of G for samples (0.999)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", choices=["numpy", "numba", "cupy"], default="numba")
    p.add_argument("--image-size", type=int, choices=[28, 32, 64], default=28)
    p.add_argument("--channels", type=int, choices=[1, 3], default=1)
    p.add_argument("--checkpoint-every", type=int, default=0, metavar="K",
                   help="also keep a checkpoint every K epochs")
    p.add_argument("--name", help="run name: output in runs/NAME")
    p.add_argument("--out", help="output folder (overrides --name)")
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
