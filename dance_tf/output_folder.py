"""The one way dance_tf writes into a folder: never over a file it did not write, never
through a symbolic link, always whole.

:class:`OutputFolder`: a folder dance_tf writes into. ``.dance-tf.json`` (:data:`MANIFEST`)
in it lists every file dance_tf wrote there with its size and SHA-256; a listed name is
written again only while the file on disk is still that regular file (not a link, not
replaced by another file). Files are first written into a private :class:`Staging` folder
inside the output folder and moved into place only when every destination has been
checked, so a refused or failed run leaves the folder as it was.

One file alone is :mod:`dance_tf.single_file`; a whole folder replaced at once (an
export) is :mod:`dance_tf.whole_folder`. No TensorFlow here.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import secrets
import shutil
from pathlib import Path

from dance_tf.errors import OutputError
from dance_tf.single_file import file_record, regular_or_absent, write_text

MANIFEST = ".dance-tf.json"
#: name prefix of a staging folder (never foreign: a run in progress, or one killed)
STAGING = ".dance-tf-staging-"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


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
                      and not p.name.startswith(STAGING) and not self._is_managed(p.name))

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
                STAGING + f"{os.getpid()}-{secrets.token_hex(4)}")
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
