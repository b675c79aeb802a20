"""Atomic file writes: a temporary file in the target's folder, then a rename.

A reader (a person refreshing a picture, a resumed run reading a checkpoint)
sees the old file or the new one, never half of one.
"""

import os
import tempfile


def file_mode():
    """0666 minus the process's umask: the mode of a normally created file."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path, write, fsync=False):
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename
    it over ``path`` with the usual permissions (0666 minus the umask; a
    temporary file starts as 0600). The temporary file never outlives a failure."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    os.close(fd)
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
