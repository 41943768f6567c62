"""Reading the text files of the loaders so that every problem names the file and line.

:func:`lines` yields the decoded lines of a regular file one at a time: a byte that is not
valid in the encoding is a ``ValueError`` naming the file, the line and the column (not a
bare ``UnicodeDecodeError``), a UTF-8 byte-order mark at the start is dropped, and a path
that is not a regular file (a FIFO, a device such as ``/dev/full``, a folder) is refused
before it is opened, so a loader never hangs or reads without end.
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Iterator

BOM = codecs.BOM_UTF8


def check_regular(path: str | os.PathLike, what: str = "file") -> None:
    """Raise FileNotFoundError if ``path`` does not exist, ValueError if it is not a
    regular file (FIFO, socket, device, folder)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such {what}") from None
    if not stat.S_ISREG(mode):
        kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise ValueError(f"{path}: expected a regular {what}, got {kind}")


def lines(path: str | os.PathLike, encoding: str = "utf-8", what: str = "file"
          ) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each line of ``path`` (1-based, line endings kept).

    Raises ValueError naming ``path``, the line and the column for undecodable bytes.
    """
    check_regular(path, what)
    decoder_name = codecs.lookup(encoding).name
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and decoder_name == "utf-8" and raw.startswith(BOM):
                raw = raw[len(BOM):]
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as err:
                label = "UTF-8" if decoder_name == "utf-8" else encoding
                raise ValueError(
                    f"{path}: line {number}, column {err.start + 1}: not valid {label} "
                    f"(byte {raw[err.start:err.start + 1]!r}); save the file as {label} or "
                    f"pass encoding=...") from None
            yield number, text
