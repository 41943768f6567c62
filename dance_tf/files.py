"""The one way dance_tf writes files: never over a file it did not write, never through a
symbolic link, always whole (a temporary name in the same folder, then ``os.replace``).

* :func:`write_bytes` / :func:`write_text`: one file, written whole or not at all.
* :class:`OutputFolder`: a folder dance_tf writes into. ``.dance-tf.json`` in it lists
  every file dance_tf wrote there with its size and SHA-256; a listed name is written
  again only while the file on disk is still that regular file (not a link, not replaced
  by another file). Files are first written into a private staging folder inside the
  output folder and moved into place only when every destination has been checked, so a
  refused or failed run leaves the folder as it was.
* :func:`regular_or_absent`: a file dance_tf is about to read must be a regular file (a
  FIFO would block the reader forever, ``/dev/zero`` would be read until memory runs out).

No TensorFlow here.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import secrets
import shutil
import stat
from pathlib import Path

from dance_tf.errors import OutputError

MANIFEST = ".dance-tf.json"
_STAGING = ".dance-tf-staging-"
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


class OutputFolder:
    """A folder dance_tf writes into, never over a file it did not write.

    path: the folder (created on the first commit; it must not be a symbolic link).
    force: write into a folder that holds other files too (a file of the same name as an
    output that dance_tf did not write is still refused, and so is a link).
    protect: paths never written over, even with ``force`` (the inputs).
    managed: patterns (``fnmatch``) of names the caller writes and checks itself (e.g. the
    evaluation's ``config.json`` and ``results*.jsonl``): not foreign, never staged here.
    legacy: patterns of outputs an older dance_tf wrote without a manifest; adopted as
    dance_tf's when the folder has no manifest yet and ``adopt_legacy`` is true.
    option: the flag that chose the folder, for messages.
    """

    def __init__(self, path, *, force: bool = False, protect=(), managed=(), legacy=(),
                 adopt_legacy: bool = False, option: str = "--out"):
        self.path = Path(path)
        self.force, self.option = bool(force), option
        self.protect = [Path(p) for p in protect]
        self.managed = tuple(managed)
        if self.path.is_symlink():
            raise OutputError(f"{option} {self.path}: is a symbolic link; give the folder "
                              "it points to (dance_tf never writes through a link)")
        if self.path.exists() and not self.path.is_dir():
            raise OutputError(f"{option} {self.path}: exists and is not a folder; give a "
                              "folder")
        self.owned = self._read_manifest()
        if adopt_legacy and self.path.is_dir() and not (self.path / MANIFEST).exists():
            self.owned.update(self._legacy(legacy))
        if self.path.is_dir() and not self.force:
            foreign = self.foreign()
            if foreign:
                shown = ", ".join(foreign[:4]) + (", ..." if len(foreign) > 4 else "")
                raise OutputError(f"{option} {self.path}: holds files dance-tf did not "
                                  f"write ({shown}); choose another {option}, or pass "
                                  "--force to write there anyway (never over those files)")

    # ------------------------------------------------------------------ what is ours
    def _read_manifest(self) -> dict:
        path = self.path / MANIFEST
        if not regular_or_absent(path, "manifest"):
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            written = data["written"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise OutputError(f"{path}: not a readable dance-tf manifest ({err}); remove it "
                              f"or choose another {self.option}") from None
        if isinstance(written, list):   # written by dance_tf 0.1 (names only)
            return {str(name): None for name in written}
        if not isinstance(written, dict):
            raise OutputError(f"{path}: not a dance-tf manifest; remove it or choose "
                              f"another {self.option}")
        return {str(k): v for k, v in written.items()}

    def _legacy(self, patterns) -> dict:
        out = {}
        for root, _, files in os.walk(self.path):
            for f in files:
                rel = os.path.relpath(os.path.join(root, f), self.path).replace(os.sep, "/")
                if any(fnmatch.fnmatch(rel, p) for p in patterns):
                    out[rel] = file_record(self.path / rel)
        return out

    def _is_managed(self, name: str) -> bool:
        return any(fnmatch.fnmatch(name, p) for p in self.managed)

    def foreign(self) -> list[str]:
        """Top-level names in the folder that dance_tf did not write."""
        if not self.path.is_dir():
            return []
        tops = {name.split("/", 1)[0] for name in self.owned}
        return sorted(p.name for p in self.path.iterdir()
                      if p.name != MANIFEST and p.name not in tops
                      and not p.name.startswith(_STAGING) and not self._is_managed(p.name))

    def problem(self, name: str) -> str | None:
        """Why ``name`` (relative, ``/``-separated) cannot be written now, or None."""
        dest = self.path / name
        for p in self.protect:
            with contextlib.suppress(OSError):
                if dest.exists() and os.path.samefile(dest, p):
                    return (f"{dest}: is the input; dance-tf never writes over its input "
                            f"(choose another {self.option})")
        parts = name.split("/")
        for i in range(1, len(parts) + 1):
            p = self.path.joinpath(*parts[:i])
            if p.is_symlink():
                return (f"{p}: is a symbolic link; dance-tf never writes through a link "
                        "(remove it or choose another " + self.option + ")")
        if dest.is_dir():
            return f"{dest}: is a folder; choose another {self.option}"
        if not os.path.lexists(dest):
            return None
        if name not in self.owned:
            return (f"{dest}: exists and was not written by dance-tf; remove it or choose "
                    f"another {self.option} (--force never writes over it)")
        record = self.owned[name]
        now = file_record(dest)
        if now is None:
            return f"{dest}: is not a regular file; remove it or choose another {self.option}"
        if record is not None and record != now:
            return (f"{dest}: changed since dance-tf wrote it (another file now has its "
                    f"name); remove it or choose another {self.option}")
        return None

    def check(self, *names: str) -> list[Path]:
        """The final paths of ``names``; OutputError if any cannot be written."""
        for name in names:
            msg = self.problem(name)
            if msg:
                raise OutputError(msg)
        return [self.path / name for name in names]

    # ------------------------------------------------------------------ writing
    def stage(self) -> Staging:
        """A staging area: write files at ``staging.path(name)``, then ``commit()``; a
        staging left uncommitted (an error, ``discard()``) leaves nothing behind."""
        return Staging(self)

    def write(self, name: str, writer) -> Path:
        """Write one file: ``writer(path)`` writes it at a staging path; returns the final
        path (OutputError, and nothing changed, if ``name`` cannot be written)."""
        self.check(name)
        with self.stage() as staging:
            writer(staging.path(name))
            return staging.commit()[0]

    def _update_manifest(self, records: dict) -> None:
        """Merge ``records`` into the manifest, under a lock on the folder (shards of one
        evaluation may write concurrently)."""
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW)
        try:
            with contextlib.suppress(ImportError):
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX)
            current = self._read_manifest()
            current.update(records)
            self.owned.update(current)
            write_text(self.path / MANIFEST, json.dumps({"written": dict(sorted(
                current.items()))}, indent=1) + "\n")
        finally:
            os.close(fd)   # releases the lock


class Staging:
    """Files written privately inside the output folder, moved into place together."""

    def __init__(self, folder: OutputFolder):
        self.folder = folder
        self._dir: Path | None = None
        self._created: list[Path] = []

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()

    def root(self) -> Path:
        """The staging folder (created on first use): a file written at ``root() / name``
        is committed as ``name``."""
        if self._dir is None:
            self._make_folder(self.folder.path)
            self._dir = Path(os.path.realpath(self.folder.path)) / (
                _STAGING + f"{os.getpid()}-{secrets.token_hex(4)}")
            os.mkdir(self._dir, 0o700)
        return self._dir

    def path(self, name: str) -> Path:
        """Where to write ``name`` (relative to the output folder) before the commit."""
        p = self.root() / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def _make_folder(self, path: Path) -> None:
        missing = []
        p = path
        while not os.path.lexists(p):
            missing.append(p)
            p = p.parent
        for q in reversed(missing):
            os.mkdir(q)
            self._created.append(q)

    def names(self) -> list[str]:
        """The staged files, relative and ``/``-separated, sorted."""
        if self._dir is None:
            return []
        out = []
        for root, _, files in os.walk(self._dir):
            for f in files:
                out.append(os.path.relpath(os.path.join(root, f), self._dir)
                           .replace(os.sep, "/"))
        return sorted(out)

    def commit(self) -> list[Path]:
        """Check every destination, then move every staged file into place and record it
        in the manifest; returns the final paths. Nothing moves if one is refused."""
        try:
            return self._commit()
        except BaseException:
            self.discard()
            raise

    def _commit(self) -> list[Path]:
        folder, names = self.folder, self.names()
        folder.check(*names)
        records = {}
        for name in names:
            src = self._dir / name
            records[name] = file_record(src)
            dest = folder.path / name
            parent = dest.parent
            parts = Path(name).parent.parts
            for i in range(1, len(parts) + 1):
                sub = folder.path.joinpath(*parts[:i])
                if sub.is_symlink():
                    raise OutputError(f"{sub}: is a symbolic link; dance-tf never writes "
                                      "through a link")
                if not sub.exists():
                    os.mkdir(sub)
            if parent.is_symlink():   # checked again just before the move
                raise OutputError(f"{parent}: is a symbolic link")
            os.replace(src, dest)
        if names:
            folder._update_manifest(records)
        self._created.clear()   # the folder is now in use
        self.discard()
        return [folder.path / name for name in names]

    def discard(self) -> None:
        """Remove the staging folder (and the output folder if this staging created it)."""
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        for p in reversed(self._created):
            with contextlib.suppress(OSError):
                os.rmdir(p)
        self._created.clear()


# ---------------------------------------------------------------------- whole folders
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
    owned = OutputFolder(folder, force=True)._read_manifest()
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
    tmp = parent / f".{path.name}{_STAGING}{token}"
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
