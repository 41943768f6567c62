"""Classifiers from a local SavedModel or a TF-Hub handle, as Keras 3 models (S5).

``hub.KerasLayer`` cannot live inside a Keras 3 model; :func:`load_classifier` wraps
the SavedModel's signature in ``keras.layers.TFSMLayer`` instead, so input gradients
flow and every saliency method works. A SavedModel exposes only what its signature
returns: an intermediate layer ℓ (needed for decoys, S1.2) is reachable only when the
signature returns it, e.g. a multi-output Keras model exported with ``model.export``.
Each extra output becomes an identity layer named after its key (``/`` → ``.``), so
``layer="pool1"`` resolves as for the zoo models; otherwise :func:`check_layer` says
why not (then only the base methods, without decoys, can run).

Note the wrapped model runs the whole SavedModel even when only output ℓ is used.
"""

from __future__ import annotations

import os

import keras

from dance_tf.data.imagenet import MODES
from dance_tf.errors import LayerError


@keras.saving.register_keras_serializable(package="dance_tf")
class _Logits(keras.layers.Layer):
    """Returns its first input; the others (extra signature outputs) only ride along so
    that their identity layers belong to the model's graph and can be chosen as ℓ."""

    def call(self, inputs):
        return inputs[0]

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def _local_path(handle: str | os.PathLike) -> str:
    handle = os.fspath(handle)
    if os.path.isdir(handle):
        if not os.path.isfile(os.path.join(handle, "saved_model.pb")):
            raise ValueError(f"{handle!r} is a directory without saved_model.pb")
        return handle
    if "://" in handle or handle.startswith(("tfhub.dev/", "www.kaggle.com/")):
        import tensorflow_hub as hub  # resolves (downloads once) only on this explicit ask

        return hub.resolve(handle)
    raise FileNotFoundError(f"no SavedModel directory at {handle!r} (and not a TF-Hub URL)")


def load_classifier(
    handle: str | os.PathLike,
    *,
    input_shape: tuple[int, int, int] = (224, 224, 3),
    signature: str = "serving_default",
    output_key: str | None = None,
    name: str = "saved_model_classifier",
    preprocessing: str | None = None,
) -> keras.Model:
    """Wrap a SavedModel classifier as a Keras model ``(N, *input_shape) -> (N, classes)``.

    Parameters
    ----------
    handle : local SavedModel directory, or a TF-Hub URL/handle (resolved with
        ``tensorflow_hub.resolve``, which downloads it once into its cache).
    input_shape : unbatched input shape the signature accepts.
    signature : the signature (``call_endpoint``) to call.
    output_key : which output holds the logits; needed when the signature returns
        several (e.g. ``"logits"``). The others become identity layers named after
        their keys, reachable as layer ℓ.
    name : the Keras model's name (a zoo name such as ``vgg_16`` selects that net's
        Table S1 layer and preprocessing in the core).
    preprocessing : mode of :mod:`dance_tf.data.imagenet` the model expects, stored as
        ``model.preprocessing`` (``None``: unknown, callers must choose).

    The model's outputs should be logits (pre-softmax), as for the zoo models.
    """
    path = _local_path(handle)
    if preprocessing is not None and preprocessing not in MODES:
        raise ValueError(f"unknown preprocessing {preprocessing!r}; known: {sorted(MODES)}")
    try:
        core = keras.layers.TFSMLayer(path, call_endpoint=signature, name="saved_model")
    except ValueError as err:
        raise ValueError(f"{path!r}: cannot call signature {signature!r}: {err}") from err
    inputs = keras.Input(tuple(input_shape), name="images")
    outs = core(inputs)
    if not isinstance(outs, dict):
        outs = {"output_0": outs}
    keys = sorted(outs)
    if output_key is None:
        if len(keys) != 1:
            raise ValueError(f"signature {signature!r} returns {keys}: pass output_key= "
                             "to say which one holds the logits")
        output_key = keys[0]
    if output_key not in outs:
        raise ValueError(f"output_key {output_key!r} is not among the outputs {keys}")
    extras = [keras.layers.Identity(name=k.replace("/", "."))(outs[k])
              for k in keys if k != output_key]
    logits = _Logits(name="logits")([outs[output_key], *extras])
    model = keras.Model(inputs, logits, name=name)
    model.saved_model_outputs = tuple(k.replace("/", ".") for k in keys if k != output_key)
    if preprocessing is not None:
        model.preprocessing = preprocessing
    return model


def check_layer(model: keras.Model, layer) -> None:
    """Raise a clear ``ValueError`` when ``layer`` (ℓ) is not an output of the wrapped
    SavedModel's signature; no-op for models not made by :func:`load_classifier`."""
    available = getattr(model, "saved_model_outputs", None)
    if available is None:
        return
    key = layer.split("/", 1)[1] if isinstance(layer, str) and layer.startswith(
        model.name + "/") else layer
    key = key.replace("/", ".") if isinstance(key, str) else key
    if key not in available:
        raise LayerError(
            f"layer {layer!r} is not reachable in SavedModel classifier {model.name!r}: its "
            f"signature returns only {list(available) or 'the logits'}. Export a model "
            "whose signature also returns that layer, or run a base method without decoys.")


__all__ = ["load_classifier", "check_layer"]
