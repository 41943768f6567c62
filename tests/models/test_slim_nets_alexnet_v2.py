"""alexnet_v2: Keras builder + slim checkpoint loader against tf-slim's own graph.

No published alexnet_v2 checkpoint exists (users bring their own); the parity holds for
any weights, shown here on random ones (S5, Table S1).
"""

from __future__ import annotations

import numpy as np
import pytest

from dance_tf.models import alexnet_v2, load_slim_checkpoint
from tests.models.slim_reference import (
    import_slim_nets,
    parity_images,
    rel_err,
    remove_checkpoint,
    slim_reference,
)

NUM_CLASSES = 1000

# tf-slim's own layers call the deprecated Keras-2 ``layer.apply``
pytestmark = pytest.mark.filterwarnings("ignore:`layer.apply` is deprecated")


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    nets = import_slim_nets()
    images = parity_images()
    prefix = str(tmp_path_factory.mktemp("alexnet") / "model.ckpt-1")

    def build(x):
        with nets.alexnet.arg_scope(nets.alexnet.alexnet_v2_arg_scope()):
            return nets.alexnet.alexnet_v2(x, num_classes=NUM_CLASSES, is_training=False)

    ref = slim_reference(build, images, prefix,
                         {"conv4": "alexnet_v2/conv4", "pool5": "alexnet_v2/pool5"}, seed=2)
    model = alexnet_v2(num_classes=NUM_CLASSES)
    report = load_slim_checkpoint(model, prefix)
    yield model, images, ref, report
    remove_checkpoint(prefix)


def test_parameters_match_slim(parity):
    model, _, ref, report = parity
    assert model.count_params() == ref["num_params"]
    assert report["loaded"] == ref["names"]


def test_logits_match_slim(parity):
    model, images, ref, _ = parity
    ours = model(images, training=False).numpy()
    err = rel_err(ours, ref["logits"])
    print(f"alexnet_v2 max|dlogit|/max|logit| = {err:.2e}")
    assert err <= 1e-4
    assert np.array_equal(ours.argmax(1), ref["logits"].argmax(1))


def test_table_s1_layer_is_conv4_and_matches_slim(parity):
    from dance_tf.layers import layer_model, resolve_layer

    model, images, ref, _ = parity
    assert resolve_layer(model, 6).name == "conv4"
    f_l, _ = layer_model(model, None, images.shape[1:])
    out = f_l(images).numpy()
    assert out.shape == ref["conv4"].shape == (3, 12, 12, 384)
    assert rel_err(out, ref["conv4"]) <= 1e-5
    sub, _ = layer_model(model, "alexnet_v2/pool5", images.shape[1:])
    assert rel_err(sub(images).numpy(), ref["pool5"]) <= 1e-5


def test_softmax_and_end_point_helpers(parity):
    from dance_tf.models.slim_nets import end_point, with_softmax

    model, images, ref, _ = parity
    probs = with_softmax(model)(images).numpy()
    z = ref["logits"] - ref["logits"].max(1, keepdims=True)
    np.testing.assert_allclose(probs, np.exp(z) / np.exp(z).sum(1, keepdims=True),
                               rtol=1e-4, atol=1e-7)
    assert with_softmax(model).preprocessing == "slim_rgb"
    assert rel_err(end_point(model, "alexnet_v2/conv4")(images).numpy(), ref["conv4"]) <= 1e-5
    assert end_point(model, "alexnet_v2/fc8")(images).shape == (3, NUM_CLASSES)
    with pytest.raises(ValueError, match="no end point"):
        end_point(model, "alexnet_v2/conv9")
