"""dance-tf export (dance_tf.cli.export): writes a SavedModel whose maps equal the live
explainer's; a folder that is not empty is refused without --force."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

import dance_tf
from dance_tf import cli
from tests.cli.conftest import FAST, run


def test_export_command_writes_a_loadable_savedmodel(grey_model, tmp_path, capsys):
    code, _, err = run(["export", "--model", str(grey_model), "--out",
                         str(tmp_path / "sm"), *FAST], capsys)
    assert code == 0, err
    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    x = np.random.default_rng(3).random((2, 12, 12, 1)).astype(np.float32)
    maps = loaded.explain(x).numpy()
    model = keras.models.load_model(grey_model, compile=False)
    live = dance_tf.Explainer(model, layer="pool1", value_range=(0.0, 1.0),
                              patches_per_mask=30)
    np.testing.assert_allclose(maps, live.explain_batch(x), rtol=1e-5, atol=1e-7)


def test_export_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("x")
    code = cli.main(["export", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "not empty" in err and "--force" in err
    assert (tmp_path / "keep.txt").read_text() == "x"
