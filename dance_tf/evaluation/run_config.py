"""``OUT/config.json``: everything that changes a number of a run. One folder holds one
configuration; every row carries its digest."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from dance_tf.evaluation.digests import digest, jsonable, model_digest
from dance_tf.evaluation.results import EvaluationError, regular_or_absent

CONFIG_FILE = "config.json"
CONFIG_FORMAT = "dance_tf evaluate config v1"


def run_config(task, config) -> dict:
    """Everything that changes a number of this run (written as ``OUT/config.json``);
    ``config``: the EvalConfig (its options, seeds, method and attack settings)."""
    import keras
    import tensorflow as tf

    import dance_tf

    extra = {k: v for k, v in config.options.items() if k not in task.explainer_options}
    return {
        "format": CONFIG_FORMAT,
        "task": task.name,
        "seed": config.seed,
        "split_seed": config.split_seed,
        "explainer_options": jsonable(task.explainer_options),
        "task_options": jsonable(extra),
        "ig_steps": config.ig_steps,
        "sg_samples": config.sg_samples,
        "sg_noise": config.sg_noise,
        "attack_iterations": config.attack_iterations,
        "model": model_digest(task.model),
        "value_range": digest(task.value_range),
        "fill": (f"callable:{getattr(task.fill, '__qualname__', repr(task.fill))}"
                 if callable(task.fill) else digest(task.fill)),
        "constant": digest(task.constant),
        "versions": {"dance_tf": dance_tf.__version__, "tensorflow": tf.__version__,
                     "keras": keras.__version__},
    }


def config_digest(cfg: dict) -> str:
    """The short digest of a configuration that every row of its folder carries."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:12]


def _flatten(cfg: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in cfg.items():
        if isinstance(v, dict) and not set(v) == {"array", "sha256"}:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def differences(old: dict, new: dict) -> list[str]:
    """``"key: old there, new now"`` for every setting (dotted path) that differs."""
    a, b = _flatten(old), _flatten(new)
    missing = object()
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, missing), b.get(key, missing)
        if va != vb:
            show_a = "absent" if va is missing else json.dumps(va)
            show_b = "absent" if vb is missing else json.dumps(vb)
            out.append(f"{key}: {show_a} there, {show_b} now")
    return out


def read_config(out: Path, fmt: str = CONFIG_FORMAT) -> dict | None:
    """The configuration of the results folder ``out`` (of format ``fmt``), or None if it
    has none yet."""
    path = out / CONFIG_FILE
    if not regular_or_absent(path, "configuration file"):
        return None
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise EvaluationError(f"{path}: not a readable configuration ({err}); use another "
                              "--out") from None
    if not isinstance(cfg, dict) or cfg.get("format") != fmt:
        raise EvaluationError(f"{path}: not a {fmt!r} file; use another --out")
    return cfg


def ensure_config(out: Path, cfg: dict, rows_glob: str = "results*.jsonl") -> str:
    """Write ``cfg`` as the folder's configuration on the first run, or check that it is
    the folder's; returns its digest. Raises EvaluationError listing what differs.
    ``cfg["format"]`` names the kind of folder; ``rows_glob``: its rows files."""
    if out.exists() and not out.is_dir():
        raise EvaluationError(f"{out}: --out is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    fmt = cfg.get("format", CONFIG_FORMAT)
    have = read_config(out, fmt)
    if have is None:
        if list(out.glob(rows_glob)):
            raise EvaluationError(
                f"{out}: holds results but no {CONFIG_FILE} (written by an older version, "
                "or the file was removed), so their configuration is unknown; use another "
                "--out")
        tmp = out / f".{CONFIG_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        try:
            os.link(tmp, out / CONFIG_FILE)   # atomic; a concurrent shard may win
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        have = read_config(out, fmt)
    diffs = differences(have, cfg)
    if diffs:
        raise EvaluationError(
            f"{out}: holds results of another configuration ({CONFIG_FILE}); differing: "
            + "; ".join(diffs) + ". Use another --out for this configuration (or remove "
            f"{out} to start over); one folder never mixes configurations.")
    return config_digest(cfg)


def row_checker(cfg: dict, digest: str):
    """``check(row, where)`` for read_rows: refuse a row of another task or configuration."""
    def check(row, where):
        if row["task"] != cfg["task"]:
            raise EvaluationError(f"{where}: a row of task {row['task']!r} in a folder of "
                                  f"task {cfg['task']!r}; remove it or use another --out")
        if row.get("config") != digest:
            raise EvaluationError(f"{where}: a row of another configuration (digest "
                                  f"{row.get('config')!r}, the folder's is {digest!r}); "
                                  "remove it or use another --out")
    return check
