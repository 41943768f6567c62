"""scripts/explain_image.py end to end on a (random-weight) slim resnet_v1_50 checkpoint,
with tiny settings: one mask, two decoys, two steps (Fig. 2A panels)."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from dance_tf.models.slim_checkpoint import slim_variable_map
from dance_tf.models.slim_nets import resnet_v1_50
from tests.conftest import load_script
from tests.models.slim_reference import FIXTURES, random_value, remove_checkpoint


def test_explain_image_writes_panels(tmp_path):
    rng = np.random.default_rng(0)
    names = sorted(slim_variable_map(resnet_v1_50()).items())
    prefix = str(tmp_path / "resnet_v1_50.ckpt")
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=[n for n, _ in names],
                      shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(random_value(n, v.shape, rng), tf.float32)
                               for n, v in names])
    out = tmp_path / "panels.png"
    result = load_script("explain_image").main([
        os.path.join(FIXTURES, "n03445777_golf_ball.jpg"), "--net", "resnet_v1_50",
        "--checkpoint", prefix, "--stride", "16", "--patches-per-mask", "1000",
        "--out", str(out), "--save-maps"])
    assert out.stat().st_size > 0 and result["out"] == str(out)
    maps = result["maps"]["gradient"]
    assert maps["with decoys"].shape == maps["without decoys"].shape == (224, 224, 3)
    assert np.isfinite(maps["with decoys"]).all() and np.abs(maps["without decoys"]).max() > 0
    with np.load(tmp_path / "panels.npz") as saved:
        np.testing.assert_array_equal(saved["gradient/with_decoys"], maps["with decoys"])
    assert isinstance(result["class_name"], str) and 0 <= result["target"] < 1000
    remove_checkpoint(prefix)
