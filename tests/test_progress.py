"""The one progress display (dance_tf.progress): plain lines, no carriage returns, when
the stream is not a terminal."""

from __future__ import annotations

import io


def test_progress_writes_plain_lines_when_not_a_terminal():
    from dance_tf.progress import progress, ticker

    stream = io.StringIO()
    bar = progress(total=5, desc="training", unit="step", stream=stream, every=0.0)
    for _ in range(5):
        bar.update()
    bar.close()
    with ticker("exporting", stream=stream, every=60):
        pass
    text = stream.getvalue()
    assert "\r" not in text
    assert "training: 5/5 step done" in text
    assert "exporting ..." in text and "exporting: done in" in text
