"""Train a packaged task model once and cache it (SST CNN, IDS MLP).

The cache folder is ``<model cache>/<name>`` (the digits model's cache, see
``dance_tf.models.digits.model_dir``), or ``<name>-stepsN`` under ``DANCE_TF_TRAIN_STEPS=N``
(a quick model for tests never takes the real model's name). Training writes into a
private ``.part`` folder that is renamed when complete: an interrupted training leaves
nothing behind, and a folder that holds something else is never replaced.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path


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


def cache_dir(name: str) -> Path:
    """``<model cache>/<name>``, or ``<name>-stepsN`` under ``DANCE_TF_TRAIN_STEPS=N``."""
    from dance_tf.models.digits import model_dir

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
