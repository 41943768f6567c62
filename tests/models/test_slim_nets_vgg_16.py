"""vgg_16: Keras builder + slim checkpoint loader against tf-slim's own graph (S5, Table S1).

One full-size vgg_16 (num_classes=10 keeps fc8 small; fc6 dominates anyway).
"""

from __future__ import annotations

import numpy as np
import pytest

from dance_tf.models import load_slim_checkpoint, vgg_16
from tests.models.slim_reference import (
    import_slim_nets,
    parity_images,
    rel_err,
    remove_checkpoint,
    slim_reference,
)

NUM_CLASSES = 10

# tf-slim's own layers call the deprecated Keras-2 ``layer.apply``
pytestmark = pytest.mark.filterwarnings("ignore:`layer.apply` is deprecated")


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    nets = import_slim_nets()
    images = parity_images()
    prefix = str(tmp_path_factory.mktemp("vgg16") / "vgg_16.ckpt")

    def build(x):
        with nets.vgg.arg_scope(nets.vgg.vgg_arg_scope()):
            return nets.vgg.vgg_16(x, num_classes=NUM_CLASSES, is_training=False)

    ref = slim_reference(build, images, prefix,
                         {"pool1": "vgg_16/pool1", "conv1_2": "vgg_16/conv1/conv1_2",
                          "pool5": "vgg_16/pool5"})
    model = vgg_16(num_classes=NUM_CLASSES)
    report = load_slim_checkpoint(model, prefix)
    yield model, images, ref, report
    remove_checkpoint(prefix)


def test_parameters_match_slim(parity):
    model, _, ref, report = parity
    assert model.count_params() == ref["num_params"]
    assert report["loaded"] == ref["names"]
    assert report["ignored"] == []


def test_logits_match_slim(parity):
    model, images, ref, _ = parity
    ours = model(images, training=False).numpy()
    err = rel_err(ours, ref["logits"])
    print(f"vgg_16 max|dlogit|/max|logit| = {err:.2e}")
    assert err <= 1e-4
    assert np.array_equal(ours.argmax(1), ref["logits"].argmax(1))


def test_table_s1_layer_is_pool1_and_matches_slim(parity):
    from dance_tf.layers import layer_model, resolve_layer

    model, images, ref, _ = parity
    assert resolve_layer(model, 3).name == "pool1"
    assert resolve_layer(model, "vgg_16/pool1").name == "pool1"
    assert resolve_layer(model, "vgg_16/conv1/conv1_2").name == "conv1.conv1_2"
    f_l, _ = layer_model(model, None, images.shape[1:])
    out = f_l(images).numpy()
    assert out.shape == ref["pool1"].shape == (3, 112, 112, 64)
    assert rel_err(out, ref["pool1"]) <= 1e-5
    for key, layer in (("conv1_2", "conv1.conv1_2"), ("pool5", "pool5")):
        sub, _ = layer_model(model, layer, images.shape[1:])
        assert rel_err(sub(images).numpy(), ref[key]) <= 1e-5
