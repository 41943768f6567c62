"""Shared helpers for the zoo parity tests: tf-slim's own graphs as the reference.

No tests here. The reference side never touches dance_tf's models: it builds the net
with ``tf_slim.nets`` in a ``tf.compat.v1`` graph, gives every variable random values
(batch-norm statistics included), writes a real slim checkpoint with a v1 ``Saver``
and evaluates logits and end points in a session.
"""

from __future__ import annotations

import importlib
import os
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import FIXTURES as TEST_FIXTURES

FIXTURES = str(TEST_FIXTURES / "imagenet")
PARITY_IMAGES = ("n01440764_tench.jpg", "n03417042_garbage_truck.jpg",
                 "n03445777_golf_ball.jpg")


def import_slim_nets():
    """``tf_slim.nets`` (skips the test when tf-slim / tf-keras are not installed).

    tf-slim's batch norm imports ``tf_keras.legacy_tf_layers``, which tf-keras ≥ 2.16
    keeps under ``tf_keras.src``: alias it before importing tf_slim (TOOLCHAIN.md).
    """
    pytest.importorskip("tf_keras")
    for sub in ("legacy_tf_layers", "legacy_tf_layers.normalization"):
        key = f"tf_keras.{sub}"
        if key not in sys.modules:
            sys.modules[key] = importlib.import_module(f"tf_keras.src.{sub}")
    pytest.importorskip("tf_slim")
    return importlib.import_module("tf_slim.nets")


def parity_images(size: int = 224, mode: str = "slim_rgb") -> np.ndarray:
    """The fixture photos, preprocessed: float32 (3, size, size, 3)."""
    from dance_tf.data.imagenet import load_image

    return np.stack([load_image(os.path.join(FIXTURES, f), size=size, mode=mode)
                     for f in PARITY_IMAGES])


def random_value(name: str, shape, rng: np.random.Generator) -> np.ndarray:
    """A random value for a slim variable, scaled so that deep nets stay finite."""
    shape = tuple(shape)
    leaf = name.rsplit("/", 1)[-1]
    if leaf == "weights":
        fan_in = int(np.prod(shape[:-1]))
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    if leaf == "biases":
        return rng.normal(0.0, 0.1, shape)
    if leaf == "gamma":
        return rng.uniform(0.5, 1.5, shape)
    if leaf in ("beta", "moving_mean"):
        return rng.normal(0.0, 0.2, shape)
    if leaf == "moving_variance":
        return rng.uniform(0.5, 2.0, shape)
    raise AssertionError(f"unexpected slim variable {name}")


def slim_reference(build, images: np.ndarray, prefix: str, tensors: dict[str, str],
                   seed: int = 0) -> dict:
    """Build a slim net, randomise it, save a checkpoint at ``prefix`` and evaluate.

    ``build(inputs) -> (logits, end_points)`` builds the slim net (inside its arg
    scope, inference mode). ``tensors`` maps a result key to a slim end-point key or
    a graph tensor name (``"resnet_v1_50/pool1/MaxPool:0"``). Returns
    ``{"logits": (N, C), key: array, ..., "num_params": int, "names": [...]}``.
    """
    rng = np.random.default_rng(seed)
    graph = tf.Graph()
    with graph.as_default():
        inputs = tf.compat.v1.placeholder(tf.float32, (None,) + images.shape[1:])
        logits, end_points = build(inputs)
        fetch = {"logits": logits}
        for key, ref in tensors.items():
            fetch[key] = end_points[ref] if ref in end_points else graph.get_tensor_by_name(ref)
        variables = tf.compat.v1.global_variables()
        saver = tf.compat.v1.train.Saver(variables)
        with tf.compat.v1.Session(graph=graph) as sess:
            for var in variables:
                value = random_value(var.op.name, var.shape.as_list(), rng)
                var.load(value.astype(np.float32), sess)
            saver.save(sess, prefix, write_meta_graph=False, write_state=False)
            out = sess.run(fetch, {inputs: images})
    out["logits"] = out["logits"].reshape(len(images), -1)
    out["num_params"] = int(sum(np.prod(v.shape.as_list()) for v in variables))
    out["names"] = sorted(v.op.name for v in variables)
    return out


def rel_err(ours: np.ndarray, ref: np.ndarray) -> float:
    """max |ours - ref| / max |ref| (ref's scale; the issue's 'relative to logit scale')."""
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    scale = float(np.max(np.abs(ref)))
    assert scale > 0 and np.isfinite(scale)
    return float(np.max(np.abs(ours - ref))) / scale


def remove_checkpoint(prefix: str) -> None:
    """Delete a V2 checkpoint's files (they are hundreds of MB for the full nets)."""
    folder, stem = os.path.split(prefix)
    for name in os.listdir(folder):
        if name.startswith(stem + "."):
            os.remove(os.path.join(folder, name))
