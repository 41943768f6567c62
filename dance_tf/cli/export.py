"""``dance-tf export --out DIR``: the explainer the flags configure, saved as a SavedModel
(``dance_tf.export``; serving_default: x (N, *S) → maps, decoys in the graph) into a new or
empty folder (``--force``: one an earlier dance-tf export wrote)."""

from __future__ import annotations

from pathlib import Path

from dance_tf.cli import explainer_flags as flags
from dance_tf.cli.console import CLIError, log, quiet_tensorflow, timed
from dance_tf.cli.models import load_folder, load_image_model
from dance_tf.models import registry


def cmd_export(args) -> int:
    """Run ``dance-tf export`` on parsed ``args``; 0, or CLIError for a bad input."""
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise CLIError(f"--out {out}: the folder is not empty; give a new or empty folder, "
                       "or pass --force to replace an earlier dance-tf export there")
    quiet_tensorflow(args.verbose)
    from dance_tf import export

    args.model = args.model or "digits"
    bundles = registry.names("text") + registry.names("tabular")  # sst, ids: folder bundles
    if args.model in bundles or Path(args.model).is_dir():
        if args.model in bundles:
            kind = args.model
        else:
            kind = "ids" if (Path(args.model) / "scaler.npz").exists() else "sst"
        bundle = load_folder(kind, args.model)
        model, default_range = bundle.model, bundle.value_range
    else:
        model, _, default_range = load_image_model(args)
    explainer = flags.explainer(model, flags.value_range(args, default_range), args)
    import inspect

    extra = {}
    if args.force and "overwrite" in inspect.signature(export.save).parameters:
        extra["overwrite"] = True  # export.save still refuses a folder it did not write
    try:
        path = timed(f"exporting to {out} (tracing the explainer)", export.save, explainer,
                     str(out), input_shape=args.input_shape, **extra)
    except ValueError as err:
        msg = str(err)
        if msg.startswith("input_shape:"):   # the API's argument is the CLI's flag
            msg = "--input-shape" + msg[len("input_shape"):]
        raise CLIError(msg) from err
    log(f"wrote SavedModel {path} (serving_default: x (N, *S) float32 → saliency, ...); "
        f"reload with tf.saved_model.load({str(path)!r})")
    return 0
