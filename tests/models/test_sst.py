"""The SST sentence CNN, its training script, save/load, and DANCE on text (§4.3.2)."""


import keras
import numpy as np
import pytest

from dance_tf import Explainer
from dance_tf.data import sst
from dance_tf.layers import resolve_layer
from dance_tf.models import sst as sst_model
from tests.conftest import FIXTURES

DEV = FIXTURES / "sst" / "stsa.binary.dev"


def numpy_forward(model, x):
    """Independent forward pass of the CNN for one sentence x (T, D): logits (classes,)."""
    w, b = model.get_layer("conv").get_weights()  # (width, D, filters), (filters,)
    width = w.shape[0]
    if len(x) < width:
        x = np.concatenate([x, np.zeros((width - len(x), x.shape[1]), x.dtype)])
    windows = np.stack([x[t:t + width] for t in range(len(x) - width + 1)])
    conv = np.maximum(np.einsum("tkd,kdf->tf", windows, w) + b, 0.0)
    pooled = conv.max(axis=0)
    wd, bd = model.get_layer("logits").get_weights()
    return pooled @ wd + bd


def test_forward_matches_numpy_and_accepts_any_length():
    keras.utils.set_random_seed(0)
    model = sst_model.build(6, 2, filters=4, width=3)
    rng = np.random.default_rng(1)
    for length in (1, 2, 3, 7):
        x = rng.normal(size=(length, 6)).astype(np.float32)
        got = np.asarray(model(x[None], training=False))[0]
        np.testing.assert_allclose(got, numpy_forward(model, x), rtol=1e-5, atol=1e-5)


def test_table_s1_layer_two_is_the_pooling_layer():
    model = sst_model.build(6, 2, filters=4, width=3)
    assert model.name == "sst_cnn"
    assert [resolve_layer(model, i).name for i in (1, 2, 3)] == ["conv", "pool", "logits"]


def test_length_batches_group_equal_lengths():
    lengths = [3, 5, 3, 3, 5, 9]
    batches = sst_model.length_batches(lengths, 2, np.random.default_rng(0))
    assert sorted(int(i) for b in batches for i in b) == list(range(6))
    for batch in batches:
        assert len({lengths[i] for i in batch}) == 1 and len(batch) <= 2


@pytest.fixture
def trained(sst_trained):
    """The model folder and report of scripts/train_sst.py (tests/conftest.py)."""
    return sst_trained


def test_training_script_saves_model_and_vocabulary(trained):
    out, config = trained
    assert {p.name for p in out.iterdir()} >= {"model.keras", "words.txt", "vectors.npy",
                                               "config.json"}
    bundle = sst_model.load(out)
    assert len(bundle.table.words) == 205 and bundle.table.dim == 50
    assert bundle.classes == ("negative", "positive")
    # the reported dev accuracy is the accuracy of the saved model, recomputed here
    sentences, labels = sst.load(DEV)
    predicted = bundle.logits(sentences).argmax(-1)
    assert config["dev_accuracy"] == pytest.approx(np.mean(predicted == labels))


def test_loaded_bundle_embeds_raw_and_tokenised_text(trained):
    bundle = sst_model.load(trained[0])
    raw = bundle.embed(["The film is strictly routine.", ["too", "bad", "."]])
    assert raw.shape == (2, 6, 50) and raw.dtype == np.float32
    np.testing.assert_array_equal(raw[1, 3:], 0.0)
    lo, hi = bundle.value_range
    assert lo.shape == hi.shape == (50,) and np.all(lo <= 0) and np.all(hi >= 0)
    x = bundle.embed_one("the film is strictly routine .")
    np.testing.assert_allclose(np.asarray(bundle.model(x[None]))[0],
                               numpy_forward(bundle.model, x), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="only out-of-vocabulary"):
        bundle.embed_one("gutterball kidlets")
    with pytest.raises(FileNotFoundError, match="missing model.keras"):
        sst_model.load(trained[0] / "nowhere")


def test_dance_on_text_one_word_per_patch_certified(trained):
    bundle = sst_model.load(trained[0])
    tokens = "-lrb- a -rrb- shapeless blob of desperate entertainment .".split()
    x = bundle.embed_one(tokens)
    explainer = Explainer(bundle.model, method="gradient", layer=2,
                          value_range=bundle.value_range)
    res = explainer.explain(x, return_details=True)
    T = len(tokens)
    assert res.saliency.shape == x.shape and res.feature_saliency.shape == (T,)
    np.testing.assert_allclose(res.feature_saliency, np.abs(res.saliency).mean(axis=1),
                               rtol=1e-5, atol=1e-7)
    # one word = one patch: T masks, each one whole row; 2T decoys (s = +1, -1)
    assert res.masks.shape == (T, T, 50) and res.decoys.shape == (2 * T, T, 50)
    np.testing.assert_array_equal(res.masks.sum(axis=(1, 2)), 50)
    lo, hi = bundle.value_range
    pool = keras.Model(bundle.model.input, bundle.model.get_layer("pool").output)
    ref = np.asarray(pool(x[None]))[0]
    dev = np.abs(np.asarray(pool(res.decoys)) - ref).max(axis=1)
    for i, decoy in enumerate(res.decoys):
        row = i % T
        others = np.delete(np.arange(T), row)
        np.testing.assert_array_equal(decoy[others], x[others])
        assert np.all(decoy >= lo - 1e-6) and np.all(decoy <= hi + 1e-6)
    assert np.all(dev <= res.epsilon * (1 + 1e-4) + 1e-6)
    assert res.certified.mean() >= 0.5
    assert np.any(res.decoys != x[None])  # the decoys did move
