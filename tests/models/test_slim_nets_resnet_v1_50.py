"""resnet_v1_50: Keras builder + slim checkpoint loader against tf-slim's own graph.

Batch-norm moving statistics are randomised too, so inference-mode BN is exercised
(S5, Table S1). A 1001-class head checks the background-class handling.
"""

from __future__ import annotations

import numpy as np
import pytest

from dance_tf.models import load_slim_checkpoint, resnet_v1_50
from dance_tf.models.slim_checkpoint import SlimCheckpointError
from tests.models.slim_reference import (
    import_slim_nets,
    parity_images,
    rel_err,
    remove_checkpoint,
    slim_reference,
)

NUM_CLASSES = 1001
ENDS = {
    "conv1": "resnet_v1_50/conv1",
    "pool1": "resnet_v1_50/pool1/MaxPool:0",
    "unit_3": "resnet_v1_50/block1/unit_3/bottleneck_v1",
    "block1": "resnet_v1_50/block1",
    "block3": "resnet_v1_50/block3",
}
LAYERS = {"conv1": "conv1", "pool1": "pool1", "unit_3": "block1.unit_3.bottleneck_v1",
          "block1": "block1", "block3": "block3"}

# tf-slim's own layers call the deprecated Keras-2 ``layer.apply``
pytestmark = pytest.mark.filterwarnings("ignore:`layer.apply` is deprecated")


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    nets = import_slim_nets()
    images = parity_images()
    prefix = str(tmp_path_factory.mktemp("resnet") / "resnet_v1_50.ckpt")

    def build(x):
        with nets.resnet_v1.resnet_utils.arg_scope(nets.resnet_v1.resnet_arg_scope()):
            return nets.resnet_v1.resnet_v1_50(x, num_classes=NUM_CLASSES, is_training=False)

    ref = slim_reference(build, images, prefix, ENDS, seed=1)
    model = resnet_v1_50(num_classes=NUM_CLASSES)
    report = load_slim_checkpoint(model, prefix)
    yield model, images, ref, report, prefix
    remove_checkpoint(prefix)


def test_parameters_match_slim(parity):
    model, _, ref, report, _ = parity
    assert model.count_params() == ref["num_params"]
    assert report["loaded"] == ref["names"]


def test_logits_match_slim(parity):
    model, images, ref, _, _ = parity
    ours = model(images, training=False).numpy()
    err = rel_err(ours, ref["logits"])
    print(f"resnet_v1_50 max|dlogit|/max|logit| = {err:.2e}")
    assert err <= 1e-4
    assert np.array_equal(ours.argmax(1), ref["logits"].argmax(1))


def test_end_points_match_slim(parity):
    from dance_tf.layers import layer_model, resolve_layer

    model, images, ref, _, _ = parity
    assert resolve_layer(model, 2).name == "pool1"
    assert resolve_layer(model, "resnet_v1_50/block1/unit_1/bottleneck_v1").name == \
        "block1.unit_1.bottleneck_v1"
    f_l, _ = layer_model(model, None, images.shape[1:])
    assert f_l(images).shape == (3, 56, 56, 64)
    for key, layer in LAYERS.items():
        sub, _ = layer_model(model, layer, images.shape[1:])
        err = rel_err(sub(images).numpy(), ref[key])
        print(f"resnet_v1_50 end point {key}: {err:.2e}")
        assert err <= 1e-5, key


def test_background_class_dropped_only_on_request(parity):
    _, images, ref, _, prefix = parity
    model = resnet_v1_50(num_classes=1000)
    with pytest.raises(SlimCheckpointError, match="drop_background_class"):
        load_slim_checkpoint(model, prefix)
    load_slim_checkpoint(model, prefix, drop_background_class=True)
    ours = model(images[:1], training=False).numpy()
    assert rel_err(ours, ref["logits"][:1, 1:]) <= 1e-4
