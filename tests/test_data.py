"""Data: IDX files, the bundled digits, downloads (from a local server only),
Fashion-MNIST, 2D mixtures, image folders, batches."""

import gzip
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

from minigan import data
from minigan.data import datasets

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


def md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def test_bundled_mnist_is_the_official_test_split():
    images, labels = data.load_mnist("test")
    assert images.shape == (10000, 1, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))
    pkg = os.path.join(os.path.dirname(data.__file__), "mnist")
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert md5(os.path.join(pkg, name)) == data.MNIST_MD5[name]


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, suffix):
    a = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    path = tmp_path / f"x-idx3-ubyte{suffix}"
    data.write_idx(path, a)
    np.testing.assert_array_equal(data.read_idx(path), a)


def test_idx_errors_name_the_file_and_the_problem(tmp_path):
    good = tmp_path / "good"
    data.write_idx(good, np.zeros((10, 4, 4), np.uint8))
    raw = good.read_bytes()
    (tmp_path / "short").write_bytes(raw[:-5])
    with pytest.raises(data.IDXError, match=r"short: header says shape \(10, 4, 4\) \(160 bytes "
                                            r"of data\) but the file holds 155 bytes"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "magic").write_bytes(b"\x01\x02" + raw[2:])
    with pytest.raises(data.IDXError, match=r"magic: not an IDX file \(bad magic number"):
        data.read_idx(tmp_path / "magic")
    (tmp_path / "cut.gz").write_bytes(gzip.compress(raw)[:-20])
    with pytest.raises(data.IDXError, match=r"cut.gz: not a readable IDX file"):
        data.read_idx(tmp_path / "cut.gz")


def test_images_and_labels_that_do_not_match_are_refused(tmp_path):
    data.write_idx(tmp_path / "i", np.zeros((10, 4, 4), np.uint8))
    data.write_idx(tmp_path / "l", np.zeros(9, np.uint8))
    with pytest.raises(data.IDXError, match=r"expected \(N, H, W\) images and N labels"):
        datasets._read_pair(tmp_path / "i", tmp_path / "l")


# ---------------------------------------------------------------- downloads

@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(root), **k)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def small_mnist(folder, n=12):
    """Write small train IDX files; return their md5s."""
    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    data.write_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"),
                   rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
    data.write_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"),
                   rng.integers(0, 10, n, dtype=np.uint8))
    return {f: md5(os.path.join(folder, f)) for f in os.listdir(folder)}


def test_download_tries_the_next_mirror_and_verifies(server, tmp_path, monkeypatch):
    root, url = server
    sums = small_mnist(root / "good")
    monkeypatch.setattr(datasets, "MNIST_MD5", {**datasets.MNIST_MD5, **sums})
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))
    logs = []
    images, labels = data.load_mnist("train", download=True,
                                     mirrors=[f"{url}/missing/", f"{url}/good/"],
                                     log=logs.append)
    assert images.shape == (12, 1, 28, 28) and labels.shape == (12,)
    assert any("/missing/" in line for line in logs)          # the first mirror was tried
    cached = sorted(os.listdir(tmp_path / "cache" / "mnist"))
    assert cached == sorted(sums)                               # no temporary files left
    data.load_mnist("train")                                    # now offline from the cache


def test_a_corrupted_download_is_rejected_and_not_cached(server, tmp_path, monkeypatch):
    root, url = server
    sums = small_mnist(root / "good")
    small_mnist(root / "bad", n=13)                             # same names, other bytes
    monkeypatch.setattr(datasets, "MNIST_MD5", {**datasets.MNIST_MD5, **sums})
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))
    with pytest.raises(data.DownloadError, match=r"bad/train-images-idx3-ubyte.gz: md5 .*, "
                                                 r"expected .*offline"):
        data.load_mnist("train", download=True, mirrors=[f"{url}/bad/"], log=lambda m: None)
    assert os.listdir(tmp_path / "cache" / "mnist") == []


def test_without_download_the_error_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"--download.*offline"):
        data.load_mnist("train")


@pytest.mark.skipif(not os.path.isdir(os.path.join(SHARED, "fashion-mnist")),
                    reason="the project's shared data sets (a folder 'shared/data' beside the "
                           "checkout, with Fashion-MNIST) are not on this machine")
def test_fashion_mnist_from_a_folder():
    images, labels = data.load_fashion_mnist("test", os.path.join(SHARED, "fashion-mnist"))
    assert images.shape == (10000, 1, 28, 28) and labels.max() == 9


def test_fashion_mnist_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not hold"):
        data.load_fashion_mnist("train", str(tmp_path))


# ------------------------------------------------------------------- 2D toys

@pytest.mark.parametrize("name,modes,std", [("ring", 8, 0.01), ("grid", 25, 0.05)])
def test_mixtures(name, modes, std):
    pts = data.sample_mixture(name, 20000, np.random.default_rng(0))
    means = data.ring_means() if name == "ring" else data.grid_means()
    assert len(means) == modes
    d = np.linalg.norm(pts[:, None, :] - means[None], axis=2)
    nearest, dist = d.argmin(axis=1), d.min(axis=1)
    assert (dist < 5 * std).all()
    counts = np.bincount(nearest, minlength=modes)
    assert counts.min() > 0.8 * 20000 / modes
    np.testing.assert_allclose(np.std(pts - means[nearest]), std, rtol=0.05)


# ------------------------------------------------------------------ folders

def test_image_folder_is_cropped_resized_and_converted(tmp_path):
    from PIL import Image
    Image.new("RGB", (60, 40), (255, 0, 0)).save(tmp_path / "a.png")
    Image.new("L", (30, 50), 128).save(tmp_path / "b.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    rgb = data.load_folder(str(tmp_path), 32, 3)
    assert rgb.shape == (2, 3, 32, 32)
    assert tuple(rgb[0, :, 16, 16]) == (255, 0, 0)
    gray = data.load_folder(str(tmp_path), 16, 1)
    assert gray.shape == (2, 1, 16, 16) and abs(int(gray[1, 0, 8, 8]) - 128) <= 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no PNG or JPEG"):
        data.load_folder(str(tmp_path / "empty"), 8)


def test_fit_images_and_unit_range():
    x = np.random.default_rng(0).integers(0, 256, (3, 1, 28, 28), dtype=np.uint8)
    y = data.fit_images(x, 32, 3)
    assert y.shape == (3, 3, 32, 32) and (y[:, 0] == y[:, 2]).all()
    u = data.to_unit_range(np.array([0, 255], np.uint8))
    np.testing.assert_allclose(u, [-1, 1])
    assert u.dtype == np.float32


# ------------------------------------------------------------------ batches

def test_batches_are_seeded_shuffled_and_a_function_of_the_step():
    x = np.arange(10)
    b = data.Batches(x, 3, seed=5)
    assert b.steps_per_epoch == 3
    epoch0 = np.concatenate([b.batch(s) for s in range(3)])
    epoch1 = np.concatenate([b.batch(s) for s in range(3, 6)])
    assert len(set(epoch0)) == 9 and not np.array_equal(epoch0, epoch1)
    again = data.Batches(x, 3, seed=5)
    np.testing.assert_array_equal(again.batch(4), b.batch(4))   # no state: any step, any order
    assert not np.array_equal(data.Batches(x, 3, seed=6).batch(0), b.batch(0))
    with pytest.raises(ValueError, match="batch size 11 must be between 1 and the number of "
                                         "samples \\(10\\)"):
        data.Batches(x, 11)


def test_fixed_packs_are_bootstraps_fixed_for_the_run_and_shuffled_every_epoch():
    """The PacGAN authors' real packs: slot j of the n packs is a draw with
    replacement from the n samples, the packs stay the same for the run, and
    each epoch visits every pack once in a new order."""
    x = np.arange(12) * 10
    b = data.Batches(x, 4, seed=3, labels=np.arange(12), fixed_packs=2)
    assert b.packs.shape == (12, 2) and b.steps_per_epoch == 6

    def packs_of(epoch):                 # each batch is 2 whole packs, slot after slot
        return np.concatenate([b.batch(s).reshape(-1, 2) for s in range(6 * epoch,
                                                                         6 * epoch + 6)])
    table = sorted(map(tuple, b.packs * 10))
    first, second = packs_of(0), packs_of(1)
    assert sorted(map(tuple, first)) == table == sorted(map(tuple, second))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(b.labels_of(7) * 10, b.batch(7))
    again = data.Batches(x, 4, seed=3, fixed_packs=2)
    np.testing.assert_array_equal(again.batch(9), b.batch(9))    # no state
    assert not np.array_equal(data.Batches(x, 4, seed=4, fixed_packs=2).packs, b.packs)
    # a bootstrap: about 1 - 1/e of the samples in each slot, the slots independent
    big = data.Batches(np.zeros(10_000), 99, seed=0, fixed_packs=3)
    shares = [len(np.unique(big.packs[:, j])) / 10_000 for j in range(3)]
    assert all(abs(share - (1 - np.exp(-1))) < 0.02 for share in shares), shares
    assert np.mean(big.packs[:, 0] == big.packs[:, 1]) < 0.01
    one = data.Batches(x, 3, seed=3, fixed_packs=1)       # m = 1: the authors' GAN's data
    assert one.steps_per_epoch == 4 and len(set(one.packs[:, 0])) < 12
    with pytest.raises(ValueError, match="fixed packs of 2: the batch size \\(5\\) must be a "
                                         "whole number of packs"):
        data.Batches(x, 5, fixed_packs=2)
