"""One line and exit status 2 for any bad input (dance_tf.cli.console.user_error), including
errors raised while TensorFlow traces the explainer (issue 24): a TypeError, an
``InvalidArgumentError`` or autograph's ``StagingError`` raised during a run no longer
escapes ``main`` as a traceback, and a Keras message loses its lines and ANSI colours; a bug
is still a traceback, and so is everything with ``--verbose``."""

from __future__ import annotations

import pytest
import tensorflow as tf
from tensorflow.python.autograph.impl.api import StagingError

from dance_tf import cli
from dance_tf.errors import InputError
from tests.cli.conftest import one_error_line


def _keras_message():
    return ValueError("\x1b[1mException encountered when calling Conv2D.call().\x1b[0m\n\n"
                      "\x1b[1mInput 0 of layer conv is incompatible: expected axis -1 = 1, "
                      "found 3\x1b[0m\n\nArguments received by Conv2D.call():\n"
                      "  • inputs=tf.Tensor(shape=(1, 8, 8, 3), dtype=float32)")


def _staging_error():
    err = StagingError("in user code:\n\n    File \"m.py\", line 3, in f\n        raise\n\n"
                       "    InputError: x: wrapped refusal\n")
    err.__cause__ = InputError("x: wrapped refusal")
    return err


def _graph_error():
    return tf.errors.InvalidArgumentError(
        None, None, "Graph execution error:\n\nDetected at node Assert defined at (most "
        "recent call last):\n  File \"m.py\", line 3, in f\n\n{{function_node "
        "__inference_f_1}} assertion failed: [x: must be finite] [Condition x did not "
        "hold]\n\t [[{{node Assert}}]] [Op:__inference_f_37]")


@pytest.mark.parametrize("raised, want", [
    (lambda: TypeError("targets: expected integers, got float32"),
     "dance-tf: error: targets: expected integers, got float32"),
    (_graph_error, "dance-tf: error: assertion failed: [x: must be finite]"),
    (_staging_error, "dance-tf: error: x: wrapped refusal"),
    (_keras_message, "dance-tf: error: Input 0 of layer conv is incompatible: expected "
                     "axis -1 = 1, found 3"),
])
@pytest.mark.parametrize("command", ["explain", "export"])
def test_errors_raised_anywhere_in_a_run_are_one_line(command, raised, want, monkeypatch,
                                                      capsys, tmp_path):
    def run(args):
        raise raised()

    monkeypatch.setattr(cli, f"cmd_{command}", run)
    where = ["in.png"] if command == "explain" else ["--out", str(tmp_path / "o")]
    assert cli.main([command, *where]) == 2
    line = one_error_line(capsys)
    assert line.startswith(want), line
    assert "{{" not in line and "[Op:" not in line


def test_a_bug_is_still_a_traceback(monkeypatch):
    """Only bad input is shortened: a RuntimeError (a bug in dance_tf) is re-raised."""
    def run(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "cmd_explain", run)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["explain", "in.png"])


def test_verbose_keeps_the_traceback(monkeypatch):
    def run(args):
        raise _graph_error()

    monkeypatch.setattr(cli, "cmd_explain", run)
    with pytest.raises(tf.errors.InvalidArgumentError):
        cli.main(["explain", "in.png", "--verbose"])
