"""The IDS MLP, its training script and scaler, and DANCE on tabular data."""

import csv

import keras
import numpy as np
import pytest

from dance_tf import Explainer
from dance_tf.data import ids2018
from dance_tf.layers import resolve_layer
from dance_tf.models import ids as ids_model
from tests.conftest import FIXTURES

SAMPLE = FIXTURES / "ids2018" / "sample_rows.csv"


@pytest.fixture
def trained(ids_trained):
    """The model folder and report of scripts/train_ids.py (tests/conftest.py)."""
    return ids_trained


def test_table_s1_layer_two_is_the_second_hidden_layer():
    model = ids_model.build(78, 2)
    assert model.name == "ids_mlp"
    assert [resolve_layer(model, i).name for i in (1, 2, 3)] == ["hidden1", "hidden2", "logits"]


def test_training_script_split_scaler_and_report(trained):
    out, config = trained
    bundle = ids_model.load(out)
    assert bundle.classes == ("benign", "attack") and len(bundle.feature_names) == 78
    split = np.load(out / "split.npz")
    # paper classes only: 48 of the 52 fixture rows, stratified 36 / 12 (3 per label)
    assert len(split["train_rows"]) == 36 and len(split["test_rows"]) == 12
    assert sorted(set(split["test_labels"].tolist())) == sorted(ids2018.PAPER_CLASSES)
    with open(SAMPLE, newline="") as handle:
        rows = [r for r in list(csv.reader(handle))[1:] if r[-1] in ids2018.PAPER_CLASSES]
    raw = np.array([[float(v) for v in r[:-1]] for r in rows])
    train = raw[split["train_rows"]]
    # MinMax fitted on the training split only, and clipped to [0, 1] elsewhere
    test = raw[split["test_rows"]]
    span = train.max(0) - train.min(0)
    expected = (test - train.min(0)) / np.where(span > 0, span, 1.0)
    np.testing.assert_allclose(bundle.transform(test), np.clip(expected, 0, 1), atol=1e-6)
    # the reported accuracy is that of the saved model on the saved test rows
    predicted = bundle.logits(bundle.transform(split["test_X"])).argmax(-1)
    assert config["test_accuracy"] == pytest.approx(np.mean(predicted == split["test_y"]))
    per_class = config["recall_per_class"]
    attack = split["test_y"] == 1
    assert per_class["attack"]["recall"] == pytest.approx(np.mean(predicted[attack] == 1))


def test_transform_checks_width_and_reorders_by_name(trained):
    bundle = ids_model.load(trained[0])
    X, _, names = ids2018.load_csv(SAMPLE)
    with pytest.raises(ValueError, match="expected 78 features per flow"):
        bundle.transform(X[:, :77])
    reversed_names = names[::-1]
    np.testing.assert_array_equal(bundle.transform(X[:, ::-1], names=reversed_names),
                                  bundle.transform(X))
    assert bundle.transform(X[0]).shape == (78,)


def test_dance_on_tabular_one_feature_per_patch_certified(trained):
    bundle = ids_model.load(trained[0])
    X, _, _ = ids2018.load_csv(SAMPLE)
    x = bundle.transform(X[30])
    res = Explainer(bundle.model, method="gradient", layer=2,
                    value_range=(0.0, 1.0)).explain(x, return_details=True)
    F = 78
    assert res.saliency.shape == (F,) and res.feature_saliency.shape == (F,)
    assert res.masks.shape == (F, F) and res.decoys.shape == (2 * F, F)
    np.testing.assert_array_equal(res.masks, np.eye(F))
    hidden2 = keras.Model(bundle.model.input, bundle.model.get_layer("hidden2").output)
    ref = np.asarray(hidden2(x[None]))[0]
    dev = np.abs(np.asarray(hidden2(res.decoys)) - ref).max(axis=1)
    for i, decoy in enumerate(res.decoys):
        others = np.delete(np.arange(F), i % F)
        np.testing.assert_array_equal(decoy[others], x[others])
    assert res.decoys.min() >= 0.0 and res.decoys.max() <= 1.0
    assert np.all(dev <= res.epsilon * (1 + 1e-4) + 1e-6)
    assert res.certified.mean() >= 0.5
