"""The rows of ``evaluate_model``: one JSON object per input × method × variant × metric in
``OUT/rows.jsonl`` (appended, flushed and fsynced per row: the machinery of
:mod:`~dance_tf.evaluation.results`), and the folder's configuration ``OUT/config.json``
(:mod:`~dance_tf.evaluation.run_config`)."""

from __future__ import annotations

import math
from pathlib import Path

from dance_tf.evaluation.digests import digest, jsonable, model_digest
from dance_tf.evaluation.results import EvaluationError, ResultsFile, read_rows
from dance_tf.evaluation.run_config import ensure_config

ROWS_FILE = "rows.jsonl"
CONFIG_FORMAT = "dance_tf evaluate_model config v1"
#: fields every row has, with their types
FIELDS = {"index": int, "input": str, "method": str, "variant": str, "metric": str,
          "direction": str, "config": str}


def row_key(row: dict) -> tuple:
    """What identifies a row: (input index, method, variant, metric)."""
    return (row["index"], row["method"], row["variant"], row["metric"])


def row_problem(row) -> str | None:
    """Why ``row`` is not an evaluate_model row, or None."""
    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    for name, kind in FIELDS.items():
        if name not in row:
            return f"missing field {name!r} (an evaluate_model row needs {', '.join(FIELDS)})"
        if not isinstance(row[name], kind) or isinstance(row[name], bool):
            return f"field {name!r} is {type(row[name]).__name__}, expected {kind.__name__}"
    if "value" not in row or not (row["value"] is None or isinstance(row["value"], float)):
        return "field 'value' is missing or not a number (or null)"
    return None


def checker(digest_: str):
    """``check(row, where)``: refuse a row of another configuration."""
    def check(row, where):
        if row["config"] != digest_:
            raise EvaluationError(f"{where}: a row of another configuration (digest "
                                  f"{row['config']!r}, the folder's is {digest_!r}); remove "
                                  "it or use another out folder")
    return check


def open_rows(out: Path, cfg: dict) -> tuple[ResultsFile, str]:
    """(the rows file of folder ``out``, the configuration digest): the folder's
    configuration is written on the first run and must equal ``cfg`` afterwards (else
    EvaluationError listing what differs)."""
    dig = ensure_config(out, cfg, rows_glob=ROWS_FILE)
    return ResultsFile(out / ROWS_FILE, checker(dig), row_key, row_problem), dig


def load_rows(out: Path, digest_: str | None = None) -> list[dict]:
    """Every row of ``OUT/rows.jsonl`` (the last of a key wins)."""
    check = checker(digest_) if digest_ else None
    return read_rows([Path(out) / ROWS_FILE], check, row_key, row_problem)


def card_config(model, labels, methods: dict, explainer_options: dict, metrics: dict,
                noise: float) -> dict:
    """Everything that changes a number of a run: the model's weights, the labels (or
    "predicted"), each method's options, the explainer's options, each metric's options,
    the noise of the matched variants, the versions. The inputs, methods, variants and
    metrics asked for only select rows (each row carries its input's digest)."""
    import keras
    import tensorflow as tf

    import dance_tf

    return {
        "format": CONFIG_FORMAT,
        "model": model_digest(model),
        "labels": "predicted" if labels is None else digest(labels),
        "method_options": jsonable(methods),
        "explainer_options": jsonable(explainer_options),
        "metric_options": jsonable(metrics),
        "matched_noise": noise,
        "versions": {"dance_tf": dance_tf.__version__, "tensorflow": tf.__version__,
                     "keras": keras.__version__},
    }


def number(value) -> float | None:
    """A score as JSON: a finite float, or None for NaN / inf (counted, never shown)."""
    value = float(value)
    return value if math.isfinite(value) else None
