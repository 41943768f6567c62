"""The models the commands name (dance_tf.cli.models): a model that cannot be loaded, or
does not fit the input kind, is one line naming what to pass; the probabilities and class
names shown for a prediction."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dance_tf.cli import models
from tests.cli.conftest import run
from tests.conftest import small_cnn


@pytest.mark.parametrize("argv, message", [
    (["explain", "/nonexistent/x.png"], "no such image file"),
    (["explain", "some words", "--sentence", "--model", "digits"], "trained SST model"),
    (["explain", "x.png", "--model", "vgg_16"], "--checkpoint"),
    (["export", "--out", "/tmp/never", "--model", "nonexistent.bin"], "expected 'digits'"),
])
def test_bad_input_gives_a_one_line_error(argv, message, capsys, tmp_path):
    if argv[1] == "x.png":
        argv = argv.copy()
        argv[1] = str(tmp_path / "x.png")
        Image.new("RGB", (8, 8)).save(argv[1])
    code, _, err = run(argv, capsys)
    assert code == 2
    assert message in err and err.startswith("dance-tf: error:")


def test_probabilities_are_the_softmax_of_the_logits_and_classes_are_named():
    model = small_cnn(classes=3)
    x = np.random.default_rng(0).random((12, 12, 1)).astype(np.float32)
    z = np.asarray(model(x[None]), np.float64)[0]
    p = models.probabilities(model, x)
    np.testing.assert_allclose(p, np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
                               rtol=1e-5)
    assert models.class_name(model, "sst", 1, ("neg", "pos")) == "1 (pos)"
    assert models.class_name(model, "keras", 2) == "2"
