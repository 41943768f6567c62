"""A whole folder written at once (an export): filled beside its place, listed in its
manifest, then renamed into place; an earlier folder is replaced only when it is entirely
dance_tf's (:func:`folder_problem`). No TensorFlow here.
"""

from __future__ import annotations

import fnmatch
import json
import os
import secrets
import shutil
import stat
from pathlib import Path

from dance_tf.errors import OutputError
from dance_tf.output_folder import MANIFEST, STAGING, OutputFolder
from dance_tf.single_file import file_record, write_text


def _all_files(folder: Path) -> tuple[list[str], list[str]]:
    """(regular files, anything else: links, FIFOs, ...) under ``folder``, relative."""
    regular, other = [], []
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            p = os.path.join(root, name)
            rel = os.path.relpath(p, folder).replace(os.sep, "/")
            mode = os.lstat(p).st_mode
            if stat.S_ISREG(mode):
                regular.append(rel)
            elif not stat.S_ISDIR(mode):
                other.append(rel)
    return sorted(regular), sorted(other)


def folder_problem(folder, legacy=()) -> str | None:
    """Why ``folder`` is not entirely dance_tf's (so may not be replaced), or None: every
    file must be listed in its manifest and unchanged, with no link or special file
    anywhere. A folder without a manifest (an older dance_tf) is accepted when its
    top-level names all match ``legacy`` and it holds no link."""
    folder = Path(folder)
    regular, other = _all_files(folder)
    if other:
        return f"{folder / other[0]}: is a symbolic link or special file"
    if not (folder / MANIFEST).exists():
        if not legacy:
            return f"{folder}: has no {MANIFEST}"
        foreign = [n for n in os.listdir(folder)
                   if not any(fnmatch.fnmatch(n, p) for p in legacy)]
        return f"{folder / foreign[0]}: was not written by dance-tf" if foreign else None
    owned = OutputFolder(folder, force=True).owned
    for name in regular:
        if name == MANIFEST:
            continue
        if name not in owned:
            return f"{folder / name}: was not written by dance-tf"
        if owned[name] is not None and owned[name] != file_record(folder / name):
            return f"{folder / name}: changed since dance-tf wrote it"
    return None


def write_folder(path, writer, *, replace: bool = False, legacy=()) -> Path:
    """Write a whole folder at ``path``: ``writer(tmp)`` fills a new folder beside it,
    whose files are listed in its manifest; then it takes ``path``'s place with renames.
    ``path`` may be absent or an empty folder; with ``replace``, also a folder that is
    entirely dance_tf's (:func:`folder_problem`). A failed ``writer`` leaves nothing; a
    link at ``path`` is refused (FileExistsError)."""
    path = Path(path)
    if path.is_symlink():
        raise FileExistsError(f"{path}: is a symbolic link; dance_tf never writes through "
                              "a link (give the real path)")
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path}: exists and is not a folder")
    old = path.is_dir() and any(path.iterdir())
    if old:
        problem = folder_problem(path, legacy)
        if problem or not replace:
            raise FileExistsError(f"{path}: not replaced ({problem or 'pass replace'})")
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    tmp = parent / f".{path.name}{STAGING}{token}"
    trash = parent / f".{path.name}.dance-tf-old-{token}"
    try:
        writer(tmp)
        regular, other = _all_files(tmp)
        if other:
            raise OutputError(f"{tmp / other[0]}: the writer made a link or special file")
        write_text(tmp / MANIFEST, json.dumps({"written": {
            n: file_record(tmp / n) for n in regular}}, indent=1) + "\n")
        if old:
            os.rename(path, trash)
        try:
            os.replace(tmp, path)   # onto an absent or empty folder
        except OSError:
            if old:
                os.rename(trash, path)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(trash, ignore_errors=True)
    return path
