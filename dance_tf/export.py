"""SavedModel export of a configured DANCE explainer (§3, S1; SPEC §3 "SavedModel export").

``save(explainer, path)`` writes a SavedModel whose functions run the whole DANCE pipeline
in graph — target, value range, ε, decoy masks, the compiled decoy optimisation (S1.2),
the base method and the range / mean aggregation (§3.4 Eq. 3) — for a batch of inputs.
The reloaded object needs TensorFlow only (no ``dance_tf``, no Keras code):

    loaded = tf.saved_model.load(path)
    maps = loaded.explain(x)                     # x (N, *S) float32 → (N, *S) maps
    maps = loaded.explain_targets(x, targets)    # targets (N,) int32; −1 = predicted class
    out = loaded.signatures["serving_default"](x=x)   # TF-Serving signature, a dict:
        # saliency (N, *S), feature_saliency (N, *S[:k]), target (N,) int32,
        # fraction_certified (N,) and fraction_moved (N,) float32

The functions are the live explainer's own batch pipeline (``dance_tf.pipeline_batch``,
the one ``Explainer.__call__`` runs a batch through), so the reloaded maps equal the live
explainer's maps (same seed, same masks, same chunking). Inputs of a batch run one after
another inside the graph, so memory is that of one input's decoy chunk. Inputs outside
``value_range`` are clipped into it instead of raising (a server should not crash on one
bad pixel), and a target outside [0, classes) falls back to the predicted class.

Non-finite values are never explained: an input holding NaN or ±inf makes every function
of the SavedModel fail with ``InvalidArgumentError`` ("x: ... finite ..."), and so does a
model that computes a non-finite output, layer-ℓ deviation or map for an input (e.g. a NaN
weight) — no map, and no ``fraction_certified``, is returned for them.

``save`` writes the SavedModel into a new folder beside ``path`` (its files listed with
their digests in ``.dance-tf.json``) and renames it into place (dance_tf.whole_folder), so a
failed export leaves nothing; it refuses a link, and a folder that is not empty unless it
holds an earlier dance_tf export, unchanged and nothing else, and ``overwrite=True`` is
passed; ``value_range``, ``deviation_bound`` and
``constant`` must be finite (:mod:`dance_tf.validate`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import tensorflow as tf

from dance_tf import errors, single_file, validate, whole_folder
from dance_tf.pipeline_batch import batch_graph, static_range

if TYPE_CHECKING:
    from dance_tf.explainer import Explainer

#: where the explainer's settings are written, inside the SavedModel folder
CONFIG_FILE = os.path.join("assets.extra", "dance_tf.json")


ExportError = errors.ExportError  # kept here too: ``export.ExportError`` is public


def _tf_variables(*models) -> list[tf.Variable]:
    """The tf.Variables behind the Keras 3 variables of ``models`` (deduplicated)."""
    seen, out = set(), []
    for model in models:
        for v in getattr(model, "variables", []):
            var = getattr(v, "value", v)
            if isinstance(var, tf.Variable) and id(var) not in seen:
                seen.add(id(var))
                out.append(var)
    return out


def _input_shape(explainer, input_shape) -> tuple[int, ...]:
    if input_shape is not None:
        if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__iter__"):
            raise TypeError(f"input_shape: expected a sequence of sizes, got {input_shape!r}")
        shape = tuple(validate.number(f"input_shape[{i}]", s, low=1, integer=True)
                      for i, s in enumerate(input_shape))
        _check_fits(shape, _declared_shape(explainer))
    else:
        shape = explainer.input_shape
        if shape is None or any(s is None for s in shape):
            raise ExportError(
                f"input_shape: the model's input shape {shape} is not fully known; pass "
                "input_shape=(...) for one unbatched input (e.g. (T, D) for a sentence "
                "of T words; on the command line: --input-shape T D)")
    if not shape or any(s < 1 for s in shape):
        raise ExportError(f"input_shape: expected positive sizes, got {shape}")
    return shape


def _declared_shape(explainer) -> tuple | None:
    """The model's declared input shape S (None entries: any size), or None (undeclared)."""
    from dance_tf.model_contract import declares_input

    if explainer.input_shape is None and declares_input(explainer.model):
        explainer.contract()
    return explainer.input_shape


def _check_fits(shape: tuple, declared: tuple | None) -> None:
    """``input_shape`` must fit the model's declared input shape (None: any size)."""
    if declared is None:
        return
    fits = len(shape) == len(declared) and all(
        d is None or d == s for d, s in zip(declared, shape))
    if not fits:
        want = "(" + ", ".join("any" if d is None else str(d) for d in declared) + ")"
        raise ExportError(f"input_shape: {shape} does not fit the model's input shape "
                          f"{want} (one unbatched input, without the batch axis)")


def _plan(explainer, shape, lo, hi):
    """Build (or reuse) the live explainer's plan; unreachable layers → ExportError."""
    try:
        plan = explainer.plan(shape, lo, hi)
        logits = explainer.logits_model(shape)
    except errors.BudgetError:
        raise
    except errors.LayerError as err:
        msg = str(err)
        raise ExportError(
            f"export: layer ℓ={explainer.layer!r} of model {explainer.model.name!r} cannot be "
            f"reached from its input as a differentiable Keras sub-model ({msg}); pick a "
            "layer by name or Table S1 index that the input feeds (for a wrapped SavedModel "
            "the layer must be one of its signature's outputs)") from err
    except ValueError as err:
        raise ExportError(f"export: {err}") from err
    return plan, logits


def batch_function(explainer, input_shape=None):
    """The exported pipeline as a live ``tf.function`` f(x (N, *S), targets (N,) int32, −1 =
    predicted) → dict (see the module docstring): everything in one graph, no eager
    prelude. What ``save`` exports; also usable in-process."""
    shape = _input_shape(explainer, input_shape)
    rng = static_range(explainer, shape)
    plan, logits = _plan(explainer, shape, *(rng or (None, None)))
    spec = tf.TensorSpec((None,) + shape, tf.float32)
    return tf.function(batch_graph(explainer, plan, logits, shape, rng),
                       input_signature=[spec, tf.TensorSpec((None,), tf.int32)])


class DanceModule(tf.Module):
    """The exported explainer (a ``tf.Module``; see the module docstring for its API)."""

    def __init__(self, explainer, shape: tuple[int, ...]):
        super().__init__(name="dance_explainer")
        rng = static_range(explainer, shape)
        plan, logits = _plan(explainer, shape, *(rng or (None, None)))
        self._dance_variables = _tf_variables(explainer.model, plan.f_l, logits, plan.f_loop)
        self._graph = batch_graph(explainer, plan, logits, shape, rng)
        spec = tf.TensorSpec((None,) + shape, tf.float32, name="x")
        tspec = tf.TensorSpec((None,), tf.int32, name="targets")
        self.explain = tf.function(self._explain, input_signature=[spec])
        self.explain_targets = tf.function(self._explain_targets, input_signature=[spec, tspec])
        self.serve = tf.function(self._serve, input_signature=[spec])
        self.serve_targets = tf.function(self._serve_targets, input_signature=[spec, tspec])

    def _explain(self, x):
        return self._graph(x, -tf.ones(tf.shape(x)[:1], tf.int32))["saliency"]

    def _explain_targets(self, x, targets):
        return self._graph(x, _matched_targets(x, targets))["saliency"]

    def _serve(self, x):
        return self._graph(x, -tf.ones(tf.shape(x)[:1], tf.int32))

    def _serve_targets(self, x, targets):
        return self._graph(x, _matched_targets(x, targets))


def _matched_targets(x, targets):
    """targets (N,) after an in-graph check that x holds N inputs too: a clear
    ``InvalidArgumentError`` instead of a reshape error deep inside the pipeline."""
    check = tf.debugging.assert_equal(
        tf.shape(targets)[0], tf.shape(x)[0],
        message="explain_targets: targets must hold one class index (or -1) per input of "
                "x: len(targets) != len(x)")
    with tf.control_dependencies([check]):
        return tf.identity(targets)


def config(explainer, plan, shape) -> dict:
    """The settings written beside the SavedModel (``assets.extra/dance_tf.json``)."""
    s = explainer.settings
    return {
        "format": "dance_tf SavedModel v1",
        "input_shape": list(shape),
        "method": explainer.method_name,
        "method_options": {k: (v if isinstance(v, (int, float, str, bool, type(None)))
                               else repr(v)) for k, v in explainer.method_options.items()},
        "layer": plan.layer,
        "aggregation": explainer.aggregation,
        "perturbation": explainer.perturbation,
        "packing": explainer.packing,
        "target_decoys": explainer.target_decoys,
        "precision": explainer.precision,
        "masks": int(getattr(plan, "n_masks", None) or plan.masks.shape[0]),
        "decoys": int(plan.n_items),
        "decoy_chunk": int(plan.chunk),
        "value_range": None if explainer.value_range is None else "fixed",
        "epsilon": s.epsilon, "epsilon_rel": s.epsilon_rel, "lambda0": s.lambda0,
        "tau0": s.tau0, "max_steps": s.max_steps, "learning_rate": s.learning_rate,
        "patience": s.patience, "init_noise": s.init_noise, "seed": explainer.seed,
        "signatures": {
            "serving_default": "x (N, *S) float32 → saliency, feature_saliency, target, "
                               "fraction_certified, fraction_moved",
            "explain_targets": "x (N, *S) float32, targets (N,) int32 (−1: predicted) → "
                               "the same dict",
        },
    }


#: what a SavedModel export of an older dance_tf (no manifest) holds at its top level
_EXPORT_ENTRIES = ("saved_model.pb", "fingerprint.pb", "variables", "assets",
                   os.path.dirname(CONFIG_FILE))


def _check_target(path: Path, overwrite: bool) -> bool:
    """Refuse a target that is a link or a file, or a non-empty folder that is not an
    earlier export written entirely by dance_tf (or is one, without ``overwrite``);
    returns True if an earlier export is replaced."""
    if path.is_symlink():
        raise FileExistsError(f"{path}: is a symbolic link; export never writes through a "
                              "link - give the real path")
    if not path.exists():
        return False
    if not path.is_dir():
        raise FileExistsError(f"{path}: exists and is not a folder; a SavedModel is a folder "
                              "- choose a new or empty folder")
    if not any(path.iterdir()):
        return False
    if not ((path / CONFIG_FILE).is_file() and (path / "saved_model.pb").is_file()):
        raise FileExistsError(f"{path}: folder is not empty and is not a dance_tf export; "
                              "export never writes into it - choose a new or empty folder")
    problem = whole_folder.folder_problem(path, legacy=_EXPORT_ENTRIES)
    if problem:
        raise FileExistsError(f"{path}: holds a dance_tf export and files it did not write "
                              f"({problem}); export never replaces them - choose a new or "
                              "empty folder")
    if not overwrite:
        raise FileExistsError(f"{path}: holds a dance_tf export already; pass "
                              "overwrite=True to replace it")
    return True


def save(explainer: Explainer, path: str | os.PathLike, input_shape: tuple | None = None,
         *, overwrite: bool = False) -> Path:
    """Export ``explainer`` (a ``dance_tf.Explainer``) as a SavedModel at ``path``.

    input_shape: one unbatched input's shape S; default the model's input shape (required
    when that has unknown sizes, e.g. sentences). The batch axis stays dynamic.
    overwrite: replace an earlier dance_tf export at ``path`` [False]. A folder that is
    not empty and holds no dance_tf export is never written into, nor is a file.
    Returns the path. Raises ``FileExistsError`` for a refused target, ``ExportError``
    when layer ℓ cannot be reached from the model's input or the settings cannot be
    exported, ``ValueError`` / ``TypeError`` for a non-finite or malformed
    ``value_range``, ``deviation_bound`` or ``constant``, and ``ValueError`` (from the
    explainer) when ``memory_budget_mb`` cannot hold one decoy.
    """
    path = Path(path)
    replace = _check_target(path, overwrite)
    shape = _input_shape(explainer, input_shape)
    if explainer.runs_eagerly:
        raise ExportError(f"method {explainer.method_name!r} only runs eagerly (through "
                          "tf.numpy_function), and a SavedModel cannot hold Python code; "
                          "export a graph-safe base method")
    module = DanceModule(explainer, shape)
    try:
        signatures = {
            "serving_default": module.serve.get_concrete_function(),
            "explain_targets": module.serve_targets.get_concrete_function(),
        }
    except (TypeError, ValueError, NotImplementedError, tf.errors.OpError) as err:
        raise ExportError(f"export: the pipeline of method {explainer.method_name!r} cannot "
                          f"be traced into a graph ({type(err).__name__}: {err}); export a "
                          "graph-safe base method") from err
    settings = json.dumps(config(explainer, explainer.plan(shape), shape), indent=2)

    def write(folder: Path) -> None:   # a new folder beside path, renamed into place
        tf.saved_model.save(module, str(folder), signatures=signatures)
        (folder / CONFIG_FILE).parent.mkdir(parents=True, exist_ok=True)
        single_file.write_text(folder / CONFIG_FILE, settings)

    return whole_folder.write_folder(path, write, replace=replace, legacy=_EXPORT_ENTRIES)
