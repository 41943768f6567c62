"""What the ``dance-tf`` commands print and how they start: :class:`CLIError` (a user
error, one line, exit status 2), :func:`user_error` (which exception of a run is a bad
input to report as one line, and which a bug to re-raise), :func:`log` and :func:`timed`
(lines on stderr), and :func:`quiet_tensorflow` (TensorFlow imported without its C++
start-up lines)."""

from __future__ import annotations

import os
import sys


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def log(msg: str) -> None:
    """One line on stderr, flushed (the commands' progress and what they wrote)."""
    print(msg, file=sys.stderr, flush=True)


def timed(desc: str, fn, *a, **kw):
    """``fn(*a, **kw)`` under a progress ticker saying ``desc`` (``dance_tf.progress``)."""
    from dance_tf.progress import ticker

    with ticker(desc):
        return fn(*a, **kw)


def quiet_tensorflow(verbose: bool = False) -> None:
    """Import TensorFlow with its C++ start-up lines hidden (unless ``verbose``).

    TF_CPP_MIN_LOG_LEVEL=2 hides its INFO / WARNING lines; the CUDA probe's lines are
    written before that setting is read, so stderr (file descriptor 2) is pointed at
    /dev/null while TensorFlow is imported and its devices are listed.
    """
    if "tensorflow" in sys.modules:
        return
    if verbose:
        import tensorflow  # noqa: F401
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. captured): import plainly
        import tensorflow  # noqa: F401
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def user_error(err: BaseException) -> BaseException | None:
    """The error to report as one line for a bad input (a DanceError in the chain of
    causes first: autograph wraps errors raised while tracing), or None for a bug."""
    chain, seen, e = [], set(), err
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        chain.append(e)
        e = e.__cause__ or e.__context__
    from dance_tf.errors import DanceError

    for e in chain:
        if isinstance(e, DanceError):
            return e
    if isinstance(err, (OSError, ValueError, TypeError)):
        return err
    if "tensorflow" in sys.modules:
        import tensorflow as tf
        from tensorflow.python.autograph.impl.api import StagingError

        if isinstance(err, (tf.errors.InvalidArgumentError, StagingError)):
            return err
    return None
