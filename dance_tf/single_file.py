"""One file at a time: written whole, recorded, checked before it is read.

* :func:`write_bytes` / :func:`write_text`: one file, written whole or not at all (a
  temporary name in the same folder, then ``os.replace``), never through a symbolic link.
* :func:`file_record`: a regular file's size and SHA-256 (what a manifest lists).
* :func:`regular_or_absent`: a file dance_tf is about to read must be a regular file (a
  FIFO would block the reader forever, ``/dev/zero`` would be read until memory runs out).

Folders dance_tf writes into are :mod:`dance_tf.output_folder` (file by file) and
:mod:`dance_tf.whole_folder` (a folder at once). No TensorFlow here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
from pathlib import Path

from dance_tf.errors import OutputError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CHUNK = 1 << 20


def regular_or_absent(path, what: str = "file") -> bool:
    """True if ``path`` is a regular file, False if absent; OutputError for anything else
    (a symbolic link that dangles, a FIFO, a device, a folder)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise OutputError(f"{path}: the {what} is a dangling symbolic link") from None
        return False
    if not stat.S_ISREG(mode):
        raise OutputError(f"{path}: the {what} is not a regular file (a FIFO, device or "
                          "folder)")
    return True


def _refuse_links(path: Path) -> None:
    """OutputError if ``path`` or its parent folder is a symbolic link."""
    for p in (path, path.parent):
        if p.is_symlink():
            raise OutputError(f"{p}: is a symbolic link; dance_tf never writes through a "
                              "link (give the real path)")


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole: a new file of a temporary name in the same folder
    (opened with O_EXCL | O_NOFOLLOW), fsynced, then renamed over ``path``. Refuses a
    ``path`` that is a symbolic link, a folder or a special file, or whose parent is a
    link. Only for files the caller owns (e.g. a manifest or a report checked by its
    caller)."""
    path = Path(path)
    _refuse_links(path)
    if path.exists() and not path.is_file():
        raise OutputError(f"{path}: is not a regular file; dance_tf writes only files")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def write_text(path, text: str) -> Path:
    """:func:`write_bytes` of ``text`` in UTF-8."""
    return write_bytes(path, text.encode("utf-8"))


def file_record(path) -> dict | None:
    """{"size", "sha256"} of the regular file ``path`` (read without following a link),
    or None when it is not a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        h = hashlib.sha256()
        for block in iter(lambda: handle.read(_CHUNK), b""):
            h.update(block)
    return {"size": st.st_size, "sha256": h.hexdigest()}
