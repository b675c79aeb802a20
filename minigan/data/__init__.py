"""Data: IDX files, MNIST (bundled test split, downloadable train split),
Fashion-MNIST, 2D Gaussian mixtures, folders of images, batches, k-means
clusters."""

from .datasets import (FASHION_MD5, MNIST_MD5, Batches, fit_images, grid_means, load_fashion_mnist,
                       load_folder, load_mnist, ring_means, sample_mixture, to_unit_range)
from .clusters import kmeans, proportional_labels
from .download import DownloadError, cache_dir, fetch
from .idx import IDXError, read_idx, write_idx
from .training import load_training_data

__all__ = ["read_idx", "write_idx", "IDXError", "load_mnist", "load_fashion_mnist",
           "load_folder", "fit_images", "sample_mixture", "ring_means", "grid_means",
           "to_unit_range", "Batches", "fetch", "cache_dir", "DownloadError", "MNIST_MD5",
           "FASHION_MD5", "kmeans", "proportional_labels", "load_training_data"]
