"""SavedModel export (dance_tf.export): reload in a fresh process without dance_tf and
compare against the live explainer; clear errors for unreachable layers and tiny budgets."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

import dance_tf
from dance_tf import export

REPO = Path(dance_tf.__file__).resolve().parents[1]


def _image_model(size=10, name="tiny_cnn"):
    keras.utils.set_random_seed(1)
    return keras.Sequential([
        keras.Input((size, size, 2)),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(name="pool1"),
        keras.layers.Flatten(),
        keras.layers.Dense(3, name="logits"),
    ], name=name)


def _text_model(dim=4):
    """A sentence CNN with an unknown length axis (N, T, D)."""
    keras.utils.set_random_seed(2)
    inp = keras.Input((None, dim))
    h = keras.layers.Conv1D(5, 2, padding="same", activation="relu", name="conv")(inp)
    h = keras.layers.GlobalMaxPooling1D(name="pool")(h)
    return keras.Model(inp, keras.layers.Dense(2, name="logits")(h), name="tiny_text")


def _cases():
    """(name, explainer, inputs, targets or None) covering methods, ranges and ablations."""
    rng = np.random.default_rng(0)
    img = rng.random((3, 10, 10, 2)).astype(np.float32)
    txt = rng.normal(size=(2, 6, 4)).astype(np.float32)
    return [
        ("grad_range", dance_tf.Explainer(
            _image_model(), layer="pool1", value_range=(0.0, 1.0), patches_per_mask=16,
            decoy_batch_size=4, seed=3), img, None),
        ("ig_own_range_rf_bound", dance_tf.Explainer(
            _image_model(), method="integrated_gradients", steps=6, layer=1,
            packing="receptive_field", deviation_bound=0.2,
            aggregation="mean"), img * 2.0 - 0.5, np.array([2, -1, 0], np.int32)),
        ("constant_ablation", dance_tf.Explainer(
            _image_model(), layer="pool1", value_range=(0.0, 1.0), patches_per_mask=30,
            packing="tiles", perturbation="constant"), img, None),
        ("text", dance_tf.Explainer(
            _text_model(), layer="conv", value_range=(-3.0, 3.0)), txt, None),
    ]


def _live(explainer, xs, targets):
    maps, classes = [], []
    for i, x in enumerate(xs):
        t = None if targets is None or targets[i] < 0 else int(targets[i])
        ex = explainer.explain(x, target=t, return_details=True)
        maps.append(ex.saliency)
        classes.append(ex.target)
    return np.stack(maps), np.array(classes)


_RELOAD = textwrap.dedent("""
    import json, os, sys
    repo = os.path.realpath(sys.argv[1])
    cwd = os.path.realpath(os.getcwd())
    sys.path = [p for p in sys.path if p not in ("", ".")
                and not os.path.realpath(p).startswith(repo) and os.path.realpath(p) != cwd]
    # an editable install (pip install -e) maps dance_tf through a meta-path finder
    sys.meta_path = [f for f in sys.meta_path
                     if "__editable__" not in getattr(f, "__module__", "")
                     and "__editable__" not in getattr(type(f), "__module__", "")]
    try:
        import dance_tf  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("dance_tf is importable in the reload process")
    import numpy as np
    import tensorflow as tf
    cases = json.loads(sys.argv[2])
    report = {}
    for name, has_targets in cases:
        data = np.load(name + "_in.npz")
        loaded = tf.saved_model.load(name)
        out = {"explain": loaded.explain(data["x"]).numpy()}
        serve = loaded.signatures["serving_default"]
        res = serve(x=tf.constant(data["x"]))
        out.update({"serve_" + k: v.numpy() for k, v in res.items()})
        if has_targets:
            out["targets_map"] = loaded.explain_targets(data["x"], data["t"]).numpy()
            sig = loaded.signatures["explain_targets"]
            out["targets_serve"] = sig(x=tf.constant(data["x"]),
                                       targets=tf.constant(data["t"]))["saliency"].numpy()
        np.savez(name + "_out.npz", **out)
        inputs = serve.structured_input_signature[1]
        report[name] = {"inputs": {k: [list(v.shape.as_list()), v.dtype.name]
                                   for k, v in inputs.items()},
                        "outputs": sorted(serve.structured_outputs)}
    assert "dance_tf" not in sys.modules
    print(json.dumps(report))
""")


def test_reload_in_fresh_process_without_dance_tf_matches_live(tmp_path):
    cases = _cases()
    expected = {}
    for name, explainer, xs, targets in cases:
        export.save(explainer, tmp_path / name,
                    input_shape=xs.shape[1:] if name == "text" else None)
        np.savez(tmp_path / f"{name}_in.npz", x=xs,
                 t=targets if targets is not None else np.zeros(len(xs), np.int32))
        quiet = contextlib.nullcontext()
        with pytest.warns(UserWarning) if explainer.value_range is None else quiet:
            expected[name] = (_live(explainer, xs, None),
                              None if targets is None else _live(explainer, xs, targets))
        cfg = json.loads((tmp_path / name / export.CONFIG_FILE).read_text())
        assert cfg["method"] == explainer.method_name
        assert cfg["decoys"] == explainer.plan(xs.shape[1:]).n_items
    script = tmp_path / "reload.py"
    script.write_text(_RELOAD)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    arg = json.dumps([[n, t is not None] for n, _, _, t in cases])
    proc = subprocess.run([sys.executable, str(script), str(REPO), arg], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, _, xs, targets in cases:
        (live_maps, live_cls), with_t = expected[name]
        out = np.load(tmp_path / f"{name}_out.npz")
        tol = 1e-5 * max(1e-6, float(np.abs(live_maps).max()))
        assert np.abs(live_maps).max() > 0, name
        np.testing.assert_allclose(out["explain"], live_maps, rtol=1e-5, atol=tol, err_msg=name)
        np.testing.assert_allclose(out["serve_saliency"], live_maps, rtol=1e-5, atol=tol)
        np.testing.assert_array_equal(out["serve_target"], live_cls)
        feat = np.abs(live_maps).mean(axis=-1)
        np.testing.assert_allclose(out["serve_feature_saliency"], feat, rtol=1e-5, atol=tol)
        assert out["serve_fraction_certified"].shape == (len(xs),)
        if targets is not None:
            np.testing.assert_allclose(out["targets_map"], with_t[0], rtol=1e-5, atol=tol)
            np.testing.assert_allclose(out["targets_serve"], with_t[0], rtol=1e-5, atol=tol)
            assert not np.allclose(with_t[0], live_maps)  # the targets really changed maps
        sig = report[name]
        assert sig["inputs"] == {"x": [[None, *xs.shape[1:]], "float32"]}
        assert sig["outputs"] == ["feature_saliency", "fraction_certified",
                                  "fraction_moved", "saliency", "target"]


def test_unreachable_layer_is_a_clear_error(tmp_path):
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(2, 3, padding="same", name="conv1")(inp)
    blocked = keras.layers.Lambda(keras.ops.stop_gradient, name="stop")(h)
    side = keras.layers.Conv2D(2, 3, padding="same", name="side")(blocked)
    merged = keras.layers.Add(name="add")([h, side])
    out = keras.layers.Dense(2, name="logits")(keras.layers.Flatten()(merged))
    model = keras.Model(inp, out, name="blocked")
    for layer in ("side", "no_such_layer"):
        explainer = dance_tf.Explainer(model, layer=layer, value_range=(0.0, 1.0))
        with pytest.raises(export.ExportError, match="cannot be reached") as err:
            export.save(explainer, tmp_path / layer)
        assert layer in str(err.value)
        assert not (tmp_path / layer).exists()


def test_budget_below_one_decoy_says_what_to_lower(tmp_path):
    explainer = dance_tf.Explainer(_image_model(), layer="pool1", value_range=(0.0, 1.0),
                                   memory_budget_mb=0.001)
    with pytest.raises(ValueError, match="memory_budget_mb") as err:
        export.save(explainer, tmp_path / "m")
    assert "lower" in str(err.value)


def test_unknown_input_size_needs_input_shape(tmp_path):
    explainer = dance_tf.Explainer(_text_model(), layer="conv", value_range=(-3.0, 3.0))
    with pytest.raises(export.ExportError, match="input_shape"):
        export.save(explainer, tmp_path / "t")


def test_method_that_cannot_be_traced_is_a_clear_error(tmp_path):
    def numpy_method(model, x, targets):
        return np.asarray(x) * 0.0

    explainer = dance_tf.Explainer(_image_model(), method=numpy_method, layer="pool1",
                                   value_range=(0.0, 1.0), patches_per_mask=50)
    with pytest.raises(export.ExportError, match="graph-safe"):
        export.save(explainer, tmp_path / "before")
    with pytest.warns(UserWarning, match="eagerly"):
        explainer.explain(np.zeros((10, 10, 2), np.float32))
    with pytest.raises(export.ExportError, match="only runs eagerly"):
        export.save(explainer, tmp_path / "after")


def test_one_decoy_per_chunk_exports_and_matches_larger_chunks():
    """A memory budget that fits a single decoy still works (chunk of one), in graph too."""
    x = np.random.default_rng(5).random((2, 10, 10, 2)).astype(np.float32)
    maps = {}
    for chunk in (1, 8):
        explainer = dance_tf.Explainer(_image_model(), layer="pool1", value_range=(0.0, 1.0),
                                       patches_per_mask=30,
                                       decoy_batch_size=chunk)
        fn = export.batch_function(explainer)
        maps[chunk] = fn(x, np.full(2, -1, np.int32))["saliency"].numpy()
        np.testing.assert_allclose(maps[chunk], explainer.explain_batch(x), rtol=1e-5,
                                   atol=1e-7)
    np.testing.assert_allclose(maps[1], maps[8], rtol=1e-4, atol=1e-6)
