"""A stop asked for by a timer, honoured between rows.

``reproduce.py --minutes`` used to stop a condition by sending SIGTERM to its own process,
turned into ``KeyboardInterrupt`` by the signal handler. Raised at an arbitrary bytecode,
that exception can land inside TensorFlow's graph tracing, which then fails with a
``SystemError`` (seen once in CI: ``Objects/listobject.c: bad argument to internal
function``) instead of stopping. A timer now only sets a flag; the evaluation loops call
:func:`check` after each row is written, so a stop lands between rows, never inside a
compiled call. A stop therefore comes at most one row late (one map and its scores).
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager

_REQUESTED = threading.Event()
_ACTIVE = threading.Event()   # a stop_after block is open (one at a time)


class StopRequested(KeyboardInterrupt):
    """Raised by :func:`check` once a stop was asked for; a ``KeyboardInterrupt``, so the
    loops' ``finally`` blocks keep and pack the rows written so far."""


def request_stop() -> None:
    """Ask the loops to stop after the row being computed (what the timer does)."""
    _REQUESTED.set()


def check() -> None:
    """Raise :class:`StopRequested` if a stop was asked for (call between rows)."""
    if _REQUESTED.is_set():
        raise StopRequested("stop requested (time limit reached)")


@contextmanager
def stop_after(seconds: float | None):
    """Ask for a stop ``seconds`` of wall time after entering (``None``: never); the
    request is withdrawn on leaving, so the next block starts clean. Blocks do not nest
    (an inner block would withdraw the outer one's request on leaving): a second block
    opened inside the first is refused."""
    if seconds is not None and (isinstance(seconds, bool)
                                or not isinstance(seconds, (int, float))
                                or not math.isfinite(seconds) or not seconds > 0):
        raise ValueError(f"seconds: expected a finite number > 0 or None, got {seconds!r}")
    if _ACTIVE.is_set():
        raise RuntimeError("stop_after: a time limit is already running; blocks do not nest")
    _ACTIVE.set()
    _REQUESTED.clear()
    timer = None
    try:   # the timer starts inside, so a thread that cannot start still closes the block
        if seconds is not None:
            timer = threading.Timer(seconds, request_stop)
            timer.daemon = True
            timer.start()
        yield
    finally:
        if timer is not None:
            timer.cancel()
        _REQUESTED.clear()
        _ACTIVE.clear()
