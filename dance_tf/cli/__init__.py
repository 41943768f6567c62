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

The package, one job per module: this file parses and dispatches; ``explain.py`` and
``export.py`` run those commands, ``delegates.py`` hands ``evaluate`` / ``reproduce`` /
``bench`` to their own parsers; ``explainer_flags.py`` (the DANCE option flags and the
Explainer they configure), ``models.py`` (``--model`` and what it loads), ``images.py``
(the image read for the model), ``output_folder.py``, ``pages.py`` (the HTML pages) and
``console.py`` (one-line errors, log lines, TensorFlow's start-up) serve them.
"""

from __future__ import annotations

import argparse
import sys

from dance_tf import option_flags
from dance_tf.cli.console import CLIError, user_error
from dance_tf.cli.delegates import cmd_bench, cmd_evaluate, cmd_reproduce
from dance_tf.cli.explain import cmd_explain
from dance_tf.cli.explainer_flags import METHODS, add_dance_options
from dance_tf.cli.export import cmd_export
from dance_tf.cli.models import add_model_options
from dance_tf.errors import one_line


class _Parser(option_flags.OptionParser):
    """A sub-command parser whose errors are one line and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {one_line(message)} ({self.prog} --help for "
                     "the options)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``dance-tf`` parser: explain and export with their flags; evaluate, bench and
    reproduce named only (their own parsers read their arguments)."""
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
    add_model_options(ex)
    add_dance_options(ex)
    exp = sub.add_parser("export", formatter_class=fmt, help="export an explainer as a "
                         "SavedModel", description="Export a configured explainer as a "
                         "SavedModel (serving_default: x (N, *S) → maps; decoys in graph).")
    exp.add_argument("--out", required=True, help="SavedModel folder (new or empty)")
    exp.add_argument("--input-shape", type=int, nargs="+", default=None,
                     help="one input's shape when the model's is not fixed (e.g. T D)")
    add_model_options(exp)
    add_dance_options(exp)
    sub.add_parser("evaluate", add_help=False,
                   help="batch evaluation (dance_tf.evaluation; 'dance-tf evaluate --help')")
    sub.add_parser("bench", add_help=False,
                   help="run the benchmarks (benchmarks/run.py; 'dance-tf bench --help')")
    sub.add_parser("reproduce", add_help=False,
                   help="the reproduction study (REPRODUCTION.md; 'dance-tf reproduce --help')")
    return parser


def main(argv=None) -> int:
    """The ``dance-tf`` command: 0 on success, 2 for a bad input (one line on stderr);
    a bug is re-raised with its traceback (with ``--verbose``, any error but a CLIError)."""
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
        shown = user_error(err)
        if verbose or shown is None:
            raise
        print(f"dance-tf: error: {one_line(shown)} (--verbose for the traceback)",
              file=sys.stderr)
        return 2
