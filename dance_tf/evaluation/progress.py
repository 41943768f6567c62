"""Progress of the rows of an evaluation on stderr."""

from __future__ import annotations

import sys
import time


class Progress:
    """Progress of the rows on stderr.

    On a terminal: a ``tqdm`` bar (a maintained library: rate, ETA, the note in full).
    Elsewhere (a log file, a pipe): plain lines, the first and last step and then at most
    one every ``interval`` seconds, so a log never gets ``\\r`` updates.
    """

    def __init__(self, total: int, label: str = "", stream=None, enabled: bool = True,
                 interval: float = 30.0):
        self.total, self.label, self.enabled = total, label, enabled
        self.stream = sys.stderr if stream is None else stream
        self.interval = interval
        self.count, self.start, self._last = 0, time.perf_counter(), None
        isatty = getattr(self.stream, "isatty", None)
        self._bar = None
        if enabled and callable(isatty) and isatty():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=label, file=self.stream, unit="row",
                             dynamic_ncols=True)

    def step(self, n: int = 1, note: str = "") -> None:
        """Count ``n`` finished rows; ``note`` says which."""
        self.count += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(note, refresh=False)
            self._bar.update(n)
            return
        now = time.perf_counter()
        if (self._last is not None and self.count < self.total
                and now - self._last < self.interval):
            return
        self._last = now
        self._line(now, note)

    def _line(self, now: float, note: str) -> None:
        from tqdm import tqdm

        elapsed = now - self.start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        eta = tqdm.format_interval((self.total - self.count) / rate) if rate > 0 else "?"
        self.stream.write(f"{self.label}: {self.count}/{self.total} rows "
                          f"({self.count / max(1, self.total):.0%}), {rate:.2f} rows/s, "
                          f"elapsed {tqdm.format_interval(elapsed)}, ETA {eta}"
                          + (f" - {note}" if note else "") + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
