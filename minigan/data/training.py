"""The training set a run's config asks for (``cfg.dataset``, ``cfg.limit``
and, for images, the size and channels it is fitted to)."""

import numpy as np

from .datasets import (TOYS, fit_images, load_fashion_mnist, load_folder, load_mnist,
                       sample_mixture, to_unit_range)


def load_training_data(cfg, log=print):
    """The training set as float32: images (N, C, S, S) in [-1, 1], or 2D
    points; and their labels (int64) where the dataset has them, else None."""
    labels = None
    if cfg.dataset in TOYS:
        # the PacGAN paper's 100,000 examples of m packed points (fixed packs: m draws
        # from 100,000 points, made by data.Batches); 50,000 points otherwise
        m = 1 if cfg.fixed_packs else cfg.pack
        n = cfg.limit or (100_000 * m if cfg.model == "pacgan-mlp" else 50_000)
        return sample_mixture(cfg.dataset, n, np.random.default_rng([cfg.seed, 7])), None
    if cfg.dataset == "mnist":
        images, labels = load_mnist("test")
    elif cfg.dataset == "mnist-full":
        images, labels = load_mnist("train", download=cfg.download, log=log)
    elif cfg.dataset == "fashion":
        images, labels = load_fashion_mnist("train", cfg.data_dir, cfg.download, log=log)
    else:
        if not cfg.data_dir:
            raise ValueError("dataset 'folder' needs --data-dir PATH")
        images = load_folder(cfg.data_dir, cfg.image_size, cfg.channels)
    if cfg.limit:
        images = images[:cfg.limit]
        labels = None if labels is None else labels[:cfg.limit]
    labels = None if labels is None else labels.astype(np.int64)
    return to_unit_range(fit_images(images, cfg.image_size, cfg.channels)), labels
