"""alexnet_v2, vgg_16, resnet_v1_50: Keras builders + slim checkpoint loader against
tf-slim's own graph (S5, Table S1).

The parity holds for any weights, shown here on random ones: no published alexnet_v2
checkpoint exists (users bring their own). vgg_16 is full-size (num_classes=10 keeps fc8
small; fc6 dominates anyway). resnet_v1_50's batch-norm moving statistics are randomised
too, so inference-mode BN is exercised; its 1001-class head checks the background-class
handling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pytest

from dance_tf.models import alexnet_v2, load_slim_checkpoint, resnet_v1_50, vgg_16
from dance_tf.models.slim_checkpoint import SlimCheckpointError
from tests.models.slim_reference import (
    import_slim_nets,
    parity_images,
    rel_err,
    remove_checkpoint,
    slim_reference,
)

# tf-slim's own layers call the deprecated Keras-2 ``layer.apply``
pytestmark = pytest.mark.filterwarnings("ignore:`layer.apply` is deprecated")


@dataclass(frozen=True)
class SlimNet:
    builder: Callable                  # dance_tf's Keras builder
    slim: tuple[str, str, str]         # tf_slim.nets module, its build function, arg scope
    num_classes: int
    seed: int                          # of the random weights
    checkpoint: str                    # the checkpoint prefix's file name
    ends: dict[str, str]               # reference key -> slim end point or graph tensor
    layers: dict[str, str]             # reference key -> the layer_model layer compared to it
    table_s1: tuple[int, str, tuple]   # layer ℓ, its name (= its reference key), output shape


NETS = {
    "alexnet_v2": SlimNet(
        alexnet_v2, ("alexnet", "alexnet_v2", "alexnet_v2_arg_scope"), 1000, seed=2,
        checkpoint="model.ckpt-1",
        ends={"conv4": "alexnet_v2/conv4", "pool5": "alexnet_v2/pool5"},
        layers={"pool5": "alexnet_v2/pool5"},
        table_s1=(6, "conv4", (3, 12, 12, 384))),
    "vgg_16": SlimNet(
        vgg_16, ("vgg", "vgg_16", "vgg_arg_scope"), 10, seed=0,
        checkpoint="vgg_16.ckpt",
        ends={"pool1": "vgg_16/pool1", "conv1_2": "vgg_16/conv1/conv1_2",
              "pool5": "vgg_16/pool5"},
        layers={"conv1_2": "conv1.conv1_2", "pool5": "pool5"},
        table_s1=(3, "pool1", (3, 112, 112, 64))),
    "resnet_v1_50": SlimNet(
        resnet_v1_50, ("resnet_v1", "resnet_v1_50", "resnet_arg_scope"), 1001, seed=1,
        checkpoint="resnet_v1_50.ckpt",
        ends={"conv1": "resnet_v1_50/conv1", "pool1": "resnet_v1_50/pool1/MaxPool:0",
              "unit_3": "resnet_v1_50/block1/unit_3/bottleneck_v1",
              "block1": "resnet_v1_50/block1", "block3": "resnet_v1_50/block3"},
        layers={"conv1": "conv1", "pool1": "pool1", "unit_3": "block1.unit_3.bottleneck_v1",
                "block1": "block1", "block3": "block3"},
        table_s1=(2, "pool1", (3, 56, 56, 64))),
}


class Parity(NamedTuple):
    name: str
    net: SlimNet
    model: object       # the dance_tf model with the slim checkpoint loaded
    images: np.ndarray
    ref: dict           # slim_reference's logits, end points, parameter count and names
    report: dict        # load_slim_checkpoint's report
    prefix: str         # the slim checkpoint


def build_parity(name: str, folder) -> Parity:
    """tf-slim's reference for one net, its checkpoint loaded into the dance_tf builder."""
    net = NETS[name]
    module, function, arg_scope = net.slim
    slim = getattr(import_slim_nets(), module)
    images = parity_images()
    prefix = str(folder / net.checkpoint)

    def build(x):
        with slim.arg_scope(getattr(slim, arg_scope)()):
            return getattr(slim, function)(x, num_classes=net.num_classes, is_training=False)

    ref = slim_reference(build, images, prefix, net.ends, seed=net.seed)
    model = net.builder(num_classes=net.num_classes)
    report = load_slim_checkpoint(model, prefix)
    return Parity(name, net, model, images, ref, report, prefix)


@pytest.fixture(scope="module")
def parity_of(tmp_path_factory):
    """``parity_of(name)``: that net's Parity, built on first use and kept for the module.

    The net-specific tests below run after the parametrized groups (pytest orders them by
    parameter index, so a one-value ``indirect`` parametrization would rebuild the net);
    this cache builds every reference once whatever the order.
    """
    built: dict[str, Parity] = {}

    def get(name: str) -> Parity:
        if name not in built:
            built[name] = build_parity(name, tmp_path_factory.mktemp(name))
        return built[name]

    yield get
    for parity in built.values():
        remove_checkpoint(parity.prefix)


@pytest.fixture(scope="module", params=list(NETS))
def parity(request, parity_of):
    return parity_of(request.param)


# -- every net -----------------------------------------------------------------------


def test_parameters_match_slim(parity):
    assert parity.model.count_params() == parity.ref["num_params"]
    assert parity.report["loaded"] == parity.ref["names"]


def test_logits_match_slim(parity):
    model, images, ref = parity.model, parity.images, parity.ref
    ours = model(images, training=False).numpy()
    err = rel_err(ours, ref["logits"])
    print(f"{parity.name} max|dlogit|/max|logit| = {err:.2e}")
    assert err <= 1e-4
    assert np.array_equal(ours.argmax(1), ref["logits"].argmax(1))


def test_table_s1_layer_matches_slim(parity):
    from dance_tf.layers import layer_model, resolve_layer

    model, images, ref = parity.model, parity.images, parity.ref
    index, layer, shape = parity.net.table_s1
    assert resolve_layer(model, index).name == layer
    f_l, _ = layer_model(model, None, images.shape[1:])
    out = f_l(images).numpy()
    assert out.shape == ref[layer].shape == shape
    assert rel_err(out, ref[layer]) <= 1e-5


def test_end_points_match_slim(parity):
    from dance_tf.layers import layer_model

    model, images, ref = parity.model, parity.images, parity.ref
    for key, layer in parity.net.layers.items():
        sub, _ = layer_model(model, layer, images.shape[1:])
        err = rel_err(sub(images).numpy(), ref[key])
        print(f"{parity.name} end point {key}: {err:.2e}")
        assert err <= 1e-5, key


# -- one net -------------------------------------------------------------------------


def test_vgg_16_checkpoint_has_nothing_ignored(parity_of):
    assert parity_of("vgg_16").report["ignored"] == []


def test_vgg_16_slim_names_resolve(parity_of):
    from dance_tf.layers import resolve_layer

    model = parity_of("vgg_16").model
    assert resolve_layer(model, "vgg_16/pool1").name == "pool1"
    assert resolve_layer(model, "vgg_16/conv1/conv1_2").name == "conv1.conv1_2"


def test_softmax_and_end_point_helpers(parity_of):
    from dance_tf.models.slim_nets import end_point, with_softmax

    alexnet = parity_of("alexnet_v2")
    model, images, ref = alexnet.model, alexnet.images, alexnet.ref
    probs = with_softmax(model)(images).numpy()
    z = ref["logits"] - ref["logits"].max(1, keepdims=True)
    np.testing.assert_allclose(probs, np.exp(z) / np.exp(z).sum(1, keepdims=True),
                               rtol=1e-4, atol=1e-7)
    assert with_softmax(model).preprocessing == "slim_rgb"
    assert rel_err(end_point(model, "alexnet_v2/conv4")(images).numpy(), ref["conv4"]) <= 1e-5
    assert end_point(model, "alexnet_v2/fc8")(images).shape == (3, alexnet.net.num_classes)
    with pytest.raises(ValueError, match="no end point"):
        end_point(model, "alexnet_v2/conv9")


def test_resnet_v1_50_slim_name_resolves(parity_of):
    from dance_tf.layers import resolve_layer

    model = parity_of("resnet_v1_50").model
    assert resolve_layer(model, "resnet_v1_50/block1/unit_1/bottleneck_v1").name == \
        "block1.unit_1.bottleneck_v1"


def test_background_class_dropped_only_on_request(parity_of):
    resnet = parity_of("resnet_v1_50")
    assert resnet.net.num_classes == 1001
    model = resnet_v1_50(num_classes=1000)
    with pytest.raises(SlimCheckpointError, match="drop_background_class"):
        load_slim_checkpoint(model, resnet.prefix)
    load_slim_checkpoint(model, resnet.prefix, drop_background_class=True)
    ours = model(resnet.images[:1], training=False).numpy()
    assert rel_err(ours, resnet.ref["logits"][:1, 1:]) <= 1e-4
