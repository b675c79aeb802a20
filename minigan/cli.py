"""The ``minigan`` command (also ``python -m minigan``).

Subcommands:

``minigan gradcheck``   gradient-check every layer and loss, print the table
"""

import argparse
import sys

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


def build_parser():
    parser = _Parser(prog="minigan", description="GANs from scratch: NumPy, Numba, CuPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    p = sub.add_parser("gradcheck", help="gradient-check every layer and loss")
    p.add_argument("--backend", default="numpy", choices=["numpy", "numba", "cupy"])
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_gradcheck)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (RuntimeError, ValueError, FileNotFoundError) as e:
        sys.stderr.write(f"minigan {args.command}: error: {e}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
