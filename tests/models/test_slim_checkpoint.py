"""Slim checkpoint loader: bad input gives clear errors and loads nothing (S5).

Checkpoints are written with ``tf.raw_ops.SaveV2`` under slim's variable names; the
models are small stand-ins following the zoo's layer naming, plus one resnet_v1_50.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from dance_tf.models import load_slim_checkpoint, resnet_v1_50
from dance_tf.models.slim_checkpoint import SlimCheckpointError, slim_variable_map


def tiny_model(classes: int = 5) -> keras.Model:
    """conv1 (conv + BN + ReLU, resnet style), pool1, logits — slim-style names."""
    L = keras.layers
    x = keras.Input((8, 8, 3))
    h = L.Conv2D(4, 3, padding="same", use_bias=False, name="conv1.Conv2D")(x)
    h = L.BatchNormalization(epsilon=1e-5, name="conv1.BatchNorm")(h)
    h = L.ReLU(name="conv1")(h)
    h = L.GlobalAveragePooling2D(keepdims=True, name="pool1")(h)
    h = L.Conv2D(classes, 1, name="logits")(h)
    return keras.Model(x, L.Reshape((classes,))(h), name="tiny")


def save(prefix: str, tensors: dict[str, np.ndarray]) -> str:
    names = sorted(tensors)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(tensors[n]) for n in names])
    return prefix


def slim_values(model: keras.Model, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {n: rng.normal(size=tuple(v.shape)).astype(np.float32)
            for n, v in slim_variable_map(model).items()}


def weights_of(model):
    return [w.copy() for w in model.get_weights()]


def unchanged(model, before) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before, strict=True))


def test_names_follow_slim():
    assert sorted(slim_variable_map(tiny_model())) == [
        "tiny/conv1/BatchNorm/beta", "tiny/conv1/BatchNorm/gamma",
        "tiny/conv1/BatchNorm/moving_mean", "tiny/conv1/BatchNorm/moving_variance",
        "tiny/conv1/weights", "tiny/logits/biases", "tiny/logits/weights"]


def test_exact_load_and_ignored_training_state(tmp_path):
    """Published slim checkpoints also hold ``global_step`` (int64) and ``<scope>/mean_rgb``."""
    model = tiny_model()
    values = slim_values(model)
    mean = np.array([123.68, 116.779, 103.939], np.float32)
    extra = {"global_step": np.int64(7), "tiny/mean_rgb": mean,
             "tiny/logits/weights/Momentum": np.ones((1, 1, 4, 5), np.float32)}
    report = load_slim_checkpoint(model, save(str(tmp_path / "ck"), {**values, **extra}))
    assert report["ignored"] == sorted(extra)
    np.testing.assert_array_equal(report["metadata"]["mean_rgb"], mean)
    got = dict(zip([w.path for w in model.weights], model.get_weights(), strict=True))
    np.testing.assert_array_equal(got["conv1.BatchNorm/moving_variance"],
                                  values["tiny/conv1/BatchNorm/moving_variance"])
    np.testing.assert_array_equal(got["logits/kernel"], values["tiny/logits/weights"])


@pytest.mark.parametrize("case", ["missing", "extra", "misshaped"])
def test_mismatch_lists_variables_and_loads_nothing(tmp_path, case):
    model = tiny_model()
    before = weights_of(model)
    values = slim_values(model)
    if case == "missing":
        del values["tiny/conv1/BatchNorm/moving_mean"]
        expect = "missing from checkpoint.*tiny/conv1/BatchNorm/moving_mean"
    elif case == "extra":
        values["tiny/conv2/weights"] = np.zeros((3, 3, 4, 4), np.float32)
        expect = "in checkpoint but not in model.*tiny/conv2/weights"
    else:
        values["tiny/conv1/weights"] = np.zeros((5, 5, 3, 4), np.float32)
        expect = r"shape mismatch.*tiny/conv1/weights: checkpoint \[5, 5, 3, 4\]"
    with pytest.raises(SlimCheckpointError, match=f"(?s){expect}"):
        load_slim_checkpoint(model, save(str(tmp_path / "ck"), values))
    assert unchanged(model, before)


def test_class_count_mismatch_is_explained(tmp_path):
    values = slim_values(tiny_model(classes=6))
    model = tiny_model(classes=5)
    prefix = save(str(tmp_path / "ck"), {k.replace("tiny", "tiny"): v for k, v in values.items()})
    with pytest.raises(SlimCheckpointError, match="class count differs"):
        load_slim_checkpoint(model, prefix)
    load_slim_checkpoint(model, prefix, drop_background_class=True)
    np.testing.assert_array_equal(model.get_layer("logits").bias.numpy(),
                                  values["tiny/logits/biases"][1:])
    small = tiny_model(classes=7)  # 6 -> 7 is never "background"
    with pytest.raises(SlimCheckpointError, match="shape mismatch"):
        load_slim_checkpoint(small, prefix, drop_background_class=True)


def test_wrong_architecture(tmp_path):
    model = resnet_v1_50(num_classes=10)
    before = model.get_layer("logits").kernel.numpy().copy()
    prefix = save(str(tmp_path / "vgg_16.ckpt"), {
        "vgg_16/conv1/conv1_1/weights": np.zeros((3, 3, 3, 64), np.float32),
        "vgg_16/conv1/conv1_1/biases": np.zeros((64,), np.float32)})
    with pytest.raises(SlimCheckpointError, match="wrong checkpoint.*vgg_16"):
        load_slim_checkpoint(model, prefix)
    np.testing.assert_array_equal(model.get_layer("logits").kernel.numpy(), before)


def test_truncated_and_non_checkpoint_files(tmp_path):
    model = tiny_model()
    before = weights_of(model)
    prefix = save(str(tmp_path / "ck"), slim_values(model))
    data = tmp_path / "ck.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    with pytest.raises(SlimCheckpointError, match="truncated"):
        load_slim_checkpoint(model, prefix)
    index = tmp_path / "ck.index"
    index.write_bytes(index.read_bytes()[:40])
    with pytest.raises(SlimCheckpointError, match="cannot read checkpoint"):
        load_slim_checkpoint(model, prefix)
    junk = tmp_path / "not_a_checkpoint.ckpt"
    junk.write_text("hello")
    with pytest.raises(SlimCheckpointError, match="cannot read checkpoint"):
        load_slim_checkpoint(model, junk)
    with pytest.raises(FileNotFoundError):
        load_slim_checkpoint(model, tmp_path / "nothing_here")
    assert unchanged(model, before)


def test_directory_and_index_paths(tmp_path):
    model = tiny_model()
    values = slim_values(model, seed=3)
    save(str(tmp_path / "model.ckpt-7"), values)
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-7"\n')
    load_slim_checkpoint(model, tmp_path)
    np.testing.assert_array_equal(model.get_layer("logits").bias.numpy(),
                                  values["tiny/logits/biases"])
    load_slim_checkpoint(model, tmp_path / "model.ckpt-7.index")
    (tmp_path / "checkpoint").unlink()
    load_slim_checkpoint(model, tmp_path)  # the only checkpoint in the directory
    save(str(tmp_path / "model.ckpt-8"), values)
    with pytest.raises(FileNotFoundError, match="several"):
        load_slim_checkpoint(model, tmp_path)


def test_v1_single_file_checkpoint(tmp_path):
    """slim's published tarballs hold V1 checkpoints: one ``vgg_16.ckpt`` file."""
    model = tiny_model()
    values = slim_values(model, seed=5)
    path = str(tmp_path / "tiny.ckpt")
    with tf.Graph().as_default():
        variables = [tf.compat.v1.get_variable(n, initializer=v) for n, v in values.items()]
        saver = tf.compat.v1.train.Saver(variables,
                                         write_version=tf.compat.v1.train.SaverDef.V1)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver.save(sess, path, write_meta_graph=False, write_state=False)
    assert os.path.isfile(path) and not os.path.exists(path + ".index")
    load_slim_checkpoint(model, path)
    np.testing.assert_array_equal(model.get_layer("conv1.Conv2D").kernel.numpy(),
                                  values["tiny/conv1/weights"])
