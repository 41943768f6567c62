"""Batch evaluation of DANCE against its baselines and ablations (§4.2–4.3, S8, S14).

For every input of a task, every base method and every variant — without decoys, with
decoys (range, Eq. 3), decoys with mean aggregation, constant and noise perturbations with
range aggregation (§4.3) — the map is computed, binarised to its top-K features and scored
by fidelity SF = −log p_c (Eq. 6). Rows stream to ``OUT/results*.jsonl`` (one JSON object
per input × method × variant, flushed and fsynced); a rerun with the same ``--out`` skips
what is done, so a killed run loses at most the row in flight. The report (tables of
mean ± s.e. and paired one-sided t-tests of decoys − variant, box plots, example panels)
is rebuilt from all result files in ``OUT`` (shards merge there).

One folder, one configuration. The first run writes ``OUT/config.json``: the task, the
seeds, every explainer and method option, the attack budget, a digest of the model's
weights, of the value range, fill and constant, and the versions of dance_tf, TensorFlow
and Keras — everything that changes a number. Every row carries that configuration's
digest and a digest of its input. A rerun whose configuration differs stops before
computing anything, with a message that lists each differing setting (use another
``--out``); a row of another task or configuration, a row computed on a different input
under the same id, a row without its key fields or a broken line in the middle of a file
is an error naming the file and line. What is *not* part of the configuration only selects
rows: ``--count``, ``--methods``, ``--variants``, the shards, and the K list — a K that a
finished row lacks makes that row be computed again (the new row replaces the old one), so
``--k 0.2,0.5`` on a folder computed at 0.2 adds the K = 50 % table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import stat
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

from dance_tf import validate

METHODS = ("gradient", "integrated_gradients", "smoothgrad")
VARIANTS = {
    "none": "without decoys",
    "decoys": "with decoys",
    "mean": "decoys, mean aggr.",
    "constant": "constant, range",
    "noise": "noise, range",
    "covering": "decoys, covering range",
}
#: the variants run when --variants is not given (``covering`` is an open choice of the
#: reproduction study: the range over the decoys whose mask covers each feature)
DEFAULT_VARIANTS = ("none", "decoys", "mean", "constant", "noise")
EXPLAINER_VARIANTS = {
    "decoys": {"perturbation": "decoys", "aggregation": "range"},
    "mean": {"perturbation": "decoys", "aggregation": "mean"},
    "constant": {"perturbation": "constant", "aggregation": "range"},
    "noise": {"perturbation": "noise", "aggregation": "range"},
    "covering": {"perturbation": "decoys", "aggregation": "range_covering"},
}
SHORT = {"gradient": "Gradient", "integrated_gradients": "IntegratedGrad",
         "smoothgrad": "SmoothGrad"}
CONFIG_FILE = "config.json"
CONFIG_FORMAT = "dance_tf evaluate config v1"
#: fields every results row must have, with their types
KEY_FIELDS = {"task": str, "id": str, "method": str, "variant": str, "sf": dict}


class EvaluationError(ValueError):
    """An output folder or results file that cannot be used as asked (the message says
    which file, line or setting, and what to do)."""


# ---------------------------------------------------------------------- files
def _regular_or_absent(path: Path, what: str) -> bool:
    """True if ``path`` is a regular file, False if absent; refuse anything else (a FIFO
    would hang the reader, /dev/full would be read without end)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise EvaluationError(f"{path}: the {what} is a dangling symbolic link") from None
        return False
    if not stat.S_ISREG(mode):
        raise EvaluationError(f"{path}: the {what} is not a regular file (a FIFO, device or "
                              "folder); remove it or choose another --out")
    return True


def _row_problem(row) -> str | None:
    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    missing = [name for name in KEY_FIELDS if name not in row]
    if missing:
        return (f"missing field(s) {', '.join(map(repr, missing))} (a results row needs "
                f"{', '.join(KEY_FIELDS)})")
    for name, kind in KEY_FIELDS.items():
        if not isinstance(row[name], kind):
            return f"field {name!r} is {type(row[name]).__name__}, expected {kind.__name__}"
    return None


def read_rows(paths, check=None) -> list[dict]:
    """All complete rows of the given files; a later row of the same key replaces an
    earlier one (a row recomputed for a new K). ``check(row, where)`` may refuse a row.

    A partial last line (a kill during a write) is ignored; any other line that is not a
    results row is an EvaluationError naming the file and line.
    """
    rows: dict[tuple, dict] = {}
    for path in paths:
        path = Path(path)
        if not _regular_or_absent(path, "results file"):
            continue
        with open(path, encoding="utf-8", errors="strict") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.endswith("\n"):
                    break
                where = f"{path}: line {number}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise EvaluationError(f"{where}: not a JSON results row ({err.msg}); the "
                                          "file was edited or written by something else - "
                                          "remove the line or use another --out") from None
                problem = _row_problem(row)
                if problem:
                    raise EvaluationError(f"{where}: {problem}; remove the line or use "
                                          "another --out")
                if check is not None:
                    check(row, where)
                rows[row_key(row)] = row
    return list(rows.values())


class ResultsFile:
    """Append-only JSON-lines file of finished rows, safe against a kill at any moment."""

    def __init__(self, path: Path, check=None):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        _regular_or_absent(path, "results file")
        self._repair()
        self.done = {row_key(r): r for r in read_rows([path], check)}
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open

    def _repair(self) -> None:
        """Drop a partial last line left by a kill during a write."""
        if not self.path.exists():
            return
        size = self.path.stat().st_size
        if size == 0:
            return
        with open(self.path, "r+b") as handle:
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return
            data = self.path.read_bytes()
            handle.truncate(data.rfind(b"\n") + 1)

    def write(self, row: dict) -> None:
        self._handle.write(json.dumps(row, sort_keys=True) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.done[row_key(row)] = row

    def close(self) -> None:
        self._handle.close()


def row_key(row: dict) -> tuple:
    return (row["id"], row["method"], row["variant"])


# ---------------------------------------------------------------------- configuration
def _digest(value) -> str | None:
    """A short content digest of numbers (arrays, scalars, nested tuples); None stays."""
    if value is None:
        return None
    h = hashlib.sha256()
    parts = value if isinstance(value, (tuple, list)) else [value]
    for part in parts:
        arr = np.ascontiguousarray(np.asarray(part, dtype=np.float64))
        h.update(repr(arr.shape).encode())
        h.update(arr.tobytes())
    return h.hexdigest()[:16]


def _model_digest(model) -> str:
    """Digest of the model's weights (names, shapes, values) and its class name."""
    h = hashlib.sha256(type(model).__name__.encode())
    for w in getattr(model, "weights", []):
        arr = np.ascontiguousarray(np.asarray(w))
        h.update(f"{getattr(w, 'path', getattr(w, 'name', ''))}{arr.shape}{arr.dtype}"
                 .encode())
        h.update(arr.tobytes())
    return h.hexdigest()[:16]


def input_digest(x: np.ndarray) -> str:
    """Digest of one input as explained (float32 values and shape)."""
    arr = np.ascontiguousarray(np.asarray(x, np.float32))
    return hashlib.sha256(repr(arr.shape).encode() + arr.tobytes()).hexdigest()[:16]


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray):
        return {"array": list(value.shape), "sha256": _digest(value)}
    return repr(value)


def run_config(task, args) -> dict:
    """Everything that changes a number of this run (written as ``OUT/config.json``)."""
    import keras
    import tensorflow as tf

    import dance_tf

    extra = {k: v for k, v in args.options.items() if k not in task.explainer_options}
    return {
        "format": CONFIG_FORMAT,
        "task": task.name,
        "seed": args.seed,
        "split_seed": args.split_seed,
        "explainer_options": _jsonable(task.explainer_options),
        "task_options": _jsonable(extra),
        "ig_steps": args.ig_steps,
        "sg_samples": args.sg_samples,
        "sg_noise": args.sg_noise,
        "attack_iterations": args.attack_iterations,
        "model": _model_digest(task.model),
        "value_range": _digest(task.value_range),
        "fill": (f"callable:{getattr(task.fill, '__qualname__', repr(task.fill))}"
                 if callable(task.fill) else _digest(task.fill)),
        "constant": _digest(task.constant),
        "versions": {"dance_tf": dance_tf.__version__, "tensorflow": tf.__version__,
                     "keras": keras.__version__},
    }


def config_digest(cfg: dict) -> str:
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:12]


def _flatten(cfg: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in cfg.items():
        if isinstance(v, dict) and not set(v) == {"array", "sha256"}:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _differences(old: dict, new: dict) -> list[str]:
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


def read_config(out: Path) -> dict | None:
    """The configuration of the results folder ``out``, or None if it has none yet."""
    path = out / CONFIG_FILE
    if not _regular_or_absent(path, "configuration file"):
        return None
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise EvaluationError(f"{path}: not a readable configuration ({err}); use another "
                              "--out") from None
    if not isinstance(cfg, dict) or cfg.get("format") != CONFIG_FORMAT:
        raise EvaluationError(f"{path}: not a {CONFIG_FORMAT!r} file; use another --out")
    return cfg


def ensure_config(out: Path, cfg: dict) -> str:
    """Write ``cfg`` as the folder's configuration on the first run, or check that it is
    the folder's; returns its digest. Raises EvaluationError listing what differs."""
    if out.exists() and not out.is_dir():
        raise EvaluationError(f"{out}: --out is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    have = read_config(out)
    if have is None:
        if list(out.glob("results*.jsonl")):
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
        have = read_config(out)
    diffs = _differences(have, cfg)
    if diffs:
        raise EvaluationError(
            f"{out}: holds results of another configuration ({CONFIG_FILE}); differing: "
            + "; ".join(diffs) + ". Use another --out for this configuration (or remove "
            f"{out} to start over); one folder never mixes configurations.")
    return config_digest(cfg)


def _row_checker(cfg: dict, digest: str):
    def check(row, where):
        if row["task"] != cfg["task"]:
            raise EvaluationError(f"{where}: a row of task {row['task']!r} in a folder of "
                                  f"task {cfg['task']!r}; remove it or use another --out")
        if row.get("config") != digest:
            raise EvaluationError(f"{where}: a row of another configuration (digest "
                                  f"{row.get('config')!r}, the folder's is {digest!r}); "
                                  "remove it or use another --out")
    return check


# ---------------------------------------------------------------------- progress
class Progress:
    """Progress of the rows on stderr.

    On a terminal: a ``tqdm`` bar (a maintained library: rate, ETA, the note in full).
    Elsewhere (a log file, a pipe): plain lines, the first and last step and then at most
    one every ``interval`` seconds, so a log never gets ``\\r`` updates.
    """

    def __init__(self, total: int, label: str = "", stream=None, enabled: bool = True,
                 interval: float = 30.0):
        self.total, self.label, self.enabled = total, label, enabled
        self.stream = sys.stderr if stream is None else stream
        self.interval = interval
        self.count, self.start, self._last = 0, time.perf_counter(), None
        isatty = getattr(self.stream, "isatty", None)
        self._bar = None
        if enabled and callable(isatty) and isatty():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=label, file=self.stream, unit="row",
                             dynamic_ncols=True)

    def step(self, n: int = 1, note: str = "") -> None:
        self.count += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(note, refresh=False)
            self._bar.update(n)
            return
        now = time.perf_counter()
        if (self._last is not None and self.count < self.total
                and now - self._last < self.interval):
            return
        self._last = now
        from tqdm import tqdm

        elapsed = now - self.start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        eta = tqdm.format_interval((self.total - self.count) / rate) if rate > 0 else "?"
        self.stream.write(f"{self.label}: {self.count}/{self.total} rows "
                          f"({self.count / max(1, self.total):.0%}), {rate:.2f} rows/s, "
                          f"elapsed {tqdm.format_interval(elapsed)}, ETA {eta}"
                          + (f" - {note}" if note else "") + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# ---------------------------------------------------------------------- evaluation
def method_options(method: str, args) -> dict:
    if method == "integrated_gradients":
        return {"steps": args.ig_steps}
    if method in ("smoothgrad", "vargrad", "smoothgrad_range"):
        return {"samples": args.sg_samples, "noise": args.sg_noise}
    if method == "expected_gradients":
        return {"samples": args.sg_samples}
    if method == "ig_uniform":
        return {"steps": args.ig_steps}
    return {}


def write_row(results, task, args, i, m, v, c, res, seconds, logits, maps_dir) -> None:
    """Score one map (fidelity at each K) and append its row; save maps of examples."""
    from dance_tf.metrics import fidelity, fidelity_continuous
    from dance_tf.reduce import feature_scores

    extra = {}
    sal = res
    if not isinstance(res, np.ndarray):
        sal = res.saliency
        extra = {"n_items": int(len(res.decoys)), "certified": float(np.mean(res.certified)),
                 "max_deviation": float(np.max(res.max_deviation)), "epsilon": res.epsilon,
                 "steps_mean": float(np.mean(res.steps)), "steps_max": int(np.max(res.steps)),
                 "layer": res.layer}
    x = np.asarray(task.inputs[i], np.float32)
    feat = feature_scores(sal, task.feature_ndim, "abs_mean")
    fill = task.fill(x) if callable(task.fill) else task.fill   # per-input fill (a blur)
    sf = {str(k): float(fidelity(logits, x[None], feat[None], [c], k=k, fill=fill)[0])
          for k in args.k}
    extra["sf_continuous"] = float(fidelity_continuous(logits, x[None], feat[None], [c])[0])
    if i < args.examples:
        maps_dir.mkdir(parents=True, exist_ok=True)
        np.save(maps_dir / f"{task.ids[i]}__{m}__{v}.npy", sal)
    old = results.done.get((task.ids[i], m, v))
    if old is not None:   # recomputed for a new K: same configuration, keep the other Ks
        sf = {**old["sf"], **sf}
    label = None if task.labels is None or task.labels[i] is None else int(task.labels[i])
    results.write({"task": task.name, "id": task.ids[i], "index": i, "method": m, "variant": v,
                   "target": c, "label": label, "sf": sf, "seconds": seconds,
                   "config": args.config_digest, "input": input_digest(x), **extra})


def attack_row(task, args, i, m, v, x, c, logits, opts, explainer) -> dict:
    """Attack one input against method m's map (§4.4) and score the maps of x and x̂
    without and with decoys: SS (Eq. 7, maps binarised to the first K), top-k
    intersection, Spearman rank correlation, centre-of-mass shift in pixels."""
    from dance_tf import attacks

    kind = v.split(":", 1)[1]
    attack = getattr(attacks, f"{kind}_attack")
    t0 = time.perf_counter()
    x_adv = attack(logits, x[None], np.array([c]), value_range=task.value_range, method=m,
                   method_options=opts or None, iterations=args.attack_iterations)
    attack_seconds = time.perf_counter() - t0
    def without(batch):
        return explainer.base_map(batch, [c] * len(batch))

    def with_decoys(batch):
        return np.stack([explainer.explain(b, target=c) for b in batch])

    rep = attacks.robustness_report(x[None], x_adv, {"none": without, "decoys": with_decoys},
                                    k=args.k[0])
    label_adv = int(np.argmax(logits(x_adv, training=False).numpy()[0]))
    linf = float(np.max(np.abs(x_adv[0] - x)))
    if linf == 0.0:   # SS = ‖ΔE‖ / ‖Δx‖ is 0/0: flagged, never a silent number
        warnings.warn(f"attack {kind} left input {task.ids[i]} unchanged (its gradient "
                      "through the model's activations is zero): its sensitivity is "
                      "undefined (NaN) and the row is flagged attack_moved = false",
                      RuntimeWarning, stacklevel=2)
    row = {"task": task.name, "id": task.ids[i], "index": i, "method": m, "variant": v,
           "target": c, "label_after_attack": label_adv, "sf": {}, "k": args.k[0],
           "linf": linf, "attack_moved": linf > 0.0, "seconds": attack_seconds,
           "config": args.config_digest, "input": input_digest(x)}
    for name, vals in rep.items():
        for metric, arr in vals.items():
            row[f"{metric}_{name}"] = float(np.asarray(arr)[0])
    return row


def evaluate(task, args, log=print) -> Path:
    """Run the evaluation of ``task`` into ``args.out``; returns the results file path."""
    import tensorflow as tf

    from dance_tf import Explainer
    from dance_tf.distribute import explain_replicated, make_strategy, worker_shard
    from dance_tf.layers import logits_model

    if args.strategy == "multi-worker":
        args.shard_index, args.num_shards = worker_shard()
    strategy = make_strategy("mirrored" if args.strategy != "none" else "none")

    if args.attacks and task.feature_ndim != 2:
        raise ValueError(f"--attacks: the explanation attacks need image inputs; task "
                         f"{task.name!r} has other inputs")
    out = Path(args.out)
    cfg = run_config(task, args)
    args.config_digest = ensure_config(out, cfg)
    shard = f".shard-{args.shard_index}-of-{args.num_shards}" if args.num_shards > 1 else ""
    results = ResultsFile(out / f"results{shard}.jsonl", _row_checker(cfg, args.config_digest))
    maps_dir = out / "maps"
    indices = [i for i in range(len(task.inputs)) if i % args.num_shards == args.shard_index]
    variants = list(args.variants) + [f"attack:{a}" for a in args.attacks]
    ks = {str(k) for k in args.k}
    todo, redo = [], 0
    for i in indices:
        digest = None
        for m in args.methods:
            for v in variants:
                row = results.done.get((task.ids[i], m, v))
                if row is not None:
                    digest = digest or input_digest(task.inputs[i])
                    if row.get("input") != digest:
                        raise EvaluationError(
                            f"{results.path}: the row of {task.ids[i]!r} ({m}, {v}) was "
                            "computed on a different input under the same id (the data "
                            "changed?); use another --out")
                    complete = (row.get("k") == args.k[0] if v.startswith("attack:")
                                else ks <= set(row["sf"]))
                    if complete:
                        continue
                    redo += 1
                todo.append((i, m, v))
    total = len(indices) * len(args.methods) * len(variants)
    log(f"{task.name}: {len(indices)} inputs × {len(args.methods)} methods × "
        f"{len(variants)} variants; {len(todo)} rows to compute"
        + (f" ({redo} again, for K = {', '.join(sorted(ks))})" if redo else "")
        + f", {total - len(todo)} already done")
    progress = Progress(len(todo), task.name, enabled=not args.quiet)
    shape0 = tuple(np.asarray(task.inputs[0]).shape)
    logits, _ = logits_model(task.model, shape0)
    explainers: dict[tuple, Explainer] = {}
    pending = defaultdict(list)
    for i, m, v in todo:
        pending[i].append((m, v))
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    order = sorted(pending)
    for g in range(0, len(order), replicas):
        group = order[g:g + replicas]
        xs = {i: np.asarray(task.inputs[i], np.float32) for i in group}
        cs = {i: int(np.argmax(logits(xs[i][None], training=False).numpy()[0])) for i in group}
        combos = list(dict.fromkeys(mv for i in group for mv in pending[i]))
        for m, v in combos:
            members = [i for i in group if (m, v) in pending[i]]
            opts = method_options(m, args)

            def explainer_for(variant, shape, m=m, opts=opts):
                # one explainer for every input shape: it plans each shape once and
                # shares one compiled graph across lengths of a variable axis (SST)
                key = (m, variant)
                if key not in explainers:
                    explainers[key] = Explainer(
                        task.model, method=m, value_range=task.value_range, seed=args.seed,
                        constant=task.constant, **EXPLAINER_VARIANTS[variant],
                        **task.explainer_options, **opts)
                return explainers[key]

            if v.startswith("attack:"):
                for i in members:
                    row = attack_row(task, args, i, m, v, xs[i], cs[i], logits, opts,
                                     explainer_for("decoys", xs[i].shape))
                    results.write(row)
                    progress.step(note=f"{task.ids[i]} {m} {v}")
                continue
            t0 = time.perf_counter()
            if v == "none":
                base = explainer_for("decoys", xs[members[0]].shape)
                outs = [base.base_map(xs[i], cs[i]) for i in members]
            else:
                outs = explain_replicated(explainer_for(v, xs[members[0]].shape), strategy,
                                          [xs[i] for i in members],
                                          [cs[i] for i in members], return_details=True)
            seconds = (time.perf_counter() - t0) / len(members)
            for i, res in zip(members, outs):
                write_row(results, task, args, i, m, v, cs[i], res, seconds, logits, maps_dir)
                progress.step(note=f"{task.ids[i]} {m} {v}")
    progress.close()
    results.close()
    tf.keras.backend.clear_session()
    return results.path


# ---------------------------------------------------------------------- report
def summarise(rows: list[dict], k: str) -> tuple[dict, list[str]]:
    """({method: {variant: {id: SF}}} for one K, notes). A (method, variant) whose rows do
    not all have K is left out (its table would cover fewer inputs than its neighbours)
    and named in the notes."""
    table: dict = defaultdict(lambda: defaultdict(dict))
    count: dict = defaultdict(int)
    for r in rows:
        if r["variant"].startswith("attack:"):
            continue
        count[(r["method"], r["variant"])] += 1
        if k in r["sf"]:
            table[r["method"]][r["variant"]][r["id"]] = r["sf"][k]
    notes = []
    for (m, v), n in count.items():
        have = len(table[m].get(v, {}))
        if have < n:
            notes.append(f"{SHORT.get(m, m)} {VARIANTS.get(v, v)}: K = {float(k):.0%} known for "
                         f"{have} of {n} inputs (rerun with this K to complete it)")
            table[m].pop(v, None)
    return {m: dict(vs) for m, vs in table.items() if vs}, notes


def report(out: Path, task=None, log=print) -> str:
    """Tables (mean ± s.e.; paired decoys − variant, one-sided p), box plots, panels."""
    from dance_tf.metrics import paired_stats

    out = Path(out)
    cfg = read_config(out) if out.is_dir() else None
    paths = sorted(out.glob("results*.jsonl")) if out.is_dir() else []
    if cfg is None:
        if paths:
            raise EvaluationError(f"{out}: holds results but no {CONFIG_FILE}, so their "
                                  "configuration is unknown; use another --out")
        return "no results"
    if task is not None and task.name != cfg["task"]:
        raise EvaluationError(f"{out}: holds results of task {cfg['task']!r}, not "
                              f"{task.name!r}; use another --out")
    rows = read_rows(paths, _row_checker(cfg, config_digest(cfg)))
    if not rows:
        return "no results"
    ks = sorted({k for r in rows for k in r["sf"]}, key=float)
    lines = [f"# Evaluation report: {cfg['task']}", ""]
    if task is not None and task.description:
        lines += [task.description, ""]
    lines += [f"{len({r['id'] for r in rows})} inputs; SF = −log p_c after keeping the top-K "
              "features (lower is better).", ""]
    for k in ks:
        table, notes = summarise(rows, k)
        for note in notes:
            log(f"report: {note}")
        if not table:
            continue
        variants = [v for v in VARIANTS if any(v in table[m] for m in table)]
        lines += [f"## Fidelity SF, K = {float(k):.0%}", "",
                  "| method | " + " | ".join(VARIANTS[v] for v in variants) + " |",
                  "|---" * (len(variants) + 1) + "|"]
        for m in table:
            cells = []
            for v in variants:
                vals = np.array(list(table[m].get(v, {}).values()), float)
                if vals.size:
                    se = vals.std(ddof=1) / np.sqrt(vals.size) if vals.size > 1 else 0.0
                    cells.append(f"{vals.mean():.3f} ± {se:.3f}")
                else:
                    cells.append("–")
            lines.append(f"| {SHORT.get(m, m)} | " + " | ".join(cells) + " |")
        lines += ["", f"Paired differences, with decoys − variant (mean ± s.e., one-sided p, "
                  f"H0: E[diff] ≥ 0; S14), K = {float(k):.0%}:", ""]
        others = [v for v in variants if v != "decoys"]
        lines += ["| method | " + " | ".join(VARIANTS[v] for v in others) + " |",
                  "|---" * (len(others) + 1) + "|"]
        for m in table:
            cells = []
            ours = table[m].get("decoys", {})
            for v in others:
                base = table[m].get(v, {})
                ids = sorted(set(ours) & set(base))
                if len(ids) >= 2:
                    st = paired_stats([ours[i] for i in ids], [base[i] for i in ids])
                    cells.append(f"{st.mean:+.3f} ± {st.se:.3f} (p={st.p:.3g})")
                else:
                    cells.append("–")
            lines.append(f"| {SHORT.get(m, m)} | " + " | ".join(cells) + " |")
        lines += [f"Incomplete at this K, left out: {n}" for n in notes]
        lines.append("")
        _boxplot(out, table, k)
    lines += attack_tables(out, rows)
    timing = defaultdict(list)
    for r in rows:
        timing[(r["method"], r["variant"])].append(float(r.get("seconds", np.nan)))
    lines += ["## Time per explanation (s; the mean includes the first, compiling call)", "",
              "| method | variant | mean s | median s | decoys | certified | steps (mean) |",
              "|---|---|---|---|---|---|---|"]
    for (m, v), ts in sorted(timing.items()):
        sel = [r for r in rows if r["method"] == m and r["variant"] == v]
        n_items = sel[0].get("n_items", "–")
        cert = [r["certified"] for r in sel if "certified" in r]
        cert_s = f"{np.mean(cert):.3f}" if cert and v in ("decoys", "mean", "covering") else "–"
        steps = [r["steps_mean"] for r in sel if "steps_mean" in r]
        steps_s = f"{np.mean(steps):.1f}" if steps and v in ("decoys", "mean", "covering") else "–"
        lines.append(f"| {SHORT.get(m, m)} | {VARIANTS.get(v, v)} | {np.mean(ts):.3f} | "
                     f"{np.median(ts):.3f} | {n_items} | {cert_s} | {steps_s} |")
    if task is not None and task.render is not None:
        _panels(out, rows, task)
    text = "\n".join(lines) + "\n"
    (out / "report.md").write_text(text, encoding="utf-8")
    return text


def attack_tables(out: Path, rows: list[dict]) -> list[str]:
    """Tables S6/S10/S11-style: SS without and with decoys under each attack (§4.4)."""
    from dance_tf.metrics import paired_stats
    from dance_tf.plots.images import save_boxplot

    attacked = [r for r in rows if r["variant"].startswith("attack:")]
    if not attacked:
        return []
    scores: dict = defaultdict(dict)
    lines: list[str] = []
    k_values = sorted({r.get("k", 0.0) for r in attacked})
    for k_ss in k_values:
        lines += [f"## Robustness to explanation attacks (§4.4; lower SS is better; maps "
                  f"binarised to the top {k_ss:.0%})", "",
                  "| attack | method | SS without decoys | SS with decoys | decoys − without "
                  "(p) | top-k ∩ w/o / with | Spearman w/o / with | centre shift px w/o / "
                  "with | label kept |", "|---" * 9 + "|"]
        for attack in sorted({r["variant"] for r in attacked}):
            for m in sorted({r["method"] for r in attacked}, key=_method_order):
                sel = [r for r in attacked if r["variant"] == attack and r["method"] == m
                       and r.get("k", 0.0) == k_ss
                       and np.isfinite(r.get("ss_none", np.nan))
                       and np.isfinite(r.get("ss_decoys", np.nan))]
                if not sel:
                    continue
                a = np.array([r["ss_none"] for r in sel])
                b = np.array([r["ss_decoys"] for r in sel])
                st = paired_stats(b, a) if len(sel) > 1 else None
                diff = f"{st.mean:+.3f} ± {st.se:.3f} (p={st.p:.3g})" if st else "–"

                def pair(key, sel=sel):
                    return (f"{np.nanmean([r[key + '_none'] for r in sel]):.2f} / "
                            f"{np.nanmean([r[key + '_decoys'] for r in sel]):.2f}")

                kept = np.mean([r["label_after_attack"] == r["target"] for r in sel])
                lines.append(f"| {attack[7:]} | {SHORT.get(m, m)} | {_mse(a)} | {_mse(b)} | "
                             f"{diff} | {pair('topk_intersection')} | "
                             f"{pair('rank_correlation')} | {pair('center_shift')} | "
                             f"{kept:.0%} |")
                name = f"{attack[7:]}: {SHORT.get(m, m)}"
                if len(k_values) > 1:
                    name += f" (K {k_ss:.0%})"
                scores[name] = {"without decoys": a, "with decoys": b}
        lines.append("")
    save_boxplot(out / "sensitivity.png", scores, ylabel="sensitivity SS (lower is better)",
                 title="Sensitivity under attacks")
    return lines


def _mse(vals: np.ndarray) -> str:
    se = vals.std(ddof=1) / np.sqrt(vals.size) if vals.size > 1 else 0.0
    return f"{vals.mean():.3f} ± {se:.3f}"


def _boxplot(out: Path, table: dict, k: str) -> None:
    from dance_tf.plots.images import save_boxplot

    scores = {SHORT.get(m, m): {VARIANTS[v]: list(table[m][v].values()) for v in VARIANTS
                                if v in table[m]} for m in table}
    save_boxplot(out / f"fidelity_k{int(round(float(k) * 100))}.png", scores,
                 title=f"Fidelity, top {float(k):.0%} kept")


def _method_order(method: str) -> tuple:
    return (METHODS.index(method) if method in METHODS else len(METHODS), method)


def _panels(out: Path, rows: list[dict], task) -> None:
    maps_dir = out / "maps"
    ids = sorted({r["id"] for r in rows if (maps_dir / f"{r['id']}__{r['method']}__"
                                                      f"{r['variant']}.npy").exists()})
    index = {tid: i for i, tid in enumerate(task.ids)}
    for tid in ids:
        maps: dict = {}
        for m in sorted({r["method"] for r in rows}, key=_method_order):
            per = {VARIANTS[v]: np.load(maps_dir / f"{tid}__{m}__{v}.npy") for v in VARIANTS
                   if (maps_dir / f"{tid}__{m}__{v}.npy").exists()}
            if per:
                maps[SHORT.get(m, m)] = per
        if tid in index:
            task.render(out / "examples" / f"{tid}.png", np.asarray(task.inputs[index[tid]]),
                        dict(maps), tid)


# ---------------------------------------------------------------------- command line
_INT1 = {"integer": True, "low": 1}
_POSITIVE = {"low": 0, "low_open": True}
_NONNEG = {"low": 0}
#: numeric --option keys of dance_tf.Explainer and how each is checked (dance_tf.validate)
OPTION_NUMBERS = {
    "max_steps": _INT1, "patience": _INT1, "patch_size": _INT1, "stride": _INT1,
    "patches_per_mask": _INT1, "decoy_batch_size": {**_INT1, "allow_none": True},
    "memory_budget_mb": _POSITIVE, "epsilon": {**_POSITIVE, "allow_none": True},
    "epsilon_rel": _POSITIVE, "lambda0": _POSITIVE, "tau0": _POSITIVE,
    "learning_rate": _POSITIVE, "init_noise": _NONNEG, "noise_level": _NONNEG,
    "backoff": {"low": 0, "low_open": True, "high": 1}, "deviation_bound": _NONNEG,
    "batch_size": _INT1,
}
#: --option keys that another flag sets (giving both would be ambiguous)
OPTION_RESERVED = {
    "seed": "--seed", "method": "--methods", "perturbation": "--variants",
    "aggregation": "--variants", "steps": "--ig-steps", "samples": "--sg-samples",
    "noise": "--sg-noise", "value_range": "the task", "constant": "the task",
}


def _number_type(flag: str, **spec):
    """An argparse ``type`` that validates with dance_tf.validate (message names flag)."""
    def convert(text):
        try:
            return validate.number_from_text(flag, text, **spec)
        except (TypeError, ValueError) as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    convert.__name__ = flag
    return convert


def parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog or "evaluate.py",
        description="DANCE batch evaluation: fidelity of base methods without/with decoys "
                    "and the ablations of §4.3 (defaults: the embedded digits task). One "
                    "--out folder holds one configuration (written to its config.json); a "
                    "rerun with other settings stops and names them.")
    p.add_argument("--task", default="digits", help="digits (default), sst, ids, imagenet")
    p.add_argument("--input", default=None, help="inputs: file or folder (task-specific)")
    p.add_argument("--model", default=None, help="model file or folder (task-specific)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="explainer setting for the task, e.g. stride=3, max_steps=30 "
                        "(repeatable; numbers are checked: max_steps=nan is refused)")
    p.add_argument("--count", type=_number_type("count", **_INT1), default=None,
                   help="number of inputs, ≥ 1 [task default]")
    p.add_argument("--out", default=None, help="output folder [outputs/<task>]")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma-separated base methods [{','.join(METHODS)}]")
    p.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                   help=f"comma-separated variants, some of {','.join(VARIANTS)} "
                        f"[{','.join(DEFAULT_VARIANTS)}]")
    p.add_argument("--k", default="0.2",
                   help="top-K fractions in (0, 1], comma-separated [0.2]; the first one also "
                        "binarises the maps of the attack sensitivity")
    p.add_argument("--attacks", default="",
                   help="explanation attacks to run, comma-separated: topk,targeted,"
                        "mass_center (§4.4; images only) [none]")
    p.add_argument("--attack-iterations", type=_number_type("attack_iterations", **_INT1),
                   default=300, help="sign steps per attack [300, the authors' code]")
    p.add_argument("--ig-steps", type=_number_type("ig_steps", **_INT1), default=50,
                   help="steps of IG and IG-uniform [50]")
    p.add_argument("--sg-samples", type=_number_type("sg_samples", **_INT1), default=50,
                   help="samples of SmoothGrad, VarGrad, SmoothGrad-range and expected "
                        "gradients [50]")
    p.add_argument("--sg-noise", type=_number_type("sg_noise", **_NONNEG), default=0.15,
                   help="SmoothGrad noise [0.15]")
    seed_spec = {"integer": True, "low": 0, "high": 2**32 - 1}
    p.add_argument("--seed", type=_number_type("seed", **seed_spec), default=0,
                   help="seed of decoy starts and noise (not of the data split) [0]")
    p.add_argument("--split-seed", type=_number_type("split_seed", **seed_spec), default=0,
                   help="seed of the task's train/test split (digits; a model trained on "
                        "that split is used) [0]")
    p.add_argument("--examples", type=_number_type("examples", integer=True, low=0),
                   default=4, help="inputs drawn as panels [4]")
    p.add_argument("--num-shards", type=_number_type("num_shards", **_INT1), default=1,
                   help="split the inputs [1]")
    p.add_argument("--shard-index", type=_number_type("shard_index", integer=True, low=0),
                   default=0, help="this shard, 0-based [0]")
    p.add_argument("--strategy", default="none", choices=["none", "mirrored", "multi-worker"],
                   help="none; mirrored: one input per local GPU replica; multi-worker: "
                        "this TF_CONFIG task's shard of the inputs (and its local GPUs)")
    p.add_argument("--report-only", action="store_true", help="rebuild the report only")
    p.add_argument("--quiet", action="store_true", help="no progress")
    return p


def parse(argv=None, prog: str | None = None) -> argparse.Namespace:
    """Parse and validate the command line; a bad value exits with status 2 and a message
    naming the flag (argparse's ``error``)."""
    p = parser(prog)
    args = p.parse_args(argv)
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not args.methods:
        p.error("--methods: expected at least one method")
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in args.variants if v not in VARIANTS]
    if bad:
        p.error(f"--variants: unknown {bad}; expected some of {list(VARIANTS)}")
    args.attacks = [a.strip() for a in args.attacks.split(",") if a.strip()]
    bad = [a for a in args.attacks if a not in ("topk", "targeted", "mass_center")]
    if bad:
        p.error(f"--attacks: unknown {bad}; expected topk, targeted, mass_center")
    try:
        ks = [validate.number_from_text("--k", k, low=0, low_open=True, high=1)
              for k in args.k.split(",")]
        args.k = list(validate.fractions("--k", ks))
    except (TypeError, ValueError) as err:
        p.error(str(err))
    if not args.shard_index < args.num_shards:
        p.error(f"--shard-index: expected 0 ≤ shard-index < num-shards ({args.num_shards}), "
                f"got {args.shard_index}")
    args.out = args.out or os.path.join("outputs", args.task)
    args.options = {}
    for text in args.option:
        try:
            key, value = _parse_option(text)
        except (TypeError, ValueError) as err:
            p.error(f"--option {text!r}: {err}")
        if key in args.options:
            p.error(f"--option {key}: given twice")
        args.options[key] = value
    return args


def _parse_option(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` → (key, typed value): the numeric keys of OPTION_NUMBERS are validated
    (finite, typed, in range); other values become int, finite float, True / False / None
    or text."""
    if "=" not in text:
        raise ValueError("expected KEY=VALUE")
    key, value = (part.strip() for part in text.split("=", 1))
    if not key:
        raise ValueError("expected KEY=VALUE, the key is empty")
    if key in OPTION_RESERVED:
        raise ValueError(f"{key}: set it with {OPTION_RESERVED[key]}, not --option")
    if key in OPTION_NUMBERS:
        return key, validate.number_from_text(key, value, **OPTION_NUMBERS[key])
    words = {"true": True, "false": False, "none": None}
    if value.lower() in words:
        return key, words[value.lower()]
    try:
        return key, int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return key, value
    return key, validate.number(key, number)   # nan / inf refused


def main(argv=None, prog: str | None = None) -> int:
    """Run the evaluation command; returns the exit status (2: refused input, message on
    stderr)."""
    args = parse(argv, prog)
    name = prog or "evaluate.py"
    cpus = int(os.environ.get("DANCE_TF_LOGICAL_CPUS", "0") or 0)
    if cpus > 1:
        from dance_tf.distribute import split_cpu

        split_cpu(cpus)
    from dance_tf.tasks import build_task

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    options = {"input": args.input, "model": args.model, "count": args.count,
               "seed": args.seed, "split_seed": args.split_seed, "log": log,
               "options": args.options}
    out = Path(args.out)
    try:
        task = build_task(args.task, options)
    except (ValueError, OSError) as err:   # bad path, count, file: the task says which
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
    task.explainer_options.update({k: v for k, v in args.options.items()
                                   if k != "preprocessing"})
    try:
        if not args.report_only:
            evaluate(task, args, log=log)
        text = report(out, task, log=log)
    except EvaluationError as err:
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
    print(text)
    log(f"report: {out / 'report.md'}; figures: {out}")
    return 0
