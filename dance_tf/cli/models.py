"""The models the ``dance-tf`` commands name: the ``--model`` flags, loading what they name
(``digits``, a trained ImageNet net, a zoo net with ``--checkpoint``, a ``.keras`` file, the
packaged or a trained SST / IDS folder; ``dance_tf.models.registry``), and what a model
says about one input (probabilities, class names). No TensorFlow at import."""

from __future__ import annotations

import argparse
from pathlib import Path

from dance_tf.cli.console import CLIError, log
from dance_tf.models import registry

#: the slim / Caffe nets (with --checkpoint), from the model registry
ZOO = registry.names("image", task="imagenet", weights="file")


def packaged_photo_models() -> tuple[str, ...]:
    """Photo models whose weights a pip package ships (no --checkpoint needed)."""
    return registry.names("image", task="imagenet", weights="package")


def photo_models() -> str:
    """The ``--model`` flags to name for a photo (the packaged nets, else the zoo)."""
    names = packaged_photo_models() or ZOO
    return ", ".join(f"--model {n}" for n in names)


def add_model_options(p: argparse.ArgumentParser) -> None:
    """--model, --checkpoint, --random-weights, and the commands' --force, --verbose."""
    p.add_argument("--model", default=None,
                   help=f"digits; {', '.join(packaged_photo_models())} (trained ImageNet "
                        "nets, the [imagenet] extra); sst or ids (the packaged tasks' "
                        "models); a .keras file; "
                        f"a zoo name ({', '.join(ZOO)}) with --checkpoint; or a trained "
                        "SST / IDS folder [images: efficientnet_lite0 for a colour or large "
                        "picture when its extra is installed, else digits; --sentence: sst; "
                        "--row: ids; export: digits]")
    p.add_argument("--checkpoint", default=None, help="slim checkpoint for a zoo model")
    p.add_argument("--random-weights", action="store_true",
                   help="allow a zoo model without --checkpoint (timing / smoke tests only)")
    p.add_argument("--force", action="store_true",
                   help="write into an output folder that holds files dance-tf did not "
                        "write (the input itself is never overwritten)")
    p.add_argument("--verbose", action="store_true",
                   help="show TensorFlow's start-up log lines and full tracebacks")


def load_image_model(args):
    """(model, kind, value_range) for image inputs; kind: digits / zoo / keras."""
    name = args.model
    if name == "digits":
        return registry.load(name, progress=log), "digits", registry.get(name).value_range
    head, _, weights = name.partition("=")
    if head in packaged_photo_models():  # trained ImageNet net, [imagenet] extra
        from dance_tf.data import imagenet
        from dance_tf.models import efficientnet_lite

        weights = weights if "=" in name else args.checkpoint
        try:
            model = registry.load(head, weights)
        except ImportError as err:
            raise CLIError(f"--model {name}: {err}") from None
        except (OSError, ValueError) as err:
            raise CLIError(str(err)) from None
        if args.layer is None:
            args.layer = efficientnet_lite.DEFAULT_LAYER
        return model, "zoo", imagenet.value_range(model)
    if name in ZOO:
        from dance_tf.data import imagenet

        try:
            model = registry.build(name)
        except (AttributeError, ModuleNotFoundError) as err:
            raise CLIError(f"--model {name}: not available in this install ({err})") from err
        if args.checkpoint:
            registry.fill(name, model, args.checkpoint)
        elif not args.random_weights:
            raise CLIError(f"--model {name}: pass --checkpoint PATH (the published weights), "
                           "or --random-weights for timing only")
        return model, "zoo", imagenet.value_range(model)
    path = Path(name)
    if path.suffix in (".keras", ".h5") and path.is_file():
        from dance_tf.models import train_cache

        model = train_cache.load_model(path, "pass a complete model file")
        return model, "keras", (0.0, 1.0)
    photo = registry.default_for("imagenet")
    raise CLIError(f"--model {name!r}: expected 'digits', '{photo}', a .keras file "
                   f"or one of {ZOO} for an image")


def load_folder(kind: str, directory: str):
    """The SST / IDS bundle ``kind`` (``sst`` / ``ids``) named by --model: the packaged
    model (trained and cached on first use) or a trained folder."""
    loader = registry.get(kind).loader.replace(":", ".")
    if directory == kind:  # the packaged task model, trained and cached on first use
        try:
            return registry.load(kind, log=log)
        except (OSError, ValueError) as err:
            raise CLIError(f"--model {kind}: {err}") from err
    if not Path(directory).is_dir():
        raise CLIError(f"--model {directory!r}: expected '{kind}' (the packaged model) or the "
                       f"folder of a trained {kind.upper()} model ({loader})")
    try:
        return registry.load(kind, directory)
    except FileNotFoundError as err:
        raise CLIError(str(err)) from err


def probabilities(model, x):
    """Softmax of the model's logits for one input x: (classes,) float64."""
    import numpy as np

    from dance_tf.model_contract import logits_model

    logits, _ = logits_model(model, x.shape)
    z = np.asarray(logits(x[None], training=False), np.float64)[0]
    e = np.exp(z - z.max())
    return e / e.sum()


def class_name(model, kind: str, index: int, classes=None) -> str:
    """``index`` with the class's name when known (``classes``, or ImageNet's table for a
    photo model), else the index alone."""
    if classes is not None and 0 <= index < len(classes):
        return f"{index} ({classes[index]})"
    if kind not in ("digits", "keras"):
        try:
            from dance_tf.data.imagenet import load_class_table

            outputs = int(model.output_shape[-1])
            return f"{index} ({load_class_table().name(index, num_classes=outputs)})"
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            pass
    return str(index)
