"""The progress of an evaluation's rows (dance_tf.progress, as the runner steps it): plain
lines with the whole note in a log, a tqdm bar on a terminal."""

from __future__ import annotations

import io

from dance_tf.evaluation import runner
from dance_tf.progress import progress


class _Stream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self._tty = tty

    def isatty(self):
        return self._tty


def test_progress_in_a_log_is_plain_lines_with_the_whole_note():
    stream = _Stream(tty=False)
    note = "digits-test-0001 integrated_gradients decoys (a long note)"
    bar = progress(3, "digits", unit="rows", stream=stream, every=0.0)
    for _ in range(3):
        runner._step(bar, note)
    bar.close()
    text = stream.getvalue()
    assert "\r" not in text
    # started, after rows 1 and 2, and done: the last row is reported once, by close()
    assert text.count("\n") == 4 and note in text and "3/3 rows done" in text


def test_progress_on_a_terminal_is_a_tqdm_bar():
    stream = _Stream(tty=True)
    bar = progress(2, "digits", unit="rows", stream=stream)
    runner._step(bar, "a")
    runner._step(bar, "b")
    bar.close()
    assert "\r" in stream.getvalue() and "2/2" in stream.getvalue()
