"""The default layer ℓ chosen from the graph (issue 22), on models this project did not
write: keras.applications and keras_hub; checked against an independent walk of the
graph's ancestry."""

import os

import keras
import numpy as np
import pytest

import dance_tf
from dance_tf import layers as L
from dance_tf.errors import LayerError
from tests.test_model_contract import FAST, RNG, _check_certificates


# ------------------------------------------------------------------ the default ℓ
def _ancestors(model, layer) -> set:
    """Every layer on a path from the input to ``layer`` (walked over inbound nodes of
    the model's own graph, nested models opened), independently of dance_tf."""
    seen, todo = set(), [layer]
    while todo:
        lay = todo.pop()
        for node in lay._inbound_nodes:
            for t in node.input_tensors:
                op = t._keras_history.operation
                if op is not None and id(op) not in seen:
                    seen.add(id(op))
                    todo.append(op)
    return seen


def _global_layers(model):
    out = []
    for lay in model._flatten_layers(include_self=False, recursive=True):
        name = type(lay).__name__
        if isinstance(lay, keras.Model):
            continue
        if ("Global" in name or "Attention" in name or isinstance(
                lay, (keras.layers.Flatten, keras.layers.Reshape))):
            out.append(lay)
    return out


APPS = {
    "VGG16": ("block1_pool", lambda: keras.applications.VGG16),
    "ResNet50": ("pool1_pool", lambda: keras.applications.ResNet50),
    "DenseNet121": ("pool1", lambda: keras.applications.DenseNet121),
    "MobileNetV2": ("block_1_project_BN", lambda: keras.applications.MobileNetV2),
    "EfficientNetB0": ("stem_activation", lambda: keras.applications.EfficientNetB0),
    "ConvNeXtTiny": ("convnext_tiny_stem/convnext_tiny_stem_layernorm",
                     lambda: keras.applications.ConvNeXtTiny),
}


@pytest.mark.parametrize("name", sorted(APPS))
def test_default_layer_of_keras_applications(name):
    expected, ctor = APPS[name]
    model = ctor()(weights=None, input_shape=(32, 32, 3), classes=4)
    choice = L.resolve_layer(model, None, (32, 32, 3))
    assert choice.path_name.endswith(expected), choice.path_name
    ancestors = _ancestors(model, choice.layer)
    assert not [g.name for g in _global_layers(model) if id(g) in ancestors]


def test_default_layer_of_a_keras_hub_vit_is_the_patch_embedding():
    keras_hub = pytest.importorskip("keras_hub")
    bb = keras_hub.models.ViTBackbone(image_shape=(16, 16, 3), patch_size=8, num_layers=1,
                                      num_heads=1, hidden_dim=8, mlp_dim=8)
    clf = keras_hub.models.ViTImageClassifier(backbone=bb, num_classes=3,
                                              activation="softmax")
    x = RNG.random((16, 16, 3), dtype=np.float32)
    r = dance_tf.explain(clf, x, **FAST)
    assert r.layer.endswith("/vit_patching_and_embedding")
    assert r.explained == "logits (final softmax stripped)"
    f_l = keras.Model(bb.inputs, bb.get_layer("vit_patching_and_embedding").output)
    _check_certificates(r, x, lambda z: np.asarray(f_l(z)))
    with pytest.raises(LayerError, match="after the logits"):   # its softmax Dense
        dance_tf.explain(clf, x, layer="predictions", value_range=(0.0, 1.0))


def test_layer_at_the_logits_warns():
    from tests.conftest import small_cnn

    with pytest.warns(dance_tf.LayerWarning, match="logits"):
        dance_tf.explain(small_cnn(), RNG.random((12, 12, 1), dtype=np.float32),
                         layer="logits", value_range=(0.0, 1.0))




#: explained in every run (seconds each); the other nets with DANCE_TF_MODEL_MATRIX=1
#: (release checks: 6 nets in ~3 min on a loaded 2-core CPU, all passed on 2026-12-05)
ALWAYS = ("VGG16", "ResNet50")


@pytest.mark.parametrize("name", sorted(APPS))
def test_keras_applications_matrix(name):
    if name not in ALWAYS and os.environ.get("DANCE_TF_MODEL_MATRIX") != "1":
        pytest.skip("set DANCE_TF_MODEL_MATRIX=1 for the whole keras.applications matrix")
    expected, ctor = APPS[name]
    model = ctor()(weights=None, input_shape=(32, 32, 3), classes=4)
    x = RNG.random((32, 32, 3), dtype=np.float32)
    r = dance_tf.explain(model, x, **FAST)
    parts = r.layer.split("/")
    if len(parts) > 1:   # ℓ is the last layer of a nested model: that model's output
        assert model.get_layer(parts[0]).layers[-1].name == parts[-1]
    f_l = keras.Model(model.inputs, model.get_layer(parts[0]).output)
    _check_certificates(r, x, lambda z: np.asarray(f_l(z, training=False)))
