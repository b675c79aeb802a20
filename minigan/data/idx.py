"""The IDX file format of MNIST and Fashion-MNIST (gzip-compressed or raw).

Layout (big-endian): two zero bytes, a type code (0x08 = uint8), the number
of dimensions D, then D uint32 sizes, then the data in C order. For images
D = 3 (count, rows, columns); for labels D = 1.
"""

import gzip
import os

import numpy as np

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


class IDXError(ValueError):
    """A file that is not a valid IDX file, or not the one expected."""


def read_idx(path):
    """Read an IDX file (``.gz`` or raw) into a NumPy array.

    Raises :class:`IDXError` naming the file for a bad magic number, an
    unknown type, or a data size that does not match the header (a truncated
    or padded file), and for a gzip stream that is cut short.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (EOFError, gzip.BadGzipFile, OSError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise IDXError(f"{path}: not a readable IDX file ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise IDXError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise IDXError(f"{path}: truncated IDX header")
    shape = tuple(int(v) for v in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_TYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    got = len(raw) - 4 - 4 * ndim
    if got != expected:
        raise IDXError(f"{path}: header says shape {shape} ({expected} bytes of data) but the "
                       f"file holds {got} bytes: truncated or not this data set")
    data = np.frombuffer(raw, dtype, offset=4 + 4 * ndim).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=False) if dtype.itemsize > 1 else data


def write_idx(path, array):
    """Write a uint8 array as a raw (or, for ``.gz`` paths, gzip) IDX file."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())
