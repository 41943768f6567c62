"""S6 of the study: cascading weight randomisation, SSIM of each map to the trained model's.

For every input of the condition, ``dance_tf.metrics.cascading_randomization`` randomises
the task model's weighted layers from the top down (a copy; the task's model is never
touched) and scores each step's map against the trained model's map by SSIM, without and
with decoys. The noise floor of a DANCE map is the SSIM between two decoy seeds on the
trained model: a map that depends on the learned weights should fall well below it.

Rows (one per input, variant and cascade step) go to ``results.jsonl.gz`` beside a small
``config.json``; a condition runs whole (about a minute on digits), so a rerun with the rows
present computes nothing.
"""

from __future__ import annotations

import gzip
import io
import json
import time
from pathlib import Path

import numpy as np

from dance_tf import single_file
from dance_tf.study.folders import log_run

FORMAT = "dance_tf study sanity v1"


def _dance(task, method: str, seed: int):
    """method(model, x, targets) → DANCE maps (N, *S), one Explainer per model object."""
    import dance_tf

    cache: dict = {}

    def explain(model, x, targets):
        key = id(model)
        if key not in cache:
            cache[key] = (model, dance_tf.Explainer(model, method=method, seed=seed,
                                                    value_range=task.value_range,
                                                    **task.explainer_options))
        ex = cache[key][1]
        return np.stack([ex.explain(xi, target=int(t)) for xi, t in zip(x, targets)])
    return explain


def _base(method: str):
    from dance_tf.saliency.registry import resolve_method

    _, fn = resolve_method(method)
    return lambda model, x, targets: np.asarray(fn(model, x, targets))


def run(task, folder: Path, method: str = "gradient", seed: int = 0, log=print) -> Path:
    """Run the cascade on every input of ``task`` (numpy edge); writes the rows."""
    from dance_tf.metrics.sanity import cascading_randomization, map_ssim
    from dance_tf.model_contract import logits_model

    folder = Path(folder)
    packed = folder / "results.jsonl.gz"
    if packed.exists():
        log(f"{folder.name}: rows present; nothing to compute")
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    x = np.stack([np.asarray(v, np.float32) for v in task.inputs])
    model, _ = logits_model(task.model, x.shape[1:])
    targets = np.argmax(model(x, training=False).numpy(), axis=1)
    rows, start = [], time.time()
    for variant, fn in (("none", _base(method)), ("decoys", _dance(task, method, seed))):
        t0 = time.time()
        res = cascading_randomization(model, x, targets, fn, seed=seed)
        log(f"{folder.name}: {variant}: {len(res.layers)} steps, {time.time() - t0:.0f} s")
        for j, layer in enumerate(res.layers):
            rows += [{"id": task.ids[i], "index": i, "method": method, "variant": variant,
                      "stage": j + 1, "layer": layer, "ssim": float(res.ssim[j, i])}
                     for i in range(len(x))]
    a = _dance(task, method, seed)(model, x, targets)
    b = _dance(task, method, seed + 1)(model, x, targets)
    floor = map_ssim(a, b)
    rows += [{"id": task.ids[i], "index": i, "method": method, "variant": "decoys",
              "stage": 0, "layer": f"seed {seed} vs {seed + 1}", "ssim": float(floor[i])}
             for i in range(len(x))]
    cfg = {"format": FORMAT, "task": task.name, "method": method, "seed": seed,
           "explainer_options": task.explainer_options, "inputs": len(x)}
    single_file.write_text(folder / "config.json",
                     json.dumps(cfg, indent=2, sort_keys=True, default=str) + "\n")
    buffer = io.BytesIO()   # the same bytes as before (the header names the old tmp file)
    with gzip.GzipFile(".results.jsonl.gz.tmp", "wb", fileobj=buffer, mtime=0) as handle:
        handle.write("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode())
    single_file.write_bytes(packed, buffer.getvalue())
    log_run(folder, start, 0, len(rows), "complete")
    return folder


def load(folder: Path) -> list[dict]:
    """The rows of a sanity folder ([] if it has none)."""
    packed = Path(folder) / "results.jsonl.gz"
    if not packed.exists():
        return []
    with gzip.open(packed, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
