"""The ``dance-tf`` command: explain one input, evaluate a task, export, benchmark.

    dance-tf explain INPUT [--model M] [--out DIR] [--force] [DANCE options]
        an image (PNG/JPEG) → DIR/panels.png (input | without decoys | with decoys |
        with − without, Fig. 2A) + DIR/dance.npy (the DANCE map, shaped like the model
        input) + DIR/base.npy (the base method's map) + DIR/summary.json (target,
        probability, certificates); a sentence (``--sentence``, model = a trained SST
        folder or ``sst``) → DIR/words.html (coloured words, Fig. 3A) + DIR/dance.npy
        (T, D) + DIR/words.npy (T,); a CSV row (``--row N``, model = a trained IDS folder
        or ``ids``) → DIR/features.html (ranked features, S8) + DIR/dance.npy (F,).
        DIR defaults to ``outputs/explain/<input stem>/``.
    dance-tf evaluate ...     the batch evaluation (``dance_tf.evaluation``; see its --help)
    dance-tf export --out DIR [--model M] [DANCE options]   SavedModel (dance_tf.export)
    dance-tf bench ...        the benchmarks of ``benchmarks/`` (source checkout)
    dance-tf reproduce ...    the reproduction study (``scripts/reproduce.py``; see its --help)

No command writes over a file it did not write: every output folder keeps a list of the
files dance-tf wrote there (``.dance-tf.json``); a folder holding anything else is refused
unless ``--force``, and the input itself is never overwritten, even with ``--force``.

Models (``--model``): ``digits`` (the embedded default CNN, trained and cached once),
``sst`` / ``ids`` (the packaged SST CNN / IDS MLP, trained and cached once), a ``.keras``
file, a zoo name with ``--checkpoint`` (slim checkpoint), or a folder saved by
``scripts/train_sst.py`` / ``scripts/train_ids.py`` for sentences / CSV rows. Defaults
of the DANCE options are the paper's (Table S1; §3.3, S1.2).

Arguments are parsed before anything heavy is imported (``dance-tf --help`` does not
import TensorFlow); TensorFlow's C++ start-up lines are hidden unless ``--verbose``.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
from pathlib import Path

from dance_tf import files, option_flags
from dance_tf.errors import OutputError, one_line
from dance_tf.models import registry

#: the slim / Caffe nets (with --checkpoint), from the model registry
ZOO = registry.names("image", task="imagenet", weights="file")
#: image models the CLI names for photos (the trained one first)
PHOTO_MODELS = registry.names("image", task="imagenet")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")

#: every base method of ``dance_tf.saliency.registry.BUILT_IN`` (kept here so that --help
#: needs no TensorFlow; tests/test_cli_first_hour.py checks it equals the registry)
METHODS = ("gradient", "integrated_gradients", "smoothgrad", "expected_gradients",
           "vargrad", "smoothgrad_range", "ig_uniform", "gradcam")
#: the registry's aliases (same check)
ALIASES = {"grad": "gradient", "ig": "integrated_gradients", "intgrad": "integrated_gradients",
           "sg": "smoothgrad", "expgrad": "expected_gradients", "eg": "expected_gradients",
           "sgrange": "smoothgrad_range", "sgradrange": "smoothgrad_range",
           "intuniform": "ig_uniform", "grad_cam": "gradcam", "grad-cam": "gradcam"}
#: methods that take --ig-steps as ``steps`` / --sg-samples, --sg-noise as samples, noise
STEP_METHODS = ("integrated_gradients", "ig_uniform")
NOISE_METHODS = ("smoothgrad", "vargrad", "smoothgrad_range")
PAPER_DEFAULTS = {"integrated_gradients": {"steps": 50},
                  "smoothgrad": {"samples": 50, "noise": 0.15}}

MANIFEST = files.MANIFEST


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


# --------------------------------------------------------------------------- parsing
def _method(value: str) -> str:
    name = ALIASES.get(value.lower(), value.lower())
    if name not in METHODS:
        raise argparse.ArgumentTypeError(f"unknown base method {value!r}; expected one of "
                                         f"{', '.join(METHODS)}")
    return name


def _method_number(option: str):
    """An argparse ``type`` checking a base method's number by the methods' own rule
    (``dance_tf.saliency.checks.NUMBERS``), so --sg-samples 0 is refused at parse time."""
    def parse(text: str):
        from dance_tf import validate
        from dance_tf.saliency.checks import NUMBERS  # only when the flag is given

        try:
            return validate.number_from_text(option, text, **NUMBERS[option])
        except (TypeError, ValueError) as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    parse.__name__ = option
    return parse


class _Parser(option_flags.OptionParser):
    """A sub-command parser whose errors are one line and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {one_line(message)} ({self.prog} --help for "
                     "the options)\n")


def _add_dance_options(p: argparse.ArgumentParser) -> None:
    """Every explainer option as a flag (generated from ``dance_tf.options``), and the
    base methods' step / sample / noise flags."""
    g = option_flags.add(p, _method, "base method: " + ", ".join(METHODS) + " (the paper's "
                     "main three are the first three; aliases: ig, sg, eg, grad-cam, ...)")
    g.add_argument("--ig-steps", type=_method_number("steps"), default=None,
                   help="path steps of integrated_gradients [50, the paper's] and "
                        "ig_uniform [its own default, 25]")
    g.add_argument("--sg-samples", type=_method_number("samples"), default=None,
                   help="noisy samples of smoothgrad [50, the paper's], vargrad and "
                        "smoothgrad_range [their own default, 25]")
    g.add_argument("--sg-noise", type=_method_number("noise"), default=None,
                   help="relative noise level of smoothgrad, vargrad, smoothgrad_range "
                        "[0.15]")


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None,
                   help=f"digits; {', '.join(_packaged_photo_models())} (trained ImageNet "
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


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = _Parser(
        prog="dance-tf", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="DANCE decoy-enhanced saliency maps (Lu et al., ICML 2021).",
        epilog="base methods: " + ", ".join(METHODS) + "\n"
               "examples:\n"
               "  dance-tf explain digit.png                 → outputs/explain/digit/\n"
               "  dance-tf explain 'a gripping film .' --sentence --model sst\n"
               "  dance-tf evaluate --task sst --count 8\n"
               "  dance-tf export --out exported/digits      (then tf.saved_model.load)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                parser_class=_Parser)
    ex = sub.add_parser("explain", formatter_class=fmt,
                        help="explain one image / sentence / CSV row",
                        description="Explain one input: an image file, a sentence "
                                    "(--sentence) or one row of a CICFlowMeter CSV (--row). "
                                    "Writes into an output folder, never over the input.")
    ex.add_argument("input", help="image file, CSV file, or the sentence text with --sentence")
    ex.add_argument("--sentence", action="store_true", help="INPUT is a sentence (SST model)")
    ex.add_argument("--row", type=int, default=None, help="INPUT is a CSV; explain row N "
                                                          "(0-based, after cleaning)")
    ex.add_argument("--target", type=int, default=None, help="class to explain [predicted]")
    ex.add_argument("--label", type=int, default=None,
                    help="the input's true class, shown in the figure title [unknown]")
    ex.add_argument("--out", default=None,
                    help="output folder [outputs/explain/<input stem>/]")
    _add_model_options(ex)
    _add_dance_options(ex)
    exp = sub.add_parser("export", formatter_class=fmt, help="export an explainer as a "
                         "SavedModel", description="Export a configured explainer as a "
                         "SavedModel (serving_default: x (N, *S) → maps; decoys in graph).")
    exp.add_argument("--out", required=True, help="SavedModel folder (new or empty)")
    exp.add_argument("--input-shape", type=int, nargs="+", default=None,
                     help="one input's shape when the model's is not fixed (e.g. T D)")
    _add_model_options(exp)
    _add_dance_options(exp)
    sub.add_parser("evaluate", add_help=False,
                   help="batch evaluation (dance_tf.evaluation; 'dance-tf evaluate --help')")
    sub.add_parser("bench", add_help=False,
                   help="run the benchmarks (benchmarks/run.py; 'dance-tf bench --help')")
    sub.add_parser("reproduce", add_help=False,
                   help="the reproduction study (REPRODUCTION.md; 'dance-tf reproduce --help')")
    return parser


def explainer_options(args) -> dict:
    """Explainer keyword arguments from parsed DANCE options (every option that differs
    from its default; the paper's steps / samples of IG and SmoothGrad unless given)."""
    opts = option_flags.explainer_kwargs(args)
    name = ALIASES.get(args.method.lower(), args.method.lower())
    given = opts.get("method_options", {})
    extra = {k: v for k, v in PAPER_DEFAULTS.get(name, {}).items() if k not in given}
    if name in STEP_METHODS and args.ig_steps is not None:
        extra["steps"] = args.ig_steps
    if name in NOISE_METHODS:
        if args.sg_samples is not None:
            extra["samples"] = args.sg_samples
        if args.sg_noise is not None:
            extra["noise"] = args.sg_noise
    opts.update(extra)
    return opts


# --------------------------------------------------------------------------- TF start-up
def quiet_tensorflow(verbose: bool = False) -> None:
    """Import TensorFlow with its C++ start-up lines hidden (unless ``verbose``).

    TF_CPP_MIN_LOG_LEVEL=2 hides its INFO / WARNING lines; the CUDA probe's lines are
    written before that setting is read, so stderr (file descriptor 2) is pointed at
    /dev/null while TensorFlow is imported and its devices are listed.
    """
    if "tensorflow" in sys.modules:
        return
    if verbose:
        import tensorflow  # noqa: F401
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. captured): import plainly
        import tensorflow  # noqa: F401
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


# --------------------------------------------------------------------------- output folder
class OutputFolder(files.OutputFolder):
    """The explain command's output folder (:class:`dance_tf.files.OutputFolder`, whose
    refusals become CLIError): :meth:`claim` gives staging paths to write, :meth:`commit`
    moves them into place together, :meth:`discard` drops them (a failed run changes
    nothing). ``.dance-tf.json`` lists what dance-tf wrote, with sizes and digests."""

    def __init__(self, path, force: bool = False, protect=(), option: str = "--out"):
        try:
            super().__init__(path, force=force, protect=protect, option=option)
        except OutputError as err:
            raise CLIError(str(err)) from None
        self._staging = None

    def check(self, *names: str) -> list[Path]:
        """Final paths for ``names``; CLIError if one is the input, a folder, a link, or a
        file dance-tf did not write (or one it wrote that was since replaced)."""
        try:
            return super().check(*names)
        except OutputError as err:
            raise CLIError(str(err)) from None

    def claim(self, *names: str) -> list[Path]:
        """Staging paths to write ``names`` at; :meth:`commit` moves them into place."""
        self.check(*names)
        self._staging = self._staging or self.stage()
        return [self._staging.path(name) for name in names]

    def commit(self) -> list[Path]:
        """Move the claimed files into place (all checked first); their final paths."""
        staging, self._staging = self._staging, None
        try:
            return staging.commit() if staging is not None else []
        except OutputError as err:   # the staging removed itself: nothing changed
            raise CLIError(str(err)) from None

    def discard(self) -> None:
        """Drop claimed files not committed (nothing is left on disk)."""
        if self._staging is not None:
            self._staging.discard()
            self._staging = None


def _slug(text: str, limit: int = 40) -> str:
    """A folder name from free text: lower-case words joined by '-', whole words only."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    if len(slug) > limit:
        cut = slug[:limit + 1]
        slug = cut[:cut.rfind("-")] if "-" in cut else slug[:limit]
    return slug.strip("-") or "input"


def _out_folder(args, stem: str, names, protect=()) -> OutputFolder:
    """The explain command's output folder, checked before any work is done."""
    path = args.out or os.path.join("outputs", "explain", stem)
    folder = OutputFolder(path, force=args.force, protect=protect)
    folder.check(*names)
    args.output_folder = folder   # cmd_explain discards what a failed run staged
    return folder


# --------------------------------------------------------------------------- models
def load_image_model(args):
    """(model, kind, value_range) for image inputs; kind: digits / zoo / keras."""
    name = args.model
    if name == "digits":
        return registry.load(name, progress=_log), "digits", registry.get(name).value_range
    head, _, weights = name.partition("=")
    if head in _packaged_photo_models():  # trained ImageNet net, [imagenet] extra
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


def _value_range(args, default):
    return default if args.value_range is None else tuple(args.value_range)


def _default_image_model(path: Path) -> str:
    """``efficientnet_lite0`` for a colour or large picture when its weights package is
    installed (the [imagenet] extra), else ``digits`` (the embedded default)."""
    import importlib.util

    with _open_image(path) as img:
        pixels, colour = _pixels(img, path)
    photo = colour or max(pixels.shape[:2]) > 8 * 32
    net = registry.get(registry.default_for("imagenet"))
    if photo and importlib.util.find_spec(net.weights_package) is not None:
        _log(f"{path.name}: a {'colour' if colour else 'large'} picture: explaining it with "
             f"{net.name} (the trained ImageNet net; --model to choose another)")
        return net.name
    return registry.default_for("digits")


def _packaged_photo_models() -> tuple[str, ...]:
    """Photo models whose weights a pip package ships (no --checkpoint needed)."""
    return registry.names("image", task="imagenet", weights="package")


def _photo_models() -> str:
    names = _packaged_photo_models() or ZOO
    return ", ".join(f"--model {n}" for n in names)


def _open_image(path: Path):
    """PIL image of ``path``, fully decoded; unreadable → CLIError 'FILE: why'
    (``dance_tf.data.images.open_image``)."""
    from dance_tf.data import images

    try:
        return images.open_image(path)
    except (OSError, ValueError) as err:
        msg = str(err)
        if msg.endswith("not an image file PIL can read"):
            msg += f" (expected one of {', '.join(IMAGE_SUFFIXES)})"
        raise CLIError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None


def _pixels(img, path: Path):
    """(H, W, C) float32 in [0, 1] and whether the image has colour
    (``dance_tf.data.images.pixels``: high depths scaled by their range)."""
    from dance_tf.data import images

    try:
        return images.pixels(img, path)
    except ValueError as err:
        raise CLIError(str(err)) from None


def read_image(path: Path, model, kind: str, model_name: str = "") -> tuple:
    """(x (H, W, C) float32, display range) for the model.

    Refuses (CLIError) an image the model cannot take: a colour photo or a large picture
    given to a small greyscale model (e.g. the 32×32 digits CNN) names the models to use.
    """
    import numpy as np

    from dance_tf.data import images

    if kind not in ("digits", "keras"):
        from dance_tf.data import imagenet

        _open_image(path).close()
        try:
            x = imagenet.load_image(path, mode=model)
        except (OSError, ValueError) as err:
            msg = str(err)
            raise CLIError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None
        return x, imagenet.value_range(model)
    shape = model.input_shape[1:]
    if len(shape) != 3 or shape[0] is None or shape[1] is None:
        raise CLIError(f"--model: expected an image model with a fixed (H, W, C) input, got "
                       f"{shape}")
    h, w, c = shape
    if c not in (1, 3):
        raise CLIError(f"--model: expected 1 or 3 input channels, got {c}")
    with _open_image(path) as img:
        pixels, colour = _pixels(img, path)
        high_depth = images.is_high_depth(img)
    H, W = pixels.shape[:2]
    what = f"the {model_name or kind} model takes {h}×{w} greyscale images"
    if c == 1 and colour:
        raise CLIError(f"{path}: a colour image ({W}×{H}) but {what}; for photos use "
                       f"{_photo_models()} (with --checkpoint for the slim nets)")
    if c == 1 and max(H / h, W / w) > 8:
        raise CLIError(f"{path}: a {W}×{H} image but {what} (it would be shrunk "
                       f"{max(H / h, W / w):.0f}×); crop or resize it first, or for photos "
                       f"use {_photo_models()}")
    from PIL import Image

    if high_depth:  # 16/32-bit, float: resize the [0, 1] floats, no 8-bit rounding
        grey = Image.fromarray(np.ascontiguousarray(pixels[..., 0]), mode="F")
        x = np.asarray(grey.resize((w, h), Image.BILINEAR), np.float32)[..., None]
        x = np.repeat(x, c, axis=-1)
    else:  # 8-bit: PIL's own conversion and resize, then / 255
        with _open_image(path) as img:
            small = images.eight_bit(img, path).convert("L" if c == 1 else "RGB")
            small = small.resize((w, h), Image.BILINEAR)
            x = np.asarray(small, np.float32) / 255.0
    return np.clip(x, 0.0, 1.0).astype(np.float32).reshape(h, w, c), (0.0, 1.0)


def _explainer(model, value_range, args):
    import dance_tf

    try:
        return dance_tf.Explainer(model, value_range=value_range, **explainer_options(args))
    except (TypeError, ValueError) as err:
        raise CLIError(str(err)) from err


def _probabilities(model, x):
    """Softmax of the model's logits for one input x: (classes,) float64."""
    import numpy as np

    from dance_tf.layers import logits_model

    logits, _ = logits_model(model, x.shape)
    z = np.asarray(logits(x[None], training=False), np.float64)[0]
    e = np.exp(z - z.max())
    return e / e.sum()


def _class_name(model, kind: str, index: int, classes=None) -> str:
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


# --------------------------------------------------------------------------- explain
def cmd_explain(args) -> int:
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


def _timed(desc: str, fn, *a, **kw):
    from dance_tf.progress import ticker

    with ticker(desc):
        return fn(*a, **kw)


def _explain_image(args, path: Path) -> int:
    import numpy as np

    from dance_tf.plots.images import save_panels

    names = ("panels.png", "dance.npy", "base.npy", "summary.json")
    folder = _out_folder(args, path.stem, names, protect=[path])
    _open_image(path).close()  # an unreadable file fails before any model is loaded
    if args.model is None:
        args.model = _default_image_model(path)
    quiet_tensorflow(args.verbose)
    model, kind, default_range = load_image_model(args)
    x, display_range = read_image(path, model, kind, args.model)
    value_range = _value_range(args, default_range)
    explainer = _explainer(model, value_range, args)
    details = _timed(f"explaining {path.name} ({args.model}, {explainer.method_name})",
                     _run, explainer, x, args.target)
    base = explainer.base_map(x, details.target)   # the Fig. 2 "without decoys" panel
    probs = _probabilities(model, x)
    png, dance, base_npy, summary = folder.claim(*names)
    np.save(dance, details.saliency)
    np.save(base_npy, base)
    maps = {explainer.method_name: {"without decoys": base, "with decoys": details.saliency}}
    name = _class_name(model, kind, details.target)
    title = f"{path.name}: class {name}, p = {probs[details.target]:.3f}"
    if args.label is not None:
        title += f", true label {_class_name(model, kind, args.label)}"
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
    _log("wrote " + ", ".join(map(str, folder.commit())))
    return 0


def _load_folder(kind: str, directory: str):
    loader = registry.get(kind).loader.replace(":", ".")
    if directory == kind:  # the packaged task model, trained and cached on first use
        try:
            return registry.load(kind, log=_log)
        except (OSError, ValueError) as err:
            raise CLIError(f"--model {kind}: {err}") from err
    if not Path(directory).is_dir():
        raise CLIError(f"--model {directory!r}: expected '{kind}' (the packaged model) or the "
                       f"folder of a trained {kind.upper()} model ({loader})")
    try:
        return registry.load(kind, directory)
    except FileNotFoundError as err:
        raise CLIError(str(err)) from err


def _explain_sentence(args) -> int:
    import numpy as np

    names = ("words.html", "dance.npy", "words.npy", "summary.json")
    folder = _out_folder(args, "sentence-" + _slug(args.input), names)
    quiet_tensorflow(args.verbose)
    args.model = args.model or "sst"
    sst = _load_folder("sst", args.model)
    tokens = sst.tokens(args.input)
    if not tokens:
        raise CLIError("the sentence has no tokens")
    try:
        x = sst.embed_one(args.input)
    except ValueError as err:
        raise CLIError(f"the sentence: {err}") from err
    explainer = _explainer(sst.model, _value_range(args, sst.value_range), args)
    details = _timed(f"explaining the sentence ({len(tokens)} words)", _run, explainer, x,
                     args.target)
    probs = _probabilities(sst.model, x)
    words = details.saliency.mean(axis=-1)  # §4.3.2: mean over embedding dimensions
    page, dance, words_npy, summary = folder.claim(*names)
    np.save(dance, details.saliency)
    np.save(words_npy, words)
    label = _class_name(sst.model, "sst", details.target, sst.classes)
    title = f"class: {label}, p = {probs[details.target]:.3f}"
    if args.label is not None:
        title += f"; true label {_class_name(sst.model, 'sst', args.label, sst.classes)}"
    page.write_text(words_html(tokens, words, title), encoding="utf-8")
    _summary(summary, details, extra={"tokens": tokens, "model": args.model,
                                      "probability": float(probs[details.target])})
    _log("wrote " + ", ".join(map(str, folder.commit())))
    return 0


def _explain_row(args) -> int:
    import numpy as np

    path = Path(args.input)
    outputs = ("features.html", "dance.npy", "summary.json")
    folder = _out_folder(args, f"{path.stem}-row{args.row}", outputs, protect=[path])
    quiet_tensorflow(args.verbose)
    args.model = args.model or "ids"
    ids = _load_folder("ids", args.model)
    from dance_tf.data import ids2018

    try:
        X, labels, names = ids2018.load_csv(args.input)
    except (OSError, ValueError) as err:
        msg = str(err)
        raise CLIError(msg if msg.startswith(args.input) else f"{args.input}: {msg}") from err
    if not 0 <= args.row < len(X):
        raise CLIError(f"--row {args.row}: the cleaned CSV has {len(X)} rows")
    x = ids.transform(X[args.row], names)
    explainer = _explainer(ids.model, _value_range(args, ids.value_range), args)
    details = _timed(f"explaining row {args.row} of {path.name}", _run, explainer, x,
                     args.target)
    probs = _probabilities(ids.model, x)
    page, dance, summary = folder.claim(*outputs)
    np.save(dance, details.saliency)
    title = (f"row {args.row} (true label {labels[args.row]}): class "
             f"{ids.classes[details.target]}, p = {probs[details.target]:.3f}")
    page.write_text(features_html(list(ids.feature_names), details.saliency, x, title),
                    encoding="utf-8")
    _summary(summary, details, extra={"row": args.row, "label": labels[args.row],
                                      "probability": float(probs[details.target])})
    _log("wrote " + ", ".join(map(str, folder.commit())))
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


def _shade(score: float, top: float) -> str:
    a = 0.0 if top <= 0 else min(1.0, score / top)
    return f"rgba(220, 40, 30, {a:.3f})"


def words_html(tokens, scores, title: str = "") -> str:
    """Words on a red background whose opacity is the word's saliency (Fig. 3A)."""
    top = float(max(scores)) if len(scores) else 0.0
    spans = " ".join(f'<span style="background:{_shade(float(s), top)};padding:2px" '
                     f'title="{float(s):.4g}">{html.escape(t)}</span>'
                     for t, s in zip(tokens, scores))
    return (f"<!doctype html><meta charset='utf-8'><title>DANCE</title>"
            f"<p>{html.escape(title)}</p><p style='font-size:20px'>{spans}</p>\n")


def features_html(names, scores, values, title: str = "", top_k: int = 20) -> str:
    """A table of the ``top_k`` most salient features, ranked (S8)."""
    order = sorted(range(len(names)), key=lambda i: -float(scores[i]))[:top_k]
    top = float(scores[order[0]]) if order else 0.0
    rows = "".join(f"<tr><td>{r + 1}</td><td>{html.escape(names[i])}</td>"
                   f"<td style='background:{_shade(float(scores[i]), top)}'>"
                   f"{float(scores[i]):.4g}</td><td>{float(values[i]):.4g}</td></tr>"
                   for r, i in enumerate(order))
    return (f"<!doctype html><meta charset='utf-8'><title>DANCE</title>"
            f"<p>{html.escape(title)}</p><table border=1 cellpadding=3><tr><th>rank</th>"
            f"<th>feature</th><th>saliency</th><th>scaled value</th></tr>{rows}</table>\n")


# --------------------------------------------------------------------------- export
def cmd_export(args) -> int:
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
        bundle = _load_folder(kind, args.model)
        model, default_range = bundle.model, bundle.value_range
    else:
        model, _, default_range = load_image_model(args)
    explainer = _explainer(model, _value_range(args, default_range), args)
    import inspect

    extra = {}
    if args.force and "overwrite" in inspect.signature(export.save).parameters:
        extra["overwrite"] = True  # export.save still refuses a folder it did not write
    try:
        path = _timed(f"exporting to {out} (tracing the explainer)", export.save, explainer,
                      str(out), input_shape=args.input_shape, **extra)
    except ValueError as err:
        msg = str(err)
        if msg.startswith("input_shape:"):   # the API's argument is the CLI's flag
            msg = "--input-shape" + msg[len("input_shape"):]
        raise CLIError(msg) from err
    _log(f"wrote SavedModel {path} (serving_default: x (N, *S) float32 → saliency, ...); "
         f"reload with tf.saved_model.load({str(path)!r})")
    return 0


# --------------------------------------------------------------------------- delegates
def cmd_evaluate(argv) -> int:
    """The batch evaluation (dance_tf.evaluation.cli; parses before importing TensorFlow)."""
    from dance_tf.evaluation.cli import main as evaluate_main

    if "--help" not in argv and "-h" not in argv:
        quiet_tensorflow("--verbose" in argv)
    return int(evaluate_main(argv, prog="dance-tf evaluate") or 0)


def cmd_reproduce(argv) -> int:
    """The reproduction study (dance_tf.study.cli; parses before importing TensorFlow)."""
    from dance_tf.study.cli import main as reproduce_main

    return int(reproduce_main(argv, prog="dance-tf reproduce") or 0)


def benchmarks_dir() -> Path:
    """The source checkout's benchmarks/ folder (not part of an installed wheel)."""
    return Path(__file__).resolve().parents[1] / "benchmarks"


def cmd_bench(argv) -> int:
    runner = benchmarks_dir() / "run.py"
    if not runner.is_file():
        raise CLIError(f"bench: {runner} not found; the benchmarks live in the source "
                       "checkout (git clone), not in an installed wheel")
    import importlib.util

    spec = importlib.util.spec_from_file_location("dance_tf_benchmarks_run", runner)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(runner.parent))
    try:
        spec.loader.exec_module(module)
        return int(module.main(argv) or 0)
    finally:
        sys.path.remove(str(runner.parent))


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _user_error(err: BaseException) -> BaseException | None:
    """The error to report as one line for a bad input (a DanceError in the chain of
    causes first: autograph wraps errors raised while tracing), or None for a bug."""
    chain, seen, e = [], set(), err
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        chain.append(e)
        e = e.__cause__ or e.__context__
    from dance_tf.errors import DanceError

    for e in chain:
        if isinstance(e, DanceError):
            return e
    if isinstance(err, (OSError, ValueError, TypeError)):
        return err
    if "tensorflow" in sys.modules:
        import tensorflow as tf
        from tensorflow.python.autograph.impl.api import StagingError

        if isinstance(err, (tf.errors.InvalidArgumentError, StagingError)):
            return err
    return None


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in argv
    try:
        if argv and argv[0] == "evaluate":
            return cmd_evaluate(argv[1:])
        if argv and argv[0] == "bench":
            return cmd_bench(argv[1:])
        if argv and argv[0] == "reproduce":
            return cmd_reproduce(argv[1:])
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return {"explain": cmd_explain, "export": cmd_export}[args.command](args)
    except CLIError as err:
        print(f"dance-tf: error: {one_line(err)}", file=sys.stderr)
        return 2
    except Exception as err:   # noqa: BLE001 - a bad input is one line; a bug is re-raised
        shown = _user_error(err)
        if verbose or shown is None:
            raise
        print(f"dance-tf: error: {one_line(shown)} (--verbose for the traceback)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
