"""Token models (dance_tf.tokens): ids are explained at the embedding output (§4.3.2).

Independent checks: the split model recomposes to the whole model's logits; the one-call
``explain_tokens`` equals embedding by hand and explaining the head; refusals name the fix.
"""

import keras
import numpy as np
import pytest

import dance_tf
from dance_tf.errors import InputError


def _text_model():
    keras.utils.set_random_seed(0)
    inp = keras.Input((7,), dtype="int32")
    e = keras.layers.Embedding(30, 4, name="words")(inp)
    h = keras.layers.Conv1D(3, 2, name="conv")(e)
    out = keras.layers.Dense(2)(keras.layers.GlobalMaxPooling1D()(h))
    return keras.Model(inp, out)


def test_token_ids_name_the_embedding_and_explain_tokens_works():
    model = _text_model()
    with pytest.raises(InputError, match=r"split_at\(model, 'words'\)"):
        dance_tf.explain(model, np.arange(7))
    r = dance_tf.explain_tokens(model, np.arange(7), embedding="words",
                                value_range=(-1.0, 1.0), return_details=True)
    assert r.saliency.shape == (7, 4) and r.certified.all()
    # the head explained is the model after the embedding: same logits as the whole model
    front, head = dance_tf.split_at(model, "words")
    ids = np.arange(7)[None]
    np.testing.assert_allclose(np.asarray(head(front(ids))), np.asarray(model(ids)),
                               rtol=1e-6)


def test_explain_tokens_is_the_head_explained_at_the_embedded_ids():
    model = _text_model()
    ids = np.array([[3, 1, 4, 1, 5, 9, 2], [6, 5, 3, 5, 8, 9, 7]])
    opts = dict(value_range=(-1.0, 1.0), packing="tiles", patches_per_mask=2)
    got = dance_tf.explain_tokens(model, ids, embedding="words", **opts)
    front, head = dance_tf.split_at(model, "words")
    emb = np.asarray(front(ids), np.float32)          # embedded by hand
    want = dance_tf.explain(head, emb, **opts)
    assert got.shape == (2, 7, 4)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_token_refusals_name_the_argument():
    model = _text_model()
    with pytest.raises(InputError, match="layer: no layer named 'embed'.*words"):
        dance_tf.split_at(model, "embed")
    with pytest.raises(TypeError, match="ids: expected integer token ids"):
        dance_tf.explain_tokens(model, np.zeros(7, np.float32), embedding="words")

    class Net(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(InputError, match="split_at needs a functional or Sequential"):
        dance_tf.split_at(Net(), "words")
