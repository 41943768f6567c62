"""The command line of the evaluation (``scripts/evaluate.py``, ``dance-tf evaluate``):
flags → :class:`EvalConfig` → task → rows → report."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dance_tf import options, validate
from dance_tf.errors import OutputError
from dance_tf.evaluation import checks
from dance_tf.evaluation.card_cli import CARD_DEFAULT_VARIANTS, card_mode, check_variants
from dance_tf.evaluation.config import EvalConfig
from dance_tf.evaluation.report import report
from dance_tf.evaluation.results import EvaluationError, output_folder
from dance_tf.evaluation.runner import evaluate, load_task
from dance_tf.evaluation.variants import DEFAULT_VARIANTS, METHODS, VARIANTS


def _number_type(name: str):
    """An argparse ``type`` that checks setting ``name`` (checks.NUMBERS) with
    dance_tf.validate (the message names it)."""
    def convert(text):
        try:
            return validate.number_from_text(name, text, **checks.NUMBERS[name])
        except (TypeError, ValueError) as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    convert.__name__ = name
    return convert


#: the numeric flags after --attacks: flag, default, help (checked by checks.NUMBERS)
NUMBER_FLAGS = (
    ("--attack-iterations", 300, "sign steps per attack [300, the authors' code]"),
    ("--ig-steps", 50, "steps of IG and IG-uniform [50]"),
    ("--sg-samples", 50,
     "samples of SmoothGrad, VarGrad, SmoothGrad-range and expected gradients [50]"),
    ("--sg-noise", 0.15, "SmoothGrad noise [0.15]"),
    ("--seed", 0, "seed of decoy starts and noise (not of the data split) [0]"),
    ("--split-seed", 0,
     "seed of the task's train/test split (digits; a model trained on that split is used) [0]"),
    ("--examples", 4, "inputs drawn as panels [4]"),
    ("--num-shards", 1, "split the inputs [1]"),
    ("--shard-index", 0, "this shard, 0-based [0]"),
)


def parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog or "evaluate.py",
        description="DANCE batch evaluation: fidelity of base methods without/with decoys "
                    "and the ablations of §4.3 (defaults: the embedded digits task). One "
                    "--out folder holds one configuration (written to its config.json); a "
                    "rerun with other settings stops and names them.")
    p.add_argument("--task", default=None,
                   help="digits (default), sst, ids, imagenet; with no --task, --model "
                        "FILE.keras and --input FOLDER of images run the model card "
                        "(evaluate_model: rows.jsonl, report.html)")
    p.add_argument("--input", default=None, help="inputs: file or folder (task-specific)")
    p.add_argument("--model", default=None, help="model file or folder (task-specific)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="explainer setting for the task, e.g. stride=3, packing=tiles "
                        "(repeatable; checked by the options table: stride=nan is refused, "
                        "as is an option of a solver not in use): "
                        + ", ".join(o.name for o in options.OPTIONS if o.kind != "method"
                                    and o.name not in checks.OPTION_RESERVED)
                        + "; or an option of the base methods")
    p.add_argument("--count", type=_number_type("count"), default=None,
                   help="number of inputs, ≥ 1 [task default]")
    p.add_argument("--out", default=None, help="output folder [outputs/<task>]")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma-separated base methods [{','.join(METHODS)}]")
    p.add_argument("--variants", default=None,
                   help=f"comma-separated variants, some of {','.join(VARIANTS)} "
                        f"[{','.join(DEFAULT_VARIANTS)}]; the model card also takes "
                        f"matched,matched_range [{','.join(CARD_DEFAULT_VARIANTS)}]")
    p.add_argument("--metrics", default=None,
                   help="comma-separated metrics of the model card (evaluate_model; any "
                        "task) [with --model FILE.keras --input FOLDER: those shipped]")
    p.add_argument("--k", default="0.2",
                   help="top-K fractions in (0, 1], comma-separated [0.2]; the first one also "
                        "binarises the maps of the attack sensitivity")
    p.add_argument("--attacks", default="",
                   help="explanation attacks to run, comma-separated: topk,targeted,"
                        "mass_center (§4.4; images only) [none]")
    for flag, default, text in NUMBER_FLAGS:
        name = flag[2:].replace("-", "_")
        p.add_argument(flag, type=_number_type(name), default=default, help=text)
    p.add_argument("--strategy", default="none", choices=list(checks.STRATEGIES),
                   help="none; mirrored: one input per local GPU replica; multi-worker: "
                        "this TF_CONFIG task's shard of the inputs (and its local GPUs)")
    p.add_argument("--report-only", action="store_true", help="rebuild the report only")
    p.add_argument("--force", action="store_true",
                   help="write into an --out folder that holds files dance-tf did not "
                        "write (never over those files, never through a symbolic link)")
    p.add_argument("--quiet", action="store_true", help="no progress")
    return p


def parse(argv=None, prog: str | None = None) -> argparse.Namespace:
    """Parse and validate the command line; a bad value exits with status 2 and a message
    naming the flag (argparse's ``error``). ``prog``: the program name [evaluate.py]."""
    p = parser(prog)
    args = p.parse_args(argv)
    card = card_mode(args)
    try:
        args.methods = list(checks.methods(args.methods))
        if card:
            args.variants = list(check_variants(args.variants or CARD_DEFAULT_VARIANTS))
            args.metrics = None if args.metrics is None else list(
                checks.names("--metrics", args.metrics))
        else:
            args.variants = list(checks.variants(args.variants or DEFAULT_VARIANTS))
        args.attacks = list(checks.attacks(args.attacks))
        args.k = list(checks.k_values(args.k))
        checks.shards(args.shard_index, args.num_shards)
    except (TypeError, ValueError) as err:
        p.error(str(err))
    args.card = card
    if not card:
        args.task = args.task or "digits"
        args.out = args.out or os.path.join("outputs", args.task)
    args.options = {}
    for text in args.option:
        try:
            key, value = checks.option_from_text(text)
        except (TypeError, ValueError) as err:
            p.error(f"--option {text!r}: {err}")
        if key in args.options:
            p.error(f"--option {key}: given twice")
        args.options[key] = value
    try:
        options.refuse_misplaced(args.options)
    except ValueError as err:
        p.error(f"--option {err}")
    return args


def main(argv=None, prog: str | None = None) -> int:
    """Run the evaluation command; returns the exit status (2: refused input, message on
    stderr). ``prog``: the program name in usage and messages [evaluate.py]."""
    args = parse(argv, prog)
    name = prog or "evaluate.py"
    if args.card:
        return _card(args, name)
    config = EvalConfig.from_namespace(args)
    cpus = int(os.environ.get("DANCE_TF_LOGICAL_CPUS", "0") or 0)
    if cpus > 1:
        from dance_tf.distribute import split_cpu

        split_cpu(cpus)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    out = Path(config.out)
    try:   # the output folder is checked before any work (a model may train first)
        output_folder(out, config.force).check("report.md")
        task = load_task(config, log)
    except (ValueError, OSError) as err:   # bad path, count, file: the task says which
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
    try:
        if not config.report_only:
            evaluate(task, config, log=log)
        text = report(out, task, log=log, force=config.force)
    except (EvaluationError, OutputError) as err:
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
    print(text)
    log(f"report: {out / 'report.md'}; figures: {out}")
    return 0


def _card(args, name: str) -> int:
    """The model card (evaluate_model) of the parsed flags; returns the exit status."""
    from dance_tf.evaluation.card_cli import run

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    try:
        out = run(args, log)
    except (ValueError, OSError) as err:   # bad path, model, setting, folder
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
    print((out / "report.md").read_text(encoding="utf-8"))
    return 0
