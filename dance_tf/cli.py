"""The ``dance-tf`` command: explain one input, evaluate a task, export, benchmark.

    dance-tf explain INPUT [--model M] [--out PREFIX] [DANCE options]
        an image (PNG/JPEG) → PREFIX.png (input | without decoys | with decoys |
        difference, Fig. 2A) + PREFIX.npy (the DANCE map, shaped like the model input)
        + PREFIX_base.npy (the base method's map) + PREFIX.json (target, certificates);
        a sentence (``--sentence``, model = a trained SST folder) → PREFIX.html (coloured
        words, Fig. 3A) + PREFIX.npy (T, D) + PREFIX_words.npy (T,);
        a CSV row (``--row N``, model = a trained IDS folder) → PREFIX.html (ranked
        features, S8) + PREFIX.npy (F,).
    dance-tf evaluate ...     the batch evaluation (``dance_tf.evaluate``; see its --help)
    dance-tf export --out DIR [--model M] [DANCE options]   SavedModel (dance_tf.export)
    dance-tf bench ...        the benchmarks of ``benchmarks/`` (source checkout)

Models (``--model``): ``digits`` (the embedded default CNN, trained and cached once),
a ``.keras`` file, a zoo name (``vgg_16``, ``alexnet_v2``, ``resnet_v1_50``) with
``--checkpoint`` (slim checkpoint), or a folder saved by ``scripts/train_sst.py`` /
``scripts/train_ids.py`` for sentences / CSV rows. Defaults of the DANCE options are the
paper's (Table S1; §3.3, S1.2). Models, data and plotting are imported only once the
arguments are parsed.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from pathlib import Path

ZOO = ("vgg_16", "alexnet_v2", "resnet_v1_50", "caffe_alexnet")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


# --------------------------------------------------------------------------- parsing
def _layer(value: str):
    return int(value) if value.lstrip("-").isdigit() else value


def _add_dance_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("DANCE options (paper defaults, Table S1 / §3.3 / S1.2)")
    g.add_argument("--method", default="gradient",
                   help="base method: gradient, integrated_gradients, smoothgrad")
    g.add_argument("--layer", type=_layer, default=None,
                   help="ℓ: layer name or 1-based conv/pool/dense index [Table S1: vgg_16 3, "
                        "alexnet 6, resnet_v1_50 2, SST/IDS 2, digits pool1]")
    g.add_argument("--patch-size", type=int, default=None,
                   help="P [images 3, text and tabular 1]")
    g.add_argument("--stride", type=int, default=1, help="patch stride")
    g.add_argument("--patches-per-mask", type=int, default=None,
                   help="m, patches packed per mask [images 100, text and tabular 1]")
    g.add_argument("--packing", default="paper", choices=("paper", "tiles", "receptive_field"),
                   help="paper: raster groups of m (S1.1); tiles: one compact block of ~m "
                        "patches per mask (vgg_16 224² with m 500: 2n = 200); "
                        "receptive_field: independent patches share a mask (never more "
                        "masks than paper)")
    g.add_argument("--aggregation", default="range", choices=("range", "mean"),
                   help="range = max − min over decoys (Eq. 3); mean (ablation)")
    g.add_argument("--perturbation", default="decoys", choices=("decoys", "constant", "noise"),
                   help="decoys, or the §4.3 ablations")
    g.add_argument("--lambda0", type=float, default=1e4, help="λ₀, initial Lagrange multiplier")
    g.add_argument("--tau0", type=float, default=1.0, help="τ₀ of the C&W schedule (S1.2)")
    g.add_argument("--max-steps", type=int, default=20,
                   help="decoy optimisation steps, at most (the paper gives none; 20 keeps "
                        "maps within 10%% of 100 steps, BENCHMARKS.md)")
    g.add_argument("--learning-rate", type=float, default=0.1, help="Adam step (tanh space)")
    g.add_argument("--patience", type=int, default=2,
                   help="violating steps before a decoy that met the bound stops")
    g.add_argument("--epsilon", type=float, default=None,
                   help="absolute L∞ bound at layer ℓ [epsilon-rel × max|F_ℓ(x)|]")
    g.add_argument("--epsilon-rel", type=float, default=0.05, help="relative L∞ bound")
    g.add_argument("--memory-budget-mb", type=float, default=1024.0,
                   help="memory for one chunk of decoys")
    g.add_argument("--decoy-batch-size", type=int, default=None,
                   help="decoys per chunk [fit to --memory-budget-mb]")
    g.add_argument("--ig-steps", type=int, default=50, help="integrated-gradients steps")
    g.add_argument("--sg-samples", type=int, default=50, help="SmoothGrad samples")
    g.add_argument("--sg-noise", type=float, default=0.15, help="SmoothGrad noise level")
    g.add_argument("--precision", default="float32", choices=("float32", "bfloat16"),
                   help="dtype of the decoy optimisation loop (certificates stay float32)")
    g.add_argument("--seed", type=int, default=0, help="seed of the decoy starts")


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="digits",
                   help="digits, a .keras file, a zoo name (with --checkpoint) or a trained "
                        "SST / IDS folder")
    p.add_argument("--checkpoint", default=None, help="slim checkpoint for a zoo model")
    p.add_argument("--random-weights", action="store_true",
                   help="allow a zoo model without --checkpoint (timing / smoke tests only)")
    p.add_argument("--value-range", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                   help="legal input range [digits and .keras images: 0 1; zoo: the "
                        "mean-subtracted pixel range; SST: the embedding table's range]")


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(
        prog="dance-tf", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="DANCE decoy-enhanced saliency maps (Lu et al., ICML 2021).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    ex = sub.add_parser("explain", formatter_class=fmt,
                        help="explain one image / sentence / CSV row",
                        description="Explain one input: an image file, a sentence "
                                    "(--sentence) or one row of a CICFlowMeter CSV (--row).")
    ex.add_argument("input", help="image file, CSV file, or the sentence text with --sentence")
    ex.add_argument("--sentence", action="store_true", help="INPUT is a sentence (SST model)")
    ex.add_argument("--row", type=int, default=None, help="INPUT is a CSV; explain row N "
                                                          "(0-based, after cleaning)")
    ex.add_argument("--target", type=int, default=None, help="class to explain [predicted]")
    ex.add_argument("--out", default=None, help="output prefix [INPUT's stem, or 'sentence']")
    _add_model_options(ex)
    _add_dance_options(ex)
    exp = sub.add_parser("export", formatter_class=fmt, help="export an explainer as a "
                         "SavedModel", description="Export a configured explainer as a "
                         "SavedModel (serving_default: x (N, *S) → maps; decoys in graph).")
    exp.add_argument("--out", required=True, help="SavedModel folder")
    exp.add_argument("--input-shape", type=int, nargs="+", default=None,
                     help="one input's shape when the model's is not fixed (e.g. T D)")
    _add_model_options(exp)
    _add_dance_options(exp)
    sub.add_parser("evaluate", add_help=False,
                   help="batch evaluation (dance_tf.evaluate; 'dance-tf evaluate --help')")
    sub.add_parser("bench", add_help=False,
                   help="run the benchmarks (benchmarks/run.py; 'dance-tf bench --help')")
    return parser


def explainer_options(args) -> dict:
    """Explainer keyword arguments from parsed DANCE options."""
    opts = dict(method=args.method, layer=args.layer, patch_size=args.patch_size,
                stride=args.stride, patches_per_mask=args.patches_per_mask,
                packing=args.packing, aggregation=args.aggregation,
                perturbation=args.perturbation, lambda0=args.lambda0, tau0=args.tau0,
                max_steps=args.max_steps, learning_rate=args.learning_rate,
                patience=args.patience, epsilon=args.epsilon, epsilon_rel=args.epsilon_rel,
                memory_budget_mb=args.memory_budget_mb,
                decoy_batch_size=args.decoy_batch_size, precision=args.precision,
                seed=args.seed)
    name = args.method.lower()
    if name in ("integrated_gradients", "ig", "intgrad"):
        opts["steps"] = args.ig_steps
    elif name in ("smoothgrad", "sg"):
        opts["samples"], opts["noise"] = args.sg_samples, args.sg_noise
    return opts


# --------------------------------------------------------------------------- models
def load_image_model(args):
    """(model, kind, value_range) for image inputs; kind: digits / zoo / keras."""
    name = args.model
    if name == "digits":
        from dance_tf.data import digits as digits_data
        from dance_tf.models import digits

        return digits.load(progress=_log), "digits", digits_data.VALUE_RANGE
    if name in ZOO:
        import dance_tf.models as zoo
        from dance_tf.data import imagenet

        try:
            model = getattr(zoo, name)()
        except (AttributeError, ModuleNotFoundError) as err:
            raise CLIError(f"--model {name}: not available in this install ({err})") from err
        if args.checkpoint:
            if name == "caffe_alexnet":
                zoo.load_caffe_alexnet(model, args.checkpoint)
            else:
                zoo.load_slim_checkpoint(model, args.checkpoint)
        elif not args.random_weights:
            raise CLIError(f"--model {name}: pass --checkpoint PATH (the published weights), "
                           "or --random-weights for timing only")
        return model, "zoo", imagenet.value_range(model)
    path = Path(name)
    if path.suffix in (".keras", ".h5") and path.is_file():
        import keras

        model = keras.models.load_model(path, compile=False)
        return model, "keras", (0.0, 1.0)
    raise CLIError(f"--model {name!r}: expected 'digits', a .keras file or one of {ZOO} "
                   "for an image")


def _value_range(args, default):
    return default if args.value_range is None else tuple(args.value_range)


def read_image(path: Path, model, kind: str) -> tuple:
    """(x (H, W, C) float32, display range) for the model; PIL does the reading."""
    import numpy as np
    from PIL import Image

    if kind == "zoo":
        from dance_tf.data import imagenet

        return imagenet.load_image(path, mode=model), imagenet.value_range(model)
    shape = model.input_shape[1:]
    if len(shape) != 3 or shape[0] is None or shape[1] is None:
        raise CLIError(f"--model: expected an image model with a fixed (H, W, C) input, got "
                       f"{shape}")
    h, w, c = shape
    if c not in (1, 3):
        raise CLIError(f"--model: expected 1 or 3 input channels, got {c}")
    with Image.open(path) as img:
        img = img.convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
        x = np.asarray(img, np.float32) / 255.0
    return x.reshape(h, w, c), (0.0, 1.0)


def _explainer(model, value_range, args):
    import dance_tf

    try:
        return dance_tf.Explainer(model, value_range=value_range, **explainer_options(args))
    except (TypeError, ValueError) as err:
        raise CLIError(str(err)) from err


def _base_map(explainer, x, target):
    """The base method's map of x without decoys (the Fig. 2 'without decoys' panel)."""
    import numpy as np

    from dance_tf.layers import logits_model

    logits, _ = logits_model(explainer.model, x.shape)
    fn = explainer._method
    return np.asarray(fn(logits, x[None], np.array([target]), **explainer.method_options))[0]


# --------------------------------------------------------------------------- explain
def cmd_explain(args) -> int:
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

    model, kind, default_range = load_image_model(args)
    x, display_range = read_image(path, model, kind)
    value_range = _value_range(args, default_range)
    explainer = _explainer(model, value_range, args)
    details = _run(explainer, x, args.target)
    base = _base_map(explainer, x, details.target)
    prefix = _prefix(args, path.stem)
    np.save(f"{prefix}.npy", details.saliency)
    np.save(f"{prefix}_base.npy", base)
    maps = {explainer.method_name: {"without decoys": base, "with decoys": details.saliency}}
    title = f"{path.name}: class {details.target}, ℓ = {details.layer}"
    save_panels(f"{prefix}.png", x, maps, title=title, value_range=display_range)
    _summary(prefix, details, extra={"input": str(path), "model": args.model})
    _log(f"wrote {prefix}.png, {prefix}.npy, {prefix}_base.npy, {prefix}.json")
    return 0


def _load_folder(kind: str, directory: str):
    module = {"sst": "dance_tf.models.sst", "ids": "dance_tf.models.ids"}[kind]
    import importlib

    try:
        loader = importlib.import_module(module).load
    except (ModuleNotFoundError, AttributeError) as err:
        raise CLIError(f"{kind.upper()} inputs need {module}.load(DIR), which is not "
                       f"available in this install ({err})") from err
    if not Path(directory).is_dir():
        raise CLIError(f"--model {directory!r}: expected the folder of a trained "
                       f"{kind.upper()} model ({module}.load)")
    try:
        return loader(directory)
    except FileNotFoundError as err:
        raise CLIError(str(err)) from err


def _explain_sentence(args) -> int:
    import numpy as np

    sst = _load_folder("sst", args.model)
    tokens = sst.tokens(args.input)
    if not tokens:
        raise CLIError("the sentence has no tokens")
    x = sst.embed_one(args.input)
    explainer = _explainer(sst.model, _value_range(args, sst.value_range), args)
    details = _run(explainer, x, args.target)
    words = details.saliency.mean(axis=-1)  # §4.3.2: mean over embedding dimensions
    prefix = _prefix(args, "sentence")
    np.save(f"{prefix}.npy", details.saliency)
    np.save(f"{prefix}_words.npy", words)
    label = sst.classes[details.target] if details.target < len(sst.classes) else details.target
    Path(f"{prefix}.html").write_text(words_html(tokens, words, f"class: {label}"),
                                      encoding="utf-8")
    _summary(prefix, details, extra={"tokens": tokens, "model": args.model})
    _log(f"wrote {prefix}.html, {prefix}.npy, {prefix}_words.npy, {prefix}.json")
    return 0


def _explain_row(args) -> int:
    import numpy as np

    ids = _load_folder("ids", args.model)
    from dance_tf.data import ids2018

    try:
        X, labels, names = ids2018.load_csv(args.input)
    except (OSError, ValueError) as err:
        raise CLIError(f"{args.input}: {err}") from err
    if not 0 <= args.row < len(X):
        raise CLIError(f"--row {args.row}: the cleaned CSV has {len(X)} rows")
    x = ids.transform(X[args.row], names)
    explainer = _explainer(ids.model, _value_range(args, ids.value_range), args)
    details = _run(explainer, x, args.target)
    prefix = _prefix(args, f"{Path(args.input).stem}_row{args.row}")
    np.save(f"{prefix}.npy", details.saliency)
    title = f"row {args.row} ({labels[args.row]}): class {ids.classes[details.target]}"
    Path(f"{prefix}.html").write_text(
        features_html(list(ids.feature_names), details.saliency, x, title), encoding="utf-8")
    _summary(prefix, details, extra={"row": args.row, "label": labels[args.row]})
    _log(f"wrote {prefix}.html, {prefix}.npy, {prefix}.json")
    return 0


def _run(explainer, x, target):
    try:
        return explainer.explain(x, target=target, return_details=True)
    except (TypeError, ValueError) as err:
        raise CLIError(str(err)) from err


def _prefix(args, stem: str) -> str:
    prefix = args.out or stem
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    return prefix


def _summary(prefix: str, details, extra: dict) -> None:
    info = {"target": details.target, "layer": details.layer, "method": details.method,
            "decoys": int(details.certified.size), "epsilon": details.epsilon,
            "fraction_certified": details.fraction_certified,
            "max_steps_run": int(details.steps.max()) if details.steps.size else 0, **extra}
    Path(f"{prefix}.json").write_text(json.dumps(info, indent=2), encoding="utf-8")


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
    from dance_tf import export

    if Path(args.model).is_dir():
        kind = "ids" if (Path(args.model) / "scaler.npz").exists() else "sst"
        bundle = _load_folder(kind, args.model)
        model, default_range = bundle.model, bundle.value_range
    else:
        model, _, default_range = load_image_model(args)
    explainer = _explainer(model, _value_range(args, default_range), args)
    try:
        path = export.save(explainer, args.out, input_shape=args.input_shape)
    except ValueError as err:
        raise CLIError(str(err)) from err
    _log(f"wrote SavedModel {path} (serving_default: x (N, *S) float32 → saliency, ...)")
    return 0


# --------------------------------------------------------------------------- delegates
def cmd_evaluate(argv) -> int:
    try:
        from dance_tf.evaluate import main as evaluate_main
    except ModuleNotFoundError as err:
        raise CLIError(f"evaluate: dance_tf.evaluate is not available ({err})") from err
    return int(evaluate_main(argv) or 0)


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


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "evaluate":
            return cmd_evaluate(argv[1:])
        if argv and argv[0] == "bench":
            return cmd_bench(argv[1:])
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return {"explain": cmd_explain, "export": cmd_export}[args.command](args)
    except CLIError as err:
        print(f"dance-tf: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
