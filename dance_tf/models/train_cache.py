"""Train a packaged task model once and cache it (SST CNN, IDS MLP), and read / write one
Keras model file safely (the digits CNN cache, ``--model FILE.keras``).

The model cache folder is :func:`model_dir` (every packaged model's: the digits CNN, the
SST CNN, the IDS MLP, the decompressed data samples). A task model's folder is
``<model cache>/<name>``, or ``<name>-stepsN`` under ``DANCE_TF_TRAIN_STEPS=N``
(a quick model for tests never takes the real model's name). Training writes into a
private ``.part`` folder that is renamed when complete: an interrupted training leaves
nothing behind, and a folder that holds something else is never replaced.

:func:`save_model` writes a model to a private temporary name in the target's folder and
renames it into place, so a kill mid-save leaves no damaged model under the real name.
:func:`load_model` tells a damaged or foreign file ("damaged or not a Keras model file",
naming it) from a missing one; Keras itself reports both as "File not found".
"""

from __future__ import annotations

import os
import shutil
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

#: what to do about a damaged model file, unless the caller knows better
REPAIR = "save the model again (a cached model: delete the file and it is trained again)"


def train_steps_override() -> int | None:
    """``$DANCE_TF_TRAIN_STEPS`` as a positive int (None when unset); ValueError otherwise."""
    text = os.environ.get("DANCE_TF_TRAIN_STEPS", "").strip()
    if not text:
        return None
    try:
        steps = int(text)
    except ValueError:
        steps = 0
    if steps < 1:
        raise ValueError(f"DANCE_TF_TRAIN_STEPS: expected a whole number ≥ 1, got {text!r}")
    return steps


def model_dir() -> Path:
    """Where trained models are cached: $DANCE_TF_MODELS, the repo's models/, or
    ~/.cache/dance_tf."""
    env = os.environ.get("DANCE_TF_MODELS")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2] / "models"
    if repo.is_dir() and os.access(repo, os.W_OK):
        return repo
    return Path.home() / ".cache" / "dance_tf"


def cache_dir(name: str) -> Path:
    """``<model cache>/<name>``, or ``<name>-stepsN`` under ``DANCE_TF_TRAIN_STEPS=N``."""
    steps = train_steps_override()
    return model_dir() / (name if steps is None else f"{name}-steps{steps}")


def train_once(directory: Path, marker: str, train: Callable[[Path], object], what: str,
               log=print) -> Path:
    """Make sure ``directory`` holds a trained model (its ``marker`` file); if not, run
    ``train(partial_folder)`` and move the result into place. Returns ``directory``.

    Raises ValueError when ``directory`` exists with other content (it is never replaced).
    """
    if (directory / marker).exists():
        return directory
    if directory.exists() and any(directory.iterdir()):
        raise ValueError(f"{directory}: exists but holds no trained model (no {marker}); "
                         "move it away to train the packaged model there")
    log(f"training the {what} once (cached at {directory}) ...")
    partial = directory.with_name(f".{directory.name}.{os.getpid()}.part")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        os.makedirs(partial)
        train(partial)
        if not (directory / marker).exists():  # else another process finished first
            if directory.exists():
                directory.rmdir()  # empty (checked above)
            os.replace(partial, directory)
            log(f"{what} cached at {directory}")
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return directory


def _damage(path: Path) -> str | None:
    """Why ``path`` cannot be a ``.keras`` archive (None: it looks whole, or not .keras)."""
    if path.suffix != ".keras":
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as err:
        return f"not a complete .keras zip archive: {err or type(err).__name__}"
    if bad is not None:
        return f"archive member {bad!r} fails its CRC check"
    if "config.json" not in names:
        return "the archive holds no config.json"
    return None


def load_model(path: str | os.PathLike, repair: str = REPAIR):
    """``keras.models.load_model(path, compile=False)`` with errors that say what is wrong.

    Raises FileNotFoundError (no such file) or ValueError naming the file: damaged or not a
    Keras model (a truncated or corrupt archive, or anything Keras cannot load), followed
    by ``repair`` (what the user can do).
    """
    import keras

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    reason = _damage(path)
    if reason is not None:
        raise ValueError(f"{path}: damaged or not a Keras model file ({reason}); {repair}")
    try:
        return keras.models.load_model(path, compile=False)
    except (ValueError, OSError, KeyError, TypeError, AttributeError, IndexError,
            EOFError, zipfile.BadZipFile) as err:
        text = " ".join(str(err).split())[:300] or type(err).__name__
        raise ValueError(f"{path}: damaged or not a Keras model file Keras can load "
                         f"({text}); {repair}") from err


def save_model(model, path: str | os.PathLike) -> Path:
    """``model.save`` to a temporary name in ``path``'s folder, then ``os.replace`` into
    place (a kill mid-save leaves no damaged file at ``path``); returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.part{path.suffix}")
    try:
        model.save(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
