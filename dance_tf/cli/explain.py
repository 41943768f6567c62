"""``dance-tf explain INPUT``: one image (→ panels.png, dance.npy, base.npy,
summary.json), one sentence with ``--sentence`` (→ words.html, dance.npy, words.npy,
summary.json) or one CSV row with ``--row N`` (→ features.html, dance.npy, summary.json),
written into an output folder that is checked before any work and changed only when the
run succeeds (never the input itself)."""

from __future__ import annotations

import json
from pathlib import Path

from dance_tf.cli import explainer_flags as flags
from dance_tf.cli.console import CLIError, log, quiet_tensorflow, timed
from dance_tf.cli.images import default_image_model, open_image, read_image
from dance_tf.cli.models import class_name, load_folder, load_image_model, probabilities
from dance_tf.cli.output_folder import out_folder, slug
from dance_tf.cli.pages import features_html, words_html


def cmd_explain(args) -> int:
    """Run ``dance-tf explain`` on parsed ``args``; 0, or CLIError for a bad input."""
    try:
        return _cmd_explain(args)
    finally:   # a refused or failed run leaves nothing it staged
        folder = getattr(args, "output_folder", None)
        if folder is not None:
            folder.discard()


def _cmd_explain(args) -> int:
    if args.sentence and args.row is not None:
        raise CLIError("use either --sentence or --row, not both")
    if args.sentence:
        return _explain_sentence(args)
    if args.row is not None:
        return _explain_row(args)
    path = Path(args.input)
    if not path.is_file():
        raise CLIError(f"{path}: no such image file (for a sentence add --sentence, for a "
                       "CSV row add --row N)")
    if path.suffix.lower() == ".csv":
        raise CLIError(f"{path}: a CSV file; pass --row N to explain one row")
    return _explain_image(args, path)


def _explain_image(args, path: Path) -> int:
    import numpy as np

    from dance_tf.plots.images import save_panels

    names = ("panels.png", "dance.npy", "base.npy", "summary.json")
    folder = out_folder(args, path.stem, names, protect=[path])
    open_image(path).close()  # an unreadable file fails before any model is loaded
    if args.model is None:
        args.model = default_image_model(path)
    quiet_tensorflow(args.verbose)
    model, kind, default_range = load_image_model(args)
    x, display_range = read_image(path, model, kind, args.model)
    value_range = flags.value_range(args, default_range)
    explainer = flags.explainer(model, value_range, args)
    details = timed(f"explaining {path.name} ({args.model}, {explainer.method_name})",
                    _run, explainer, x, args.target)
    base = explainer.base_map(x, details.target)   # the Fig. 2 "without decoys" panel
    probs = probabilities(model, x)
    png, dance, base_npy, summary = folder.claim(*names)
    np.save(dance, details.saliency)
    np.save(base_npy, base)
    maps = {explainer.method_name: {"without decoys": base, "with decoys": details.saliency}}
    name = class_name(model, kind, details.target)
    title = f"{path.name}: class {name}, p = {probs[details.target]:.3f}"
    if args.label is not None:
        title += f", true label {class_name(model, kind, args.label)}"
    title += f"; ℓ = {details.layer}"
    if kind not in ("digits", "keras"):
        from dance_tf.data.imagenet import deprocess

        shown, display_range = deprocess(x, model).astype(np.float32), (0.0, 255.0)
    else:
        shown = x
    save_panels(png, shown, maps, title=title, value_range=display_range)
    _summary(summary, details, extra={"input": str(path), "model": args.model,
                                      "probability": float(probs[details.target]),
                                      "label": args.label})
    log("wrote " + ", ".join(map(str, folder.commit())))
    return 0


def _explain_sentence(args) -> int:
    import numpy as np

    names = ("words.html", "dance.npy", "words.npy", "summary.json")
    folder = out_folder(args, "sentence-" + slug(args.input), names)
    quiet_tensorflow(args.verbose)
    args.model = args.model or "sst"
    sst = load_folder("sst", args.model)
    tokens = sst.tokens(args.input)
    if not tokens:
        raise CLIError("the sentence has no tokens")
    try:
        x = sst.embed_one(args.input)
    except ValueError as err:
        raise CLIError(f"the sentence: {err}") from err
    explainer = flags.explainer(sst.model, flags.value_range(args, sst.value_range), args)
    details = timed(f"explaining the sentence ({len(tokens)} words)", _run, explainer, x,
                    args.target)
    probs = probabilities(sst.model, x)
    words = details.saliency.mean(axis=-1)  # §4.3.2: mean over embedding dimensions
    page, dance, words_npy, summary = folder.claim(*names)
    np.save(dance, details.saliency)
    np.save(words_npy, words)
    label = class_name(sst.model, "sst", details.target, sst.classes)
    title = f"class: {label}, p = {probs[details.target]:.3f}"
    if args.label is not None:
        title += f"; true label {class_name(sst.model, 'sst', args.label, sst.classes)}"
    page.write_text(words_html(tokens, words, title), encoding="utf-8")
    _summary(summary, details, extra={"tokens": tokens, "model": args.model,
                                      "probability": float(probs[details.target])})
    log("wrote " + ", ".join(map(str, folder.commit())))
    return 0


def _explain_row(args) -> int:
    import numpy as np

    path = Path(args.input)
    outputs = ("features.html", "dance.npy", "summary.json")
    folder = out_folder(args, f"{path.stem}-row{args.row}", outputs, protect=[path])
    quiet_tensorflow(args.verbose)
    args.model = args.model or "ids"
    ids = load_folder("ids", args.model)
    from dance_tf.data import ids2018

    try:
        X, labels, names = ids2018.load_csv(args.input)
    except (OSError, ValueError) as err:
        msg = str(err)
        raise CLIError(msg if msg.startswith(args.input) else f"{args.input}: {msg}") from err
    if not 0 <= args.row < len(X):
        raise CLIError(f"--row {args.row}: the cleaned CSV has {len(X)} rows")
    x = ids.transform(X[args.row], names)
    explainer = flags.explainer(ids.model, flags.value_range(args, ids.value_range), args)
    details = timed(f"explaining row {args.row} of {path.name}", _run, explainer, x,
                    args.target)
    probs = probabilities(ids.model, x)
    page, dance, summary = folder.claim(*outputs)
    np.save(dance, details.saliency)
    title = (f"row {args.row} (true label {labels[args.row]}): class "
             f"{ids.classes[details.target]}, p = {probs[details.target]:.3f}")
    page.write_text(features_html(list(ids.feature_names), details.saliency, x, title),
                    encoding="utf-8")
    _summary(summary, details, extra={"row": args.row, "label": labels[args.row],
                                      "probability": float(probs[details.target])})
    log("wrote " + ", ".join(map(str, folder.commit())))
    return 0


def _run(explainer, x, target):
    try:
        return explainer.explain(x, target=target, return_details=True)
    except (TypeError, ValueError) as err:
        raise CLIError(str(err)) from err


def _summary(path: Path, details, extra: dict) -> None:
    info = {"target": details.target, "layer": details.layer, "method": details.method,
            "decoys": int(details.certified.size), "epsilon": details.epsilon,
            "fraction_certified": details.fraction_certified,
            "max_steps_run": int(details.steps.max()) if details.steps.size else 0, **extra}
    Path(path).write_text(json.dumps(info, indent=2, default=str), encoding="utf-8")
