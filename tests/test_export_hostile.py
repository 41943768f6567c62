"""Hostile export requests (issue 24): an input shape that does not fit the model, and an
exported ``explain_targets`` called with len(targets) != len(x).

Before: the first gave Keras' "Input 0 ... is incompatible with the layer" message (multi-
line, with ANSI escapes on a terminal) and did not name ``input_shape``; the second a raw
reshape error from deep inside the pipeline.

And (issue 13) the exported model refuses non-finite inputs and a model with a NaN weight,
and ``export.save`` checks ``value_range`` and ``input_shape`` and never writes into a
folder it did not create or over its own export unless asked.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import dance_tf
from dance_tf import export
from tests.conftest import small_cnn


def _model():
    return small_cnn(size=8, classes=3, name="tiny", seed=1)


def _explainer():
    return dance_tf.Explainer(_model(), method="gradient", layer="pool1",
                              value_range=(0.0, 1.0), patches_per_mask=16)


@pytest.mark.parametrize("shape", [(5, 5), (8, 8, 2), (8, 8, 1, 1), (4, 8, 1)])
def test_input_shape_that_does_not_fit_names_both_shapes(tmp_path, shape):
    with pytest.raises(export.ExportError) as err:
        export.save(_explainer(), tmp_path / "m", input_shape=shape)
    text = str(err.value)
    assert text.startswith(f"input_shape: {shape} does not fit the model's input shape "
                           "(8, 8, 1)"), text
    assert "\n" not in text and "\x1b" not in text
    assert not (tmp_path / "m").exists()


def test_input_shape_that_fits_an_unknown_axis_is_accepted():
    """A sentence model (None, D): any length T fits, a wrong D does not."""
    keras.utils.set_random_seed(2)
    inp = keras.Input((None, 4))
    h = keras.layers.Conv1D(3, 2, padding="same", activation="relu", name="conv")(inp)
    out = keras.layers.Dense(2)(keras.layers.GlobalMaxPooling1D()(h))
    ex = dance_tf.Explainer(keras.Model(inp, out), layer="conv", value_range=(-1.0, 1.0))
    assert export._input_shape(ex, (6, 4)) == (6, 4)
    with pytest.raises(export.ExportError, match=r"\(any, 4\)"):
        export._input_shape(ex, (6, 5))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "m"
    export.save(_explainer(), path)
    return tf.saved_model.load(str(path))


@pytest.mark.parametrize("n_targets", [1, 3])
def test_explain_targets_of_the_wrong_length_is_a_clear_assertion(loaded, n_targets):
    x = np.random.default_rng(0).random((2, 8, 8, 1)).astype(np.float32)
    targets = np.zeros(n_targets, np.int32)
    for call in (lambda: loaded.explain_targets(x, targets),
                 lambda: loaded.signatures["explain_targets"](
                     x=tf.constant(x), targets=tf.constant(targets))):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"targets.*len\(targets\) != len\(x\)"):
            call()


def test_explain_targets_of_the_right_length_still_runs(loaded):
    """The check changes nothing for a valid call: the maps equal explain's (targets −1)."""
    x = np.random.default_rng(0).random((2, 8, 8, 1)).astype(np.float32)
    got = loaded.explain_targets(x, np.full(2, -1, np.int32)).numpy()
    np.testing.assert_allclose(got, loaded.explain(x).numpy(), rtol=1e-6, atol=1e-8)


def test_cli_input_shape_that_does_not_fit_is_one_line(tmp_path, capsys):
    from dance_tf import cli

    _model().save(tmp_path / "tiny.keras")
    code = cli.main(["export", "--model", str(tmp_path / "tiny.keras"), "--out",
                     str(tmp_path / "m"), "--layer", "pool1", "--value-range", "0", "1",
                     "--input-shape", "5", "5"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("dance-tf: error: --input-shape: (5, 5) does not fit the "
                              "model's input shape (8, 8, 1)"), err
    assert "\x1b" not in err[-1] and not (tmp_path / "m").exists()


# ---------------------------------------------------------------------- issue 13
def _cnn_explainer(model=None, **kw):
    kw = {"layer": "pool1", "value_range": (0.0, 1.0), "patches_per_mask": 100, **kw}
    return dance_tf.Explainer(model or small_cnn(size=8, classes=3), **kw)


@pytest.fixture(scope="module")
def exported_cnn(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "m"
    export.save(_cnn_explainer(), path)
    return tf.saved_model.load(str(path))


@pytest.mark.parametrize("where", ["one_pixel", "all", "inf"])
def test_exported_model_refuses_non_finite_inputs(exported_cnn, where):
    # before: one NaN pixel → a map for another class, fraction_certified 1.0
    x = np.random.default_rng(0).random((2, 8, 8, 1), dtype=np.float32)
    if where == "one_pixel":
        x[1, 3, 4, 0] = np.nan
    elif where == "all":
        x[:] = np.nan
    else:
        x[0, 0, 0, 0] = np.inf
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"x: .*finite"):
        exported_cnn.signatures["serving_default"](x=tf.constant(x))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"x: .*finite"):
        exported_cnn.explain(tf.constant(x))


def test_exported_model_still_explains_finite_inputs(exported_cnn):
    x = np.random.default_rng(0).random((2, 8, 8, 1), dtype=np.float32)
    out = exported_cnn.signatures["serving_default"](x=tf.constant(x))
    assert np.all(np.isfinite(out["saliency"].numpy()))


def test_model_with_a_nan_weight_is_not_certified():
    # before: certified 1.0 with NaN in the map
    model = small_cnn(size=8, classes=3)
    kernel = model.get_layer("conv1").kernel
    w = kernel.numpy()
    w[0, 0, 0, 0] = np.nan
    kernel.assign(w)
    x = np.random.default_rng(0).random((1, 8, 8, 1), dtype=np.float32)
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match="non-finite"):
        fn = export.batch_function(_cnn_explainer(model))
        fn(tf.constant(x), tf.constant([-1], tf.int32))


@pytest.mark.parametrize("value_range,err", [((np.nan, 1.0), ValueError),
                                             ((0.0, np.inf), ValueError),
                                             ((np.array([0.0, np.nan]), 1.0), ValueError),
                                             (("0", 1.0), TypeError)])
def test_export_validates_value_range(tmp_path, value_range, err):
    # before: export.save accepted value_range=(nan, 1)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, name="d1"),
                              keras.layers.Dense(2, name="logits")])
    with pytest.raises(err, match="value_range"):
        export.save(_cnn_explainer(model, value_range=value_range, layer="d1"), tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_export_refuses_a_non_empty_folder_it_did_not_create(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match=r"mine.*not empty"):
        export.save(_cnn_explainer(), target)
    assert (target / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]
    with pytest.raises(FileExistsError, match="not a dance_tf export"):
        export.save(_cnn_explainer(), target, overwrite=True)
    afile = tmp_path / "a_file"
    afile.write_text("x")
    with pytest.raises(FileExistsError, match="a_file"):
        export.save(_cnn_explainer(), afile)


def test_export_overwrites_its_own_export_only_when_asked(tmp_path):
    target = tmp_path / "m"
    export.save(_cnn_explainer(), target)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export.save(_cnn_explainer(), target)
    export.save(_cnn_explainer(), target, overwrite=True)
    assert (target / export.CONFIG_FILE).is_file()


def test_export_input_shape_is_validated(tmp_path):
    # before: input_shape=(8.7, 8, 1) was truncated to 8 silently
    for bad, err in [((8.7, 8, 1), ValueError), ((np.nan, 8, 1), ValueError),
                     (("8", 8, 1), TypeError), ("881", TypeError)]:
        with pytest.raises(err, match=r"input_shape"):
            export.save(_cnn_explainer(), tmp_path / "m", input_shape=bad)
    assert not (tmp_path / "m").exists()
