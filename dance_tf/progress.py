"""Progress for long calls: a tqdm bar on a terminal, plain dated lines otherwise.

:func:`progress` counts known work (training steps, rows, files); :func:`ticker` covers
one long call whose inside cannot report (a compiled explanation, a SavedModel export):
it shows the elapsed time while the call runs. Neither writes a carriage return into a
stream that is not a terminal (logs stay one line per report).
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager


def _is_tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class PlainProgress:
    """tqdm's ``update`` / ``set_postfix_str`` / ``close`` as plain lines: one at the start,
    then at most one every ``every`` seconds, and one at the end (count, rate, ETA)."""

    def __init__(self, total: int | None, desc: str = "", unit: str = "it", stream=None,
                 every: float = 10.0):
        self.total, self.desc, self.unit = total, desc, unit
        self.stream = stream if stream is not None else sys.stderr
        self.every, self.n, self.note = float(every), 0, ""
        self.start = self._last = time.perf_counter()
        self._closed = False
        self._write("started")

    def _write(self, state: str) -> None:
        elapsed = time.perf_counter() - self.start
        count = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        rate = self.n / elapsed if elapsed > 0 else 0.0
        eta = ""
        if self.total and 0 < self.n < self.total and rate > 0:
            eta = f", ETA {(self.total - self.n) / rate:.0f} s"
        note = f" [{self.note}]" if self.note else ""
        self.stream.write(f"{self.desc}: {count} {self.unit} {state}, {elapsed:.1f} s"
                          f"{eta}{note}\n")
        self.stream.flush()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.perf_counter()
        if now - self._last >= self.every and not (self.total and self.n >= self.total):
            self._last = now
            self._write("done")

    def set_postfix_str(self, note: str = "", refresh: bool = True) -> None:
        self.note = str(note)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._write("done" if not self.total or self.n >= self.total else "stopped")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def progress(total: int | None = None, desc: str = "", unit: str = "it", stream=None,
             enabled: bool = True, every: float = 10.0):
    """A progress counter with ``update(n)``, ``set_postfix_str(s)`` and ``close()``.

    total: the expected count (None: unknown); stream: default stderr. On a terminal this
    is a ``tqdm`` bar; elsewhere :class:`PlainProgress` (plain lines every ``every`` s);
    ``enabled=False`` gives a counter that writes nothing.
    """
    stream = stream if stream is not None else sys.stderr
    if enabled and _is_tty(stream):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit=unit, file=stream, dynamic_ncols=True)
    if not enabled:
        from tqdm.auto import tqdm

        return tqdm(total=total, disable=True)
    return PlainProgress(total, desc, unit, stream, every)


@contextmanager
def ticker(desc: str, stream=None, enabled: bool = True, every: float = 30.0):
    """Show that one long call is running: ``with ticker("explaining x.png"): ...``.

    On a terminal a tqdm line counts the elapsed seconds; elsewhere a line at the start,
    one every ``every`` seconds and one at the end with the elapsed time.
    """
    stream = stream if stream is not None else sys.stderr
    if not enabled:
        yield
        return
    tty = _is_tty(stream)
    if tty:
        from tqdm.auto import tqdm

        bar = tqdm(desc=desc, file=stream, bar_format="{desc}: {elapsed} elapsed",
                   dynamic_ncols=True)
        period = 0.5
    else:
        bar = None
        stream.write(f"{desc} ...\n")
        stream.flush()
        period = float(every)
    start = time.perf_counter()
    stop = threading.Event()

    def tick():
        while not stop.wait(period):
            if bar is not None:
                bar.refresh()
            else:
                stream.write(f"{desc}: still running, {time.perf_counter() - start:.0f} s\n")
                stream.flush()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    ok = False
    try:
        yield
        ok = True
    finally:
        stop.set()
        thread.join()
        elapsed = time.perf_counter() - start
        if bar is not None:
            bar.close()
        else:
            stream.write(f"{desc}: {'done' if ok else 'stopped'} in {elapsed:.1f} s\n")
            stream.flush()
