"""Small real data samples shipped with the package (gzip; see README.md here).

:func:`path` returns a plain-text copy of one sample, decompressed once into the model
cache folder (:func:`dance_tf.models.train_cache.model_dir` ``/ "data"``) and checked against
the SHA-256 of the source file, so the loaders (which read regular files) take it as is.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: sample name → SHA-256 of the decompressed file (= the source file, unchanged)
FILES = {
    "stsa.binary.train": "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338",
    "stsa.binary.dev": "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1",
    "glove.6B.50d.sst.txt": "8794fd428e559a3c0c56c280eb5be3e4c195715e8ce5e45ad72fc1f4b7c34db0",
    "ids2018_sample.csv": "b73881832e8ce3613dd268e4c73d030e15f0d3e8f96075a99c18d711767b2726",
}
REINSTALL = "the install is damaged: reinstall dance-tf (pip install --force-reinstall dance-tf)"
#: how a trained model's config names a packaged file (instead of a machine's path)
PREFIX = "package:"


def cache_dir() -> Path:
    """Where the samples are decompressed: ``<model cache>/data``."""
    from dance_tf.models.train_cache import model_dir

    return model_dir() / "data"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def path(name: str, directory: str | os.PathLike | None = None) -> Path:
    """The plain file of sample ``name`` (a key of :data:`FILES`, or ``package:NAME``),
    decompressed into ``directory`` (default :func:`cache_dir`) if not there yet.

    Raises ValueError for an unknown name or a damaged install (a packaged file missing,
    truncated or corrupt, or whose content does not match its recorded SHA-256); the
    message names the packaged file. Nothing is left behind: the copy is written to a
    private ``.part`` name, removed on any failure, and renamed into place when checked.
    """
    name = name[len(PREFIX):] if name.startswith(PREFIX) else name
    if name not in FILES:
        raise ValueError(f"sample: unknown {name!r}; expected one of {sorted(FILES)}")
    out = Path(directory) if directory is not None else cache_dir()
    target = out / name
    if target.is_file() and _sha256(target) == FILES[name]:
        return target
    out.mkdir(parents=True, exist_ok=True)
    source = HERE / f"{name}.gz"
    partial = target.with_name(f".{name}.{os.getpid()}.part")
    try:
        _decompress(source, partial)
        got = _sha256(partial)
        if got != FILES[name]:
            raise ValueError(f"{source}: content SHA-256 {got} differs from the recorded "
                             f"{FILES[name]}; {REINSTALL}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _decompress(source: Path, partial: Path) -> None:
    """gunzip ``source`` into ``partial``; a missing, truncated or corrupt archive is a
    ValueError naming it (an error writing ``partial`` stays an OSError)."""
    if not source.is_file():
        raise ValueError(f"{source}: packaged sample is missing; {REINSTALL}")
    with gzip.open(source, "rb") as src, open(partial, "wb") as dst:
        while True:
            try:
                block = src.read(1 << 20)
            except (EOFError, OSError, zlib.error) as err:  # BadGzipFile is an OSError
                raise ValueError(f"{source}: packaged sample is damaged (cannot decompress "
                                 f"it: {err or type(err).__name__}); {REINSTALL}") from err
            if not block:
                return
            dst.write(block)


def resolve(value: str | os.PathLike) -> Path:
    """A config's data path: ``package:NAME`` → :func:`path` (NAME), else the path itself."""
    text = os.fspath(value)
    return path(text) if text.startswith(PREFIX) else Path(text)
