"""The model digest of a results folder's configuration (issue 24, "resume broken on the
first run"): a model trained in this process and the same model reloaded from its
``.keras`` file are one model; any changed weight value is another."""

from __future__ import annotations

import hashlib

import keras
import numpy as np

from dance_tf.evaluation import runner
from dance_tf.evaluation.config import EvalConfig
from dance_tf.evaluation.digests import model_digest
from tests.conftest import small_cnn
from tests.evaluation.conftest import tiny_task


def _trained(tmp_path):
    """A tiny CNN built and trained here (as dance_tf.models.digits.load does on the first
    run), and the same model reloaded from the file it was cached to."""
    model = small_cnn(size=8, classes=3, name="digits_cnn")
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.random((8, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, 8), epochs=1,
              verbose=0)
    path = tmp_path / "digits_cnn.keras"
    model.save(path)
    return model, keras.models.load_model(path, compile=False)


def test_a_trained_model_and_the_same_model_reloaded_have_one_digest(tmp_path):
    fresh, reloaded = _trained(tmp_path)
    # independent check that they are the same numbers: every weight and every output
    for a, b in zip(fresh.weights, reloaded.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    x = np.random.default_rng(1).random((2, 8, 8, 1), dtype=np.float32)
    np.testing.assert_array_equal(fresh(x).numpy(), reloaded(x).numpy())
    assert model_digest(fresh) == model_digest(reloaded)
    # one value changed by one ulp is another model
    w = reloaded.weights[0]
    arr = np.asarray(w).copy()
    arr.flat[0] = np.nextafter(arr.flat[0], np.float32(np.inf))
    w.assign(arr)
    assert model_digest(reloaded) != model_digest(fresh)


def test_the_digest_reads_values_shapes_and_dtypes_in_order():
    # a hand-computed digest of a two-weight model (no names outside the model's own)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="d")], name="m")
    model.set_weights([np.array([[1.0], [2.0]], np.float32), np.array([3.0], np.float32)])
    h = hashlib.sha256(b"Sequential")
    for name, arr in (("d/kernel", np.array([[1.0], [2.0]], np.float32)),
                      ("d/bias", np.array([3.0], np.float32))):
        h.update(f"{name}{arr.shape}{arr.dtype}".encode())
        h.update(arr.tobytes())
    assert model_digest(model) == h.hexdigest()[:16]


def test_a_first_run_stopped_after_training_resumes_with_the_reloaded_model(tmp_path):
    fresh, reloaded = _trained(tmp_path)
    config = EvalConfig(out=tmp_path / "out", methods=("gradient",), variants=("none",),
                        quiet=True, examples=0, count=2)
    quiet = lambda *_: None   # noqa: E731
    runner.evaluate(tiny_task(n=2, model=fresh), config, log=quiet)
    # the second run loads the model from the cache: same configuration, nothing redone
    path = runner.evaluate(tiny_task(n=2, model=reloaded), config, log=quiet)
    assert len(path.read_text().splitlines()) == 2
