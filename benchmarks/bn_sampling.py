"""How much the BatchNorm statistics G samples with move PacGAN's scores.

    python benchmarks/bn_sampling.py runs/paper-tables/grid-gan-0/checkpoint.npz

pacgan-mlp's G normalizes with each batch's statistics while it trains and
with population statistics when it samples. The PacGAN authors' runs (Blocks)
and minigan keep those differently; this script scores one checkpoint, on
the authors' 2,500 samples, three ways:

* ``as saved``: the statistics in the checkpoint (for a run trained before
  pacgan-mlp took the authors' BatchNorm, PyTorch's running averages of the
  batch mean and unbiased variance, weight 0.05, that training left);
* ``refreshed, variance``: those averages updated 50 more times from
  batches of fresh noise (100 per packed slot) through the final G, as the
  authors' per-epoch monitoring pass over 5,000 examples does
  (``Trainer.refresh_batchnorm``);
* ``refreshed, std``: the same refresh averaging each batch's standard
  deviation sqrt(biased variance + eps), as Blocks' ``BatchNormalization``
  keeps its population statistics (G then divides by that average): what
  pacgan-mlp now does after every epoch.

Each is scored with three evaluation seeds, so the spread of the scores
from the samples alone is printed beside the differences.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

REFRESH_BATCHES = 50            # 5,000 monitoring examples in batches of 100


def use_statistics(G, stats):
    """Switch every BatchNorm of G to keep ``stats`` ("var" or "std"), the
    running statistic converted (the same normalization in eval mode)."""
    import minigan as mg
    from minigan import backend
    for layer in G.layers:
        if isinstance(layer, mg.BatchNorm) and layer.stats != stats:
            old = backend.to_numpy(layer.buffers.pop(layer._spread)).astype(np.float64)
            new = np.sqrt(old + layer.eps) if stats == "std" else old ** 2 - layer.eps
            layer.stats, layer._spread = stats, "running_" + stats
            layer.buffers[layer._spread] = backend.asarray(new.astype(np.float32))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--n", type=int, default=2500, help="samples scored (the authors' 2,500)")
    p.add_argument("--seeds", type=int, default=3, help="evaluation seeds per treatment")
    args = p.parse_args()
    from minigan.gan import Trainer
    from minigan.metrics.evaluate import Evaluator
    print(f"{'treatment':<22} {'modes':>6} {'high quality':>13} {'reverse KL':>11}")
    for how in ("as saved", "refreshed, variance", "refreshed, std"):
        t = Trainer.from_checkpoint(args.checkpoint, log=lambda *a: None, sampling_only=True)
        if how != "as saved":
            use_statistics(t.G, "var" if how.endswith("variance") else "std")
            t.cfg.bn_refresh = REFRESH_BATCHES
            t.refresh_batchnorm()
        rows = [Evaluator(t.cfg.dataset, args.n, s).score(t.sample, t.cfg.latent_dim)
                for s in range(args.seeds)]
        cells = [[r[k] for r in rows] for k in ("modes_captured", "high_quality_share",
                                                 "reverse_kl")]
        print(f"{how:<22} {np.mean(cells[0]):6.2f} {100 * np.mean(cells[1]):12.2f}% "
              f"{np.mean(cells[2]):11.3f}   (seeds: " + "; ".join(
                  f"{m}, {100 * q:.1f}%, {k:.3f}" for m, q, k in zip(*cells)) + ")")


if __name__ == "__main__":
    main()
