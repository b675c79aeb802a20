"""Checkpoints: one ``.npz`` file of named arrays plus JSON metadata.

* written atomically: to a temporary file in the same folder, flushed to
  disk, then renamed over the target, so a crash never leaves half a file;
* read with ``allow_pickle=False``: a checkpoint holds only plain arrays and
  text, never Python objects, so loading one cannot run code;
* checked: a file that is truncated, not a minigan checkpoint, or of another
  format version raises :class:`CheckpointError` naming the file and the
  problem.

Layout: ``__format__`` (text), ``__meta__`` (JSON text), and one entry per
array under a prefixed name (``G.0.W``, ``optD.m.3.b``, ...).
"""

import json
import os
import zipfile

import numpy as np

from . import backend
from ._atomic import atomic_write

FORMAT = "minigan-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used, with the file named."""


def save(path, arrays, meta):
    """Write ``arrays`` ({name: array}, CuPy arrays copied to the host) and
    ``meta`` (JSON-serializable) to ``path`` atomically."""
    path = os.fspath(path)
    payload = {"__format__": np.array(FORMAT), "__meta__": np.array(json.dumps(meta))}
    for k, v in arrays.items():
        if k.startswith("__"):
            raise ValueError(f"checkpoint entry names may not start with '__': {k!r}")
        payload[k] = backend.to_numpy(v)
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **payload)

    atomic_write(path, write, fsync=True)


def load(path):
    """Read a checkpoint: ``(arrays as {name: numpy array}, meta dict)``."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise CheckpointError(f"{path}: not a minigan checkpoint (not an .npz file)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise CheckpointError(f"{path}: damaged or truncated checkpoint ({e})") from None
    fmt = arrays.pop("__format__", None)
    if fmt is None:
        raise CheckpointError(f"{path}: not a minigan checkpoint (no format marker)")
    if str(fmt) != FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {str(fmt)!r}, expected {FORMAT!r}")
    try:
        meta = json.loads(str(arrays.pop("__meta__")))
    except (KeyError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: damaged metadata ({e})") from None
    for name, a in arrays.items():
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise CheckpointError(f"{path}: tensor {name!r} holds non-finite values (NaN or "
                                  f"inf); this checkpoint cannot be used")
    return arrays, meta


def split(arrays, prefix):
    """The entries under ``prefix + '.'``, with the prefix removed."""
    p = prefix + "."
    return {k[len(p):]: v for k, v in arrays.items() if k.startswith(p)}


def prefixed(prefix, state):
    return {f"{prefix}.{k}": v for k, v in state.items()}
