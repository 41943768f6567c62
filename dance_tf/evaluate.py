"""Compatibility module: the batch evaluation lives in :mod:`dance_tf.evaluation` (see its
documentation); this module keeps the names it had here.

``evaluate(task, args)`` takes an :class:`~dance_tf.evaluation.config.EvalConfig` or the
``argparse.Namespace`` of :func:`parse`. :func:`parse` and :func:`main` build their parser
with this module's ``parser`` as it is when they are called (``dance-tf evaluate`` renames
the program that way).
"""

from __future__ import annotations

from pathlib import Path

from dance_tf.evaluation import cli as _cli
from dance_tf.evaluation import runner as _runner
from dance_tf.evaluation.attack_tables import attack_tables
from dance_tf.evaluation.checks import OPTION_NUMBERS, OPTION_RESERVED
from dance_tf.evaluation.config import EvalConfig
from dance_tf.evaluation.digests import input_digest
from dance_tf.evaluation.progress import Progress
from dance_tf.evaluation.report import report, summarise
from dance_tf.evaluation.results import (
    KEY_FIELDS,
    EvaluationError,
    ResultsFile,
    read_rows,
    row_key,
)
from dance_tf.evaluation.rows import attack_row, write_row
from dance_tf.evaluation.run_config import (
    CONFIG_FILE,
    CONFIG_FORMAT,
    config_digest,
    ensure_config,
    read_config,
    run_config,
)
from dance_tf.evaluation.run_config import row_checker as _row_checker  # noqa: F401 (study)
from dance_tf.evaluation.variants import (
    DEFAULT_VARIANTS,
    EXPLAINER_VARIANTS,
    METHODS,
    SHORT,
    VARIANTS,
    method_options,
)

parser = _cli.parser

__all__ = ["CONFIG_FILE", "CONFIG_FORMAT", "DEFAULT_VARIANTS", "EXPLAINER_VARIANTS",
           "KEY_FIELDS", "METHODS", "OPTION_NUMBERS", "OPTION_RESERVED", "SHORT", "VARIANTS",
           "EvalConfig", "EvaluationError", "Progress", "ResultsFile", "attack_row",
           "attack_tables", "config_digest", "ensure_config", "evaluate", "input_digest",
           "main", "method_options", "parse", "parser", "read_config", "read_rows",
           "report", "row_key", "run_config", "summarise", "write_row"]


def evaluate(task, args, log=print) -> Path:
    """Run the evaluation of ``task`` into ``args.out``; ``args``: an EvalConfig or the
    Namespace of :func:`parse`. Returns the results file path."""
    config = args if isinstance(args, EvalConfig) else EvalConfig.from_namespace(args)
    return _runner.evaluate(task, config, log=log)


def parse(argv=None, prog: str | None = None):
    """The checked command line (an argparse Namespace; see evaluation.cli.parse)."""
    return _cli.parse(argv, prog, make_parser=parser)


def main(argv=None, prog: str | None = None) -> int:
    """Run the evaluation command (see evaluation.cli.main); returns the exit status."""
    return _cli.main(argv, prog, make_parser=parser)
