"""The runs of the reproduction study: one evaluation folder per condition.

A condition is a task plus the evaluate settings of one table (methods, variants, K, the
explainer options, the fidelity fill, which inputs). It runs through
``dance_tf.evaluation.runner.evaluate`` (rows stream to ``ROOT/<name>/results.jsonl``,
resumable);
after a run the rows are packed to ``results.jsonl.gz`` (the committed raw rows) and the
wall time is appended to ``runs.jsonl``. A fresh checkout resumes from the packed rows.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dance_tf import files
from dance_tf.errors import OutputError
from dance_tf.evaluation.results import EvaluationError, read_rows, regular_or_absent
from dance_tf.evaluation.run_config import config_digest, read_config, row_checker
from dance_tf.study.verdicts import halves

ALL_VARIANTS = ("none", "decoys", "constant", "noise", "mean")
FIDELITY_K = (0.1, 0.2, 0.4)
IMAGENET_OPTIONS = {"packing": "tiles", "patches_per_mask": 500}
#: the costlier ImageNet runs (IG, SmoothGrad, S9 methods, attacks): 25 tiles, 2n = 50
IMAGENET_SMALL = {"packing": "tiles", "patches_per_mask": 2000}


@dataclass
class Condition:
    """One evaluate folder: ``name`` (folder under the study root), ``task``, settings.

    half: ``all`` inputs, only the ``first`` half (the open choices) or only the
    ``second`` (a choice confirmed after it was made on the first); fill: None (the
    task's), ``mean`` (the image mean per channel) or ``blur`` (a Gaussian-blurred copy);
    group: ``main`` (claims), ``choices`` (open choices), ``attacks``, ``s9``, ``m``,
    ``sanity`` (S6, run by ``dance_tf.study.sanity_run``, not evaluate);
    factor/setting: for the open-choices table; compare: the variant set against "none"
    in that table (``decoys``, or ``covering`` for the covering range); score: ``topk``
    (SF at K) or ``continuous`` (``fidelity_continuous``); flags: extra evaluate.py flags; folder:
    the evaluate folder (default ``name``; two conditions may fill one folder with other
    variants, e.g. ImageNet's decoys first and its ablations later).
    """

    name: str
    task: str
    group: str
    count: int
    methods: tuple = ("gradient", "integrated_gradients", "smoothgrad")
    variants: tuple = ALL_VARIANTS
    k: tuple = FIDELITY_K
    options: dict = field(default_factory=dict)
    fill: str | None = None
    half: str = "all"
    attacks: tuple = ()
    flags: tuple = ()
    examples: int = 0
    factor: str = ""
    setting: str = ""
    note: str = ""
    folder: str = ""
    compare: str = "decoys"
    score: str = "topk"

    def __post_init__(self):
        self.folder = self.folder or self.name

    def argv(self, root: Path, seed: int) -> list[str]:
        """The evaluate.py command line of this condition."""
        out = ["--task", self.task, "--count", str(self.count), "--out",
               str(Path(root) / self.folder), "--methods", ",".join(self.methods),
               "--variants", ",".join(self.variants), "--k", ",".join(map(str, self.k)),
               "--seed", str(seed), "--examples", str(self.examples), "--quiet"]
        for key, value in self.options.items():
            out += ["--option", f"{key}={value}"]
        if self.attacks:
            out += ["--attacks", ",".join(self.attacks)]
        return out + list(self.flags)


def conditions(scale: dict | None = None) -> list[Condition]:
    """Every condition of the study, in the order of priority of the issue's brief.

    scale: overrides of counts and evaluate flags for a smoke run (``count``: inputs of
    every task; ``flags``: extra evaluate flags, e.g. fewer IG steps; ``methods``).
    """
    s = scale or {}
    cnt = s.get("count")
    meth = tuple(s.get("methods", ("gradient", "integrated_gradients", "smoothgrad")))
    fl = tuple(s.get("flags", ()))
    grad = ("gradient",)
    conds = [
        Condition("digits", "digits", "main", cnt or 64, meth, flags=fl, examples=4),
        Condition("imagenet", "imagenet", "main", cnt or 210, grad, options=IMAGENET_OPTIONS,
                  variants=("none", "decoys"), examples=4,
                  note="EfficientNet-Lite0, tiles m = 500"),
        Condition("sst", "sst", "main", cnt or 32, meth, flags=fl),
        Condition("ids", "ids", "main", cnt or 32, meth, flags=fl),
    ]
    # the ablations ran on the first 11–12 images in file order (both halves) in the first
    # sitting; later sittings run only second-half images (no choice is made from them)
    conds.append(Condition("imagenet-ablations", "imagenet", "main", cnt or 210, grad,
                           variants=("constant", "noise", "mean"), options=IMAGENET_OPTIONS,
                           folder="imagenet", half="second"))
    choice = {"task": "digits", "group": "choices", "count": cnt or 64, "methods": grad,
              "variants": ("none", "decoys"), "half": "first", "k": (0.2,), "flags": fl}
    conds += [
        Condition("digits-output-probability", methods=("gradient_probability",),
                  factor="output", setting="softmax probability", **{
                      k: v for k, v in choice.items() if k != "methods"}),
        Condition("digits-output-log-probability", methods=("gradient_log_probability",),
                  factor="output", setting="log-probability", **{
                      k: v for k, v in choice.items() if k != "methods"}),
        Condition("digits-epsilon-0.01", options={"epsilon_rel": 0.01}, factor="ε",
                  setting="epsilon_rel = 0.01", **choice),
        Condition("digits-epsilon-0.2", options={"epsilon_rel": 0.2}, factor="ε",
                  setting="epsilon_rel = 0.2", **choice),
        # S1.2 bounds the deviation by τ, from τ0 = 1 down by 0.95 per step that meets
        # it: after max_steps = 20 such steps τ = 0.95**20 = 0.358 (absolute, layer-ℓ units)
        Condition("digits-epsilon-tau", options={"epsilon": 0.358}, factor="ε",
                  setting="epsilon = 0.358 absolute (τ where S1.2 ends, 0.95^20; "
                          "≈ epsilon_rel 0.26 here)",
                  **choice),
        Condition("digits-solver-adam", options={"solver": "adam"}, factor="solver",
                  setting="adam (S1.2 schedule)", **choice),
        Condition("digits-fill-mean", fill="mean", factor="fidelity fill",
                  setting="image mean", **choice),
        Condition("digits-fill-blur", fill="blur", factor="fidelity fill",
                  setting="blurred copy (σ = 2 px)", **choice),
        Condition("digits-fidelity-continuous", score="continuous", factor="fidelity",
                  setting="continuous: μ + Ê∘(x − μ), no top K", **choice),
        Condition("digits-aggregation-covering", compare="covering", factor="aggregation",
                  setting="range over the decoys covering each feature",
                  **{k: v for k, v in choice.items() if k != "variants"},
                  variants=("none", "covering")),
        # the continuous fidelity favoured DANCE on digits' first half (the choices
        # table): its verdicts, decided before these ran, on every task's second half
        Condition("digits-continuous", "digits", "continuous", cnt or 64, meth,
                  variants=("none", "decoys"), half="second", k=(0.2,), score="continuous",
                  flags=fl),
        Condition("sst-continuous", "sst", "continuous", cnt or 32, meth,
                  variants=("none", "decoys"), half="second", k=(0.2,), score="continuous",
                  flags=fl),
        Condition("ids-continuous", "ids", "continuous", cnt or 32, meth,
                  variants=("none", "decoys"), half="second", k=(0.2,), score="continuous",
                  flags=fl),
        Condition("imagenet-continuous", "imagenet", "continuous", cnt or 40, grad,
                  variants=("none", "decoys"), half="second", k=(0.2,), score="continuous",
                  options=IMAGENET_OPTIONS, note="EfficientNet-Lite0, tiles m = 500"),
        Condition("digits-sanity", "digits", "sanity", cnt or 64, grad, variants=(),
                  half="second", note="cascading randomisation, all weighted layers"),
        Condition("digits-attacks", "digits", "attacks", cnt or 64, grad, variants=(),
                  k=(0.2,), attacks=("topk", "mass_center", "targeted"),
                  flags=("--attack-iterations", str(s.get("attack_iterations", 100)))),
        # ImageNet beyond the gradient: second half only (no choice is made from these),
        # the first 15 / 24 / 40 images in file order hold 12 / 16 / 25 second-half images
        Condition("imagenet-attacks", "imagenet", "attacks", cnt or 15, grad, variants=(),
                  k=(0.2,), attacks=("topk", "mass_center", "targeted"), half="second",
                  options=IMAGENET_SMALL, flags=("--attack-iterations", "100"),
                  note="tiles m = 2000 (2n = 50), 100 sign steps"),
        Condition("imagenet-s9", "imagenet", "s9", cnt or 15,
                  ("expected_gradients", "vargrad", "smoothgrad_range", "ig_uniform",
                   "gradcam"), variants=("none", "decoys"), k=(0.2,), half="second",
                  options=IMAGENET_SMALL, flags=("--ig-steps", "8", "--sg-samples", "8"),
                  note="tiles m = 2000 (2n = 50), 8 samples / steps"),
        Condition("imagenet-igsg", "imagenet", "main", cnt or 40,
                  ("integrated_gradients", "smoothgrad"), variants=("none", "decoys"),
                  half="second", options=IMAGENET_SMALL,
                  flags=("--ig-steps", "10", "--sg-samples", "10"),
                  note="tiles m = 2000 (2n = 50), IG 10 steps, SmoothGrad 10 samples"),
    ]
    for m in (25, 50, 200):
        conds.append(Condition(f"digits-m{m}", "digits", "m", cnt or 32, grad,
                               variants=("none", "decoys"), k=(0.2,),
                               options={"patches_per_mask": m}, factor="m",
                               setting=str(m), flags=fl))
    return conds


# ---------------------------------------------------------------------- base methods
def _output_gradient(kind: str):
    """Gradient of the target's softmax probability or log-probability (what the base
    method explains: §3.5 / Eq. 6 use the probability F^c); logits in, maps out."""
    def method(model, x, targets):
        import tensorflow as tf

        from dance_tf.saliency._core import compiled, finish, num_classes, to_batch, to_targets

        x, was_numpy = to_batch(x)
        t = to_targets(targets, x.shape[0], num_classes(model))

        def build():
            def grad(a, b):
                with tf.GradientTape() as tape:
                    tape.watch(a)
                    logits = model(a, training=False)
                    out = (tf.nn.softmax(logits) if kind == "probability"
                           else tf.nn.log_softmax(logits))
                    chosen = tf.gather(out, b, axis=1, batch_dims=1)
                return tape.gradient(chosen, a)
            return grad

        return finish(compiled(model, (f"gradient_{kind}",), build)(x, t), was_numpy, model, x)

    method.__name__ = f"gradient_{kind}"
    return method


gradient_probability = _output_gradient("probability")
gradient_log_probability = _output_gradient("log_probability")


def register_methods() -> None:
    """Make the output variants known to the method registry by name (evaluate resolves
    base methods by name)."""
    from dance_tf import saliency

    saliency.register("gradient_probability", gradient_probability, graph_safe=True)
    saliency.register("gradient_log_probability", gradient_log_probability, graph_safe=True)


# ---------------------------------------------------------------------- fidelity fills
def fill_image_mean(x: np.ndarray) -> np.ndarray:
    """The mean of image x (H, W, C) per channel, broadcastable to x."""
    x = np.asarray(x, np.float32)
    return x.mean(axis=tuple(range(x.ndim - 1)), keepdims=True)


def fill_blur(x: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """x (H, W, C) blurred by a Gaussian of ``sigma`` pixels over H and W."""
    from scipy.ndimage import gaussian_filter

    x = np.asarray(x, np.float32)
    return gaussian_filter(x, sigma=(sigma, sigma) + (0,) * (x.ndim - 2), mode="nearest")


FILLS = {"mean": fill_image_mean, "blur": fill_blur}


# ---------------------------------------------------------------------- files
def rows_path(folder: Path) -> Path:
    return Path(folder) / "results.jsonl"


def packed_path(folder: Path) -> Path:
    return Path(folder) / "results.jsonl.gz"


def _read_packed(folder: Path) -> bytes:
    """The packed rows' text (b"" when absent); a packed file that is not a regular file
    is refused (a FIFO would block, a device be read without end)."""
    path = packed_path(folder)
    if not regular_or_absent(path, "packed results file"):
        return b""
    with gzip.open(path, "rb") as handle:
        return handle.read()


def _keys(data: bytes, where: Path) -> dict:
    """{row key: the row's line} of complete JSON-lines rows (no configuration check)."""
    out = {}
    for number, line in enumerate(data.split(b"\n")[:-1], start=1):
        try:
            row = json.loads(line)
            out[(row["id"], row["method"], row["variant"])] = line
        except (ValueError, KeyError, TypeError):
            raise EvaluationError(f"{where}: line {number} is not a results row") from None
    return out


def working_state(folder: Path) -> str:
    """Which rows of a condition folder are current: ``none``, ``working`` (the
    git-ignored ``results.jsonl`` holds every packed row, maybe more), ``packed``
    (``results.jsonl.gz`` holds every working row and more: the working file is stale).
    EvaluationError when each holds rows the other lacks (the message names both)."""
    plain = rows_path(folder)
    has_plain = regular_or_absent(plain, "results file")
    packed = _keys(_read_packed(folder), packed_path(folder))
    if not has_plain:
        return "packed" if packed else "none"
    working = _keys(plain.read_bytes(), plain)
    if set(packed) <= set(working):
        return "working"
    if set(working) < set(packed) and all(packed[k] == v for k, v in working.items()):
        return "packed"
    raise EvaluationError(
        f"{folder}: {plain.name} ({len(working)} rows) and {packed_path(folder).name} "
        f"({len(packed)} rows) each hold rows the other lacks; keep the one you want "
        "(move the other away) and run again")


def unpack(folder: Path, log=print) -> None:
    """Restore the working rows from the packed ones when they are absent or stale (a
    fresh checkout, or an old git-ignored ``results.jsonl`` beside newer packed rows)."""
    if working_state(folder) != "packed":
        return
    if rows_path(folder).exists():
        log(f"{rows_path(folder)}: older than {packed_path(folder).name} (fewer rows); "
            "replaced by the packed rows")
    files.write_bytes(rows_path(folder), _read_packed(folder))


def pack(folder: Path) -> None:
    """Write the working rows to ``results.jsonl.gz`` (complete lines only; atomic). Never
    drops a row: EvaluationError if the packed file holds a row the working one lacks."""
    plain = rows_path(folder)
    if not regular_or_absent(plain, "results file"):
        return
    data = plain.read_bytes()
    data = data[: data.rfind(b"\n") + 1]
    lost = set(_keys(_read_packed(folder), packed_path(folder))) - set(_keys(data, plain))
    if lost:
        raise EvaluationError(f"{packed_path(folder)}: holds {len(lost)} rows that "
                              f"{plain.name} lacks; not packed (it would lose them)")
    files.write_bytes(packed_path(folder), gzip.compress(data, mtime=0))


def load_rows(folder: Path, log=print) -> tuple[dict | None, list[dict]]:
    """(config, rows) of a condition folder: the current rows (the working file unless
    the packed one holds more, see :func:`working_state`), checked like the evaluation's
    (task, configuration digest, key fields)."""
    folder = Path(folder)
    cfg = read_config(folder) if folder.is_dir() else None
    if cfg is None:
        return None, []
    check = row_checker(cfg, config_digest(cfg))
    state = working_state(folder)
    if state == "working":
        return cfg, read_rows([rows_path(folder)], check)
    if state == "none":
        return cfg, []
    if rows_path(folder).exists():
        log(f"{rows_path(folder)}: older than {packed_path(folder).name} (fewer rows); "
            "reporting the packed rows")
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "results.jsonl"
        plain.write_bytes(_read_packed(folder))
        rows = read_rows([plain], check)
    return cfg, rows


def read_runs(folder: Path) -> list[dict]:
    path = Path(folder) / "runs.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


# ---------------------------------------------------------------------- running
def run(cond: Condition, root: Path, seed: int = 0, log=print) -> Path:
    """Run one condition through ``dance_tf.evaluation.runner.evaluate`` (resumes, packs
    the rows and logs the wall time even when interrupted); returns its folder. A run the
    evaluation refuses (another configuration, a file it did not write) packs nothing and
    logs nothing: the committed rows stay as they are."""
    from dance_tf.evaluation import cli as evaluation_cli
    from dance_tf.evaluation import runner
    from dance_tf.evaluation.config import EvalConfig
    from dance_tf.tasks import build_task

    register_methods()
    folder = Path(root) / cond.folder
    folder.mkdir(parents=True, exist_ok=True)
    unpack(folder, log)
    args = evaluation_cli.parse(cond.argv(root, seed), prog="reproduce.py")
    options = {"input": None, "model": None, "count": args.count, "seed": args.seed,
               "split_seed": args.split_seed, "log": log, "options": args.options}
    task = build_task(cond.task, options)
    task.explainer_options.update({k: v for k, v in args.options.items()
                                   if k != "preprocessing"})
    if cond.fill is not None:
        task.fill = FILLS[cond.fill]
    if cond.half in ("first", "second"):
        keep = set(halves(task.ids)[0 if cond.half == "first" else 1])
        idx = [i for i, t in enumerate(task.ids) if t in keep]
        task.inputs = [task.inputs[i] for i in idx]
        task.ids = [task.ids[i] for i in idx]
        if task.labels is not None:
            task.labels = [task.labels[i] for i in idx]
        if not idx:
            log(f"{cond.name}: no input of the first {cond.count} is in the {cond.half} "
                "half; nothing to run")
            return folder
    if cond.group == "sanity":
        from dance_tf.study import sanity_run

        return sanity_run.run(task, folder, cond.methods[0], seed=seed, log=log)
    before = len(load_rows(folder, log)[1]) if (folder / "config.json").exists() else 0
    start = time.time()
    status = "interrupted"
    try:
        runner.evaluate(task, EvalConfig.from_namespace(args), log=log)
        status = "complete"
    except (EvaluationError, OutputError):
        status = "refused"   # before any row was computed
        raise
    finally:
        if status != "refused":
            pack(folder)
            after = len(load_rows(folder, log)[1])
            _append_line(folder / "runs.jsonl", json.dumps({
                "start": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start)),
                "wall_seconds": round(time.time() - start, 1), "rows_before": before,
                "rows_after": after, "status": status}))
            if cond.examples and cond.task == "imagenet":
                save_examples(folder, task)
    return folder


def _append_line(path: Path, line: str) -> None:
    """Append one line to ``path`` (created if absent, never through a link)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
                 0o644)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def save_examples(folder: Path, task) -> None:
    """Keep the ImageNet example maps small and committable: the displayed image (uint8)
    and |map| averaged over channels (float16) without and with decoys, in examples.npz."""
    maps = Path(folder) / "maps"
    if not maps.is_dir():
        return
    from dance_tf.plots.images import display_image, magnitude

    out = {}
    for i, tid in enumerate(task.ids):
        a, b = maps / f"{tid}__gradient__none.npy", maps / f"{tid}__gradient__decoys.npy"
        if a.exists() and b.exists():
            img = display_image(np.asarray(task.inputs[i]))
            out[f"{tid}|image"] = (img * 255).round().astype(np.uint8)
            out[f"{tid}|none"] = magnitude(np.load(a)).astype(np.float16)
            out[f"{tid}|decoys"] = magnitude(np.load(b)).astype(np.float16)
    if out:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **out)
        files.write_bytes(Path(folder) / "examples.npz", buffer.getvalue())
