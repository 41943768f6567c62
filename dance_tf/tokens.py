"""Token models (§4.3.2): DANCE explains token ids at the output of their embedding layer,
the way the paper explains SST at its word embeddings. ``split_at`` cuts a model there;
``explain_tokens`` embeds ids and explains the rest of the model in one call."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import numpy as np

from dance_tf.errors import InputError
from dance_tf.model_contract import declares_input, is_functional

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["explain_tokens", "split_at"]


def split_at(model: keras.Model, layer: str):
    """(front, head): two Keras models that split ``model`` at the output of ``layer``
    (e.g. its ``Embedding``): front maps the model's input (N, *S) to that output
    (N, *E); head maps (N, *E) to the model's outputs. ``head`` is what DANCE explains for
    token models (§4.3.2: word embeddings); its layers are the model's own (shared)."""
    if not declares_input(model) or not is_functional(model):
        raise InputError(f"model: split_at needs a functional or Sequential model that "
                         f"declares its input; {model.name!r} does not")
    try:
        target = model.get_layer(layer)
    except ValueError as err:
        names = [lay.name for lay in model.layers]
        raise InputError(f"layer: no layer named {layer!r} in {model.name!r}; known: "
                         f"{names}") from err
    feed = target.output
    front = keras.Model(model.inputs, feed, name=f"{model.name}_to_{layer}")
    head = keras.Model(feed, model.output, name=f"{model.name}_from_{layer}")
    return front, head


def explain_tokens(model: keras.Model, ids: ArrayLike, embedding: str, **options):
    """DANCE maps of token ids (T,) — or a batch (N, T) — explained at the output of the
    ``embedding`` layer (§4.3.2: SST at its word embeddings): the model is split there
    (``split_at``), the ids embedded, and ``dance_tf.explain`` run on the head. Returns
    maps (T, D) / (N, T, D) over the embedded tokens (or ``Explanation`` objects with
    ``return_details=True``); sum over D for one score per token."""
    from dance_tf.explainer import explain

    front, head = split_at(model, embedding)
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"ids: expected integer token ids, got dtype {ids.dtype}")
    batch = ids.ndim == len(front.inputs[0].shape)
    emb = np.asarray(front(ids if batch else ids[None], training=False), np.float32)
    return explain(head, emb if batch else emb[0], **options)
