"""The features of an input as the explainer sees them: one per word of a text (T, D),
one per column of a table (F,): a mask per feature and one score per feature."""

import keras
import numpy as np

import dance_tf


def test_text_and_tabular_inputs():
    keras.utils.set_random_seed(0)
    text = keras.Sequential([keras.Input((None, 5)), keras.layers.Conv1D(4, 2, activation="relu",
                             name="conv"), keras.layers.GlobalMaxPooling1D(name="pool"),
                             keras.layers.Dense(2, name="logits")])
    s = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
    r = dance_tf.explain(text, s, value_range=(-3, 3), return_details=True)
    assert r.masks.shape == (6, 6, 5) and r.feature_saliency.shape == (6,)
    assert r.certified.all()
    tab = keras.Sequential([keras.Input((7,)), keras.layers.Dense(8, activation="relu"),
                            keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    f = np.random.default_rng(1).random(7).astype(np.float32)
    rt = dance_tf.explain(tab, f, value_range=(0, 1), return_details=True)
    assert rt.masks.shape == (7, 7) and rt.decoys.shape == (14, 7) and rt.certified.all()
