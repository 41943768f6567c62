"""Shared by the tests of the dance-tf command (tests/cli/): a tiny saved grey CNN, a grey
PNG, fast DANCE flags, and readers of what ``dance_tf.cli.main`` printed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dance_tf import cli
from tests.conftest import saved_tiny_cnn

#: DANCE flags that keep an explain / export run on the tiny CNN quick
FAST = ["--patches-per-mask", "30", "--layer", "pool1"]


@pytest.fixture(scope="module")
def grey_model(tmp_path_factory):
    """A seeded 12×12×1 → 3 classes CNN saved as a .keras file (its path)."""
    return saved_tiny_cnn(tmp_path_factory.mktemp("m"), (12, 12, 1), 3, "tiny_grey")


def grey_png(path, size=(16, 16), seed=0):
    """A random grey PNG of ``size`` (W, H) written at ``path``; the path."""
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random(size[::-1]) * 255).astype(np.uint8), "L").save(path)
    return path


def run(argv, capsys):
    """(exit status, stdout, stderr) of ``dance-tf ARGV``."""
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def help_text(argv, capsys) -> str:
    """What ``dance-tf ARGV --help`` prints (it exits with status 0)."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv + ["--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def one_error_line(capsys) -> str:
    """The one ``dance-tf`` error line on stderr (no colours, no traceback)."""
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("dance-tf")]
    assert len(lines) == 1, err
    assert "\x1b" not in lines[0] and "Traceback" not in err, err
    return lines[0]
