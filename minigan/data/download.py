"""Downloads that never leave a bad file behind.

Every file is fetched from a list of mirrors in order (the next one is tried
when one fails), checked against its md5, and moved into the cache only
when the check passes (written to a temporary file in the same folder, then
renamed). The cache folder is ``$MINIGAN_DATA``, else ``~/.cache/minigan``.
"""

import hashlib
import os
import tempfile
import urllib.error
import urllib.request

from .._atomic import file_mode

OFFLINE_HINT = ("If this machine is offline, download the file elsewhere and put it "
                "in {folder} (or point MINIGAN_DATA at a folder holding it).")


class DownloadError(RuntimeError):
    """No mirror gave a file with the right checksum."""


def cache_dir(subdir=""):
    """``$MINIGAN_DATA/subdir`` or ``~/.cache/minigan/subdir`` (created)."""
    root = os.environ.get("MINIGAN_DATA") or os.path.join(os.path.expanduser("~"), ".cache",
                                                           "minigan")
    path = os.path.join(root, subdir)
    os.makedirs(path, exist_ok=True)
    return path


def md5sum(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(filename, md5, mirrors, folder, timeout=30, log=print):
    """The path of ``folder/filename``, downloading it first if it is not
    there with the right md5. Raises :class:`DownloadError` with what was
    tried and what to do offline."""
    target = os.path.join(folder, filename)
    if os.path.exists(target) and md5sum(target) == md5:
        return target
    errors = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        fd, tmp = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=folder)
        try:
            log(f"downloading {url}")
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
                for chunk in iter(lambda: r.read(1 << 20), b""):
                    out.write(chunk)
            got = md5sum(tmp)
            if got != md5:
                errors.append(f"{url}: md5 {got}, expected {md5}")
                continue
            os.chmod(tmp, file_mode())
            os.replace(tmp, target)
            return target
        except (urllib.error.URLError, OSError, ValueError) as e:
            errors.append(f"{url}: {getattr(e, 'reason', e)}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise DownloadError(f"could not download {filename}: " + "; ".join(errors) + ". "
                        + OFFLINE_HINT.format(folder=folder))
