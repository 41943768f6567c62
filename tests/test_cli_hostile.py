"""The command line's promise (issue 24): one line and exit status 2 for any bad input,
including errors raised while TensorFlow traces the explainer.

Before: ``--sg-samples 0`` / ``--ig-steps 0`` / ``--sg-noise -1`` were accepted by the
parser and refused only after the model loaded (a 12-line autograph trace in the issue's
run); a TypeError, an ``InvalidArgumentError`` or autograph's ``StagingError`` raised during
a run escaped ``main`` as a traceback, and a Keras message kept its lines and ANSI colours.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow.python.autograph.impl.api import StagingError

from dance_tf import cli
from dance_tf.errors import InputError
from tests.conftest import small_cnn


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """(a tiny .keras model, a 12×12 grey PNG) in a temporary folder."""
    folder = tmp_path_factory.mktemp("cli")
    small_cnn().save(folder / "tiny.keras")
    pixels = (np.random.default_rng(0).random((12, 12)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(folder / "x.png")
    return folder / "tiny.keras", folder / "x.png"


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("dance-tf")]
    assert len(lines) == 1, err
    assert "\x1b" not in lines[0] and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("flags, names", [
    (["--method", "sg", "--sg-samples", "0"], "--sg-samples: samples"),
    (["--method", "sg", "--sg-samples", "2.5"], "--sg-samples: samples"),
    (["--method", "ig", "--ig-steps", "0"], "--ig-steps: steps"),
    (["--method", "ig", "--ig-steps", "nan"], "--ig-steps: steps"),
    (["--method", "sg", "--sg-noise", "-1"], "--sg-noise: noise"),
    (["--method", "sg", "--sg-noise", "inf"], "--sg-noise: noise"),
    (["--method", "sg", "--sg-noise", "lots"], "--sg-noise: noise"),
])
@pytest.mark.parametrize("command", ["explain", "export"])
def test_base_method_numbers_are_refused_at_parse_time(command, flags, names, capsys,
                                                       tmp_path):
    """The model named does not exist: only a refusal while parsing names the flag."""
    where = ["in.png"] if command == "explain" else ["--out", str(tmp_path / "o")]
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, *where, "--model", str(tmp_path / "missing.keras"), *flags])
    assert exit_.value.code == 2
    line = _one_error_line(capsys)
    assert names in line, line
    assert "missing.keras" not in line


def test_valid_base_method_numbers_parse():
    args = cli.build_parser().parse_args(["explain", "x.png", "--method", "sg",
                                          "--sg-samples", "3", "--sg-noise", "0.2"])
    opts = cli.explainer_options(args)
    assert opts["samples"] == 3 and opts["noise"] == pytest.approx(0.2)


def test_unknown_flag_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["explain", "x.png", "--no-such-flag"])
    assert exit_.value.code == 2
    assert "--no-such-flag" in _one_error_line(capsys)


@pytest.mark.parametrize("flags, names", [
    (["--method", "gradcam", "--method-option", "layer=conv9"], "layer"),
    (["--layer", "99"], "layer"),
    (["--target", "7"], "target"),
    (["--patch-size", "100"], "patch_size"),
])
def test_refusals_during_the_run_are_one_line(files, flags, names, capsys, tmp_path):
    model, image = files
    code = cli.main(["explain", str(image), "--model", str(model), "--out",
                     str(tmp_path / "o"), *flags])
    assert code == 2
    assert names in _one_error_line(capsys)
    assert not (tmp_path / "o").exists()


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
    line = _one_error_line(capsys)
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
