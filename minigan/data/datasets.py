"""Data sets: MNIST, Fashion-MNIST, 2D Gaussian mixtures, folders of images.

Images come back as uint8 arrays of shape (N, C, H, W); :func:`to_unit_range`
scales them to [-1, 1] (the range of the generator's tanh).
"""

import os
from importlib import resources

import numpy as np

from .download import OFFLINE_HINT, cache_dir, fetch
from .idx import IDXError, read_idx

MNIST_MD5 = {   # the upstream files (LeCun, Cortes & Burges)
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MNIST_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]
FASHION_MD5 = {  # the upstream files (Xiao, Rasul & Vollgraf 2017)
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_MIRRORS = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
]
DEBIAN_FASHION_DIR = "/usr/share/datasets/fashion-mnist"
SPLITS = {"train": "train", "test": "t10k"}


def _files(split):
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: expected 'train' or 'test'")
    p = SPLITS[split]
    return f"{p}-images-idx3-ubyte.gz", f"{p}-labels-idx1-ubyte.gz"


def _read_pair(images_path, labels_path):
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise IDXError(f"{images_path}: expected (N, H, W) images and N labels, got images "
                       f"{images.shape} and labels {labels.shape}")
    return images[:, None], labels


def _from_cache(subdir, names, md5s, mirrors, download, log, missing_hint):
    """``_read_pair`` of the cached files, downloading (md5-checked) if allowed."""
    folder = cache_dir(subdir)
    paths = [os.path.join(folder, n) for n in names]
    if not download and not all(os.path.exists(p) for p in paths):
        raise FileNotFoundError(missing_hint.format(folder=folder) + " "
                                + OFFLINE_HINT.format(folder=folder))
    return _read_pair(*[fetch(n, md5s[n], mirrors, folder, log=log) for n in names])


def load_mnist(split="test", download=False, mirrors=MNIST_MIRRORS, log=print):
    """MNIST digits as ``(images (N, 1, 28, 28) uint8, labels (N,) uint8)``.

    ``split="test"``: the official 10,000-image test split, bundled with
    minigan (works offline). ``split="train"``: the 60,000-image training
    split from the cache folder, downloaded (md5-checked) when ``download``.
    """
    names = _files(split)
    if split == "test":
        pkg = resources.files("minigan.data") / "mnist"
        with resources.as_file(pkg / names[0]) as img, resources.as_file(pkg / names[1]) as lab:
            return _read_pair(img, lab)
    return _from_cache("mnist", names, MNIST_MD5, mirrors, download, log,
                       "the MNIST training split is not in {folder}: download it with "
                       "`minigan train --dataset mnist-full --download` (about 10 MB).")


def load_fashion_mnist(split="train", data_dir=None, download=False, mirrors=FASHION_MIRRORS,
                       log=print):
    """Fashion-MNIST as ``(images (N, 1, 28, 28), labels (N,))``, from
    ``data_dir``, else Debian's ``/usr/share/datasets/fashion-mnist``
    (package dataset-fashion-mnist), else the cache folder (downloaded when
    ``download``). Local files are validated by their IDX headers (Debian's
    gzip headers differ from upstream's, so their md5 does too)."""
    names = _files(split)
    if data_dir and os.path.isfile(data_dir):
        raise NotADirectoryError(f"--data-dir {data_dir} is a file; expected the folder that "
                                 f"holds {names[0]} and {names[1]}")
    for folder in [d for d in (data_dir, DEBIAN_FASHION_DIR) if d]:
        paths = [os.path.join(folder, n) for n in names]
        if all(os.path.exists(p) for p in paths):
            return _read_pair(*paths)
        if folder == data_dir:
            raise FileNotFoundError(f"{data_dir} does not hold {names[0]} and {names[1]}")
    return _from_cache("fashion-mnist", names, FASHION_MD5, mirrors, download, log,
                       f"Fashion-MNIST was not found (looked in {DEBIAN_FASHION_DIR} and "
                       "{folder}): pass --data-dir, install Debian's dataset-fashion-mnist, "
                       "or add --download.")


# --------------------------------------------------------------- 2D toys

def ring_means(modes=8, radius=1.0):
    """The means of the ring mixture: ``modes`` points evenly on a circle."""
    angles = 2 * np.pi * np.arange(modes) / modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_means():
    """The 25 means of the grid mixture, {-4, -2, 0, 2, 4}^2."""
    v = np.arange(-4, 5, 2, dtype=np.float64)
    return np.stack(np.meshgrid(v, v, indexing="ij"), axis=-1).reshape(-1, 2)


TOYS = {"ring": (ring_means, 0.01), "grid": (grid_means, 0.05)}


def sample_mixture(name, n, rng):
    """``n`` points of a PacGAN toy mixture (equal weights): ``"ring"``, 8
    Gaussians on the unit circle with std 0.01, or ``"grid"``, 25 Gaussians at
    {-4,-2,0,2,4}^2 with std 0.05 (Lin et al. 2018). Returns float32 (n, 2)."""
    means_fn, std = TOYS[name]
    means = means_fn()
    k = rng.integers(len(means), size=n)
    return (means[k] + std * rng.standard_normal((n, 2))).astype(np.float32)


# --------------------------------------------------------- image folders

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def load_folder(path, size, channels=3):
    """Every PNG/JPEG under ``path``: center-cropped to a square, resized to
    ``size`` x ``size``, converted to grayscale (``channels=1``) or RGB.
    Returns uint8 (N, channels, size, size)."""
    from PIL import Image
    if os.path.isfile(path):
        raise NotADirectoryError(f"--data-dir {path} is a file; expected a folder of images")
    if not os.path.isdir(path):
        raise FileNotFoundError(f"image folder {path} does not exist")
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs
                   if f.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise FileNotFoundError(f"{path} holds no PNG or JPEG images")
    out = np.empty((len(files), channels, size, size), np.uint8)
    for k, f in enumerate(files):
        try:
            with Image.open(f) as im:
                im = im.convert("L" if channels == 1 else "RGB")
                w, h = im.size
                s = min(w, h)
                im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
                a = np.asarray(im.resize((size, size), Image.BILINEAR))
        except OSError as e:
            raise ValueError(f"{f}: not a readable image ({e})") from None
        out[k] = a[None] if channels == 1 else a.transpose(2, 0, 1)
    return out


def fit_images(images, size, channels):
    """uint8 (N, C, H, W) images resized (bilinear) to ``size`` and with
    ``channels`` channels (grayscale repeated for RGB models)."""
    from PIL import Image
    N, C, H, W = images.shape
    if C not in (1, channels):
        raise ValueError(f"cannot turn {C}-channel images into {channels}-channel ones")
    if (H, W) != (size, size):
        images = np.stack([np.stack([np.asarray(Image.fromarray(im).resize(
            (size, size), Image.BILINEAR)) for im in sample]) for sample in images])
    if images.shape[1] != channels:
        images = np.repeat(images, channels, axis=1)
    return images


def to_unit_range(images):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return (images.astype(np.float32) / 127.5 - 1.0).astype(np.float32)


class Batches:
    """Seeded, shuffled mini-batches, as a pure function of the step number.

    Epoch ``e`` visits the samples in the order
    ``default_rng([seed, e]).permutation(n)``, in ``n // batch_size`` full
    batches (the remainder is dropped). ``batch(step)`` needs no state, so a
    run resumed at any step sees exactly the batches it would have seen.
    ``labels`` (optional, one per sample) come with ``labels_of(step)``.

    ``fixed_packs`` m > 0 makes the PacGAN authors' real packs
    (``GaussianPackingMixture`` in fjxmlzn/PacGAN's ``pacgan/datasets.py``):
    ``n`` packs, the samples of slot j of the packs drawn with replacement
    by ``default_rng([seed, 9, j + 1])`` (a bootstrap of the data per slot, so m
    = 1 is a bootstrap too), fixed for the run. Epoch ``e`` then visits the
    packs in the order ``default_rng([seed, e]).permutation(n)``, and a
    batch of ``batch_size`` samples is ``batch_size // m`` whole packs, slot
    after slot, as ``Inputs`` concatenates them for D.
    """

    def __init__(self, data, batch_size, seed=0, labels=None, fixed_packs=0):
        per_epoch = len(data) * max(1, fixed_packs)        # samples an epoch visits
        if batch_size < 1 or batch_size > per_epoch:
            raise ValueError(f"batch size {batch_size} must be between 1 and the number of "
                             f"samples ({per_epoch})")
        if labels is not None and len(labels) != len(data):
            raise ValueError(f"{len(labels)} labels for {len(data)} samples")
        if fixed_packs < 0 or (fixed_packs and batch_size % fixed_packs):
            raise ValueError(f"fixed packs of {fixed_packs}: the batch size ({batch_size}) must "
                             f"be a whole number of packs")
        self.data, self.batch_size, self.seed = data, batch_size, seed
        self.labels = labels
        self.packs = None
        if fixed_packs:
            n = len(data)      # slot j of pack p is sample packs[p, j]
            self.packs = np.stack([np.random.default_rng([seed, 9, j + 1]).integers(0, n, n)
                                   for j in range(fixed_packs)], axis=1)
        self.steps_per_epoch = per_epoch // batch_size
        self._perm = (None, None)

    def order(self, epoch):
        if self._perm[0] != epoch:
            self._perm = (epoch, np.random.default_rng([self.seed, epoch]).permutation(
                len(self.data)))
        return self._perm[1]

    def indices(self, step):
        epoch, k = divmod(step, self.steps_per_epoch)
        if self.packs is None:
            return self.order(epoch)[k * self.batch_size:(k + 1) * self.batch_size]
        per = self.batch_size // self.packs.shape[1]
        return self.packs[self.order(epoch)[k * per:(k + 1) * per]].reshape(-1)

    def batch(self, step):
        return self.data[self.indices(step)]

    def labels_of(self, step):
        """The labels of ``batch(step)``."""
        if self.labels is None:
            raise ValueError("these batches have no labels")
        return self.labels[self.indices(step)]
