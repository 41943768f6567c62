"""The conditions of the reproduction study: one evaluation folder each.

A condition is a task plus the evaluate settings of one table (methods, variants, K, the
explainer options, the fidelity fill, which inputs). :mod:`dance_tf.study.condition_run`
runs it through ``dance_tf.evaluation.runner.evaluate`` (rows stream to
``ROOT/<name>/results.jsonl``, resumable); after a run the rows are packed to
``results.jsonl.gz`` (the committed raw rows) and the wall time is appended to
``runs.jsonl`` (:mod:`dance_tf.study.folders`). A fresh checkout resumes from the packed
rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ALL_VARIANTS = ("none", "decoys", "constant", "noise", "mean")
FIDELITY_K = (0.1, 0.2, 0.4)
IMAGENET_OPTIONS = {"packing": "tiles", "patches_per_mask": 500}
#: the costlier ImageNet runs (IG, SmoothGrad, S9 methods, attacks): 25 tiles, 2n = 50
IMAGENET_SMALL = {"packing": "tiles", "patches_per_mask": 2000}
#: the report card's metrics the study adds (issue 25), fixed before any of them ran:
#: each with its defaults in ``dance_tf.evaluation.card_metrics``
CARD_METRICS = ("deletion_auc", "insertion_auc", "mufidelity", "road", "max_sensitivity")
#: the card's variants: without decoys, DANCE, and the base method given as many model
#: evaluations as DANCE used (SmoothGrad's mean with 2n draws: ``evaluation.matched``)
CARD_VARIANTS = ("none", "decoys", "matched")


@dataclass
class Condition:
    """One evaluate folder: ``name`` (folder under the study root), ``task``, settings.

    half: ``all`` inputs, only the ``first`` half (the open choices) or only the
    ``second`` (a choice confirmed after it was made on the first); fill: None (the
    task's), ``mean`` (the image mean per channel) or ``blur`` (a Gaussian-blurred copy);
    group: ``main`` (claims), ``choices`` (open choices), ``attacks``, ``s9``, ``m``,
    ``sanity`` (S6, run by ``dance_tf.study.sanity_run``, not evaluate), ``card`` (the
    report card's ``metrics`` through ``evaluation.evaluate_model``: rows.jsonl), ``prereg``
    (issue 26's pre-registered claims, :mod:`dance_tf.study.prereg_run`);
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
    metrics: tuple = ()

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
        if self.metrics:   # the report card's mode of evaluate (evaluate_model)
            out += ["--metrics", ",".join(self.metrics)]
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
    # the report card's metrics (issue 25) on second halves: gradient, none / decoys /
    # compute-matched, each metric at its defaults (chosen before any ran)
    conds += [
        Condition("digits-card", "digits", "card", cnt or 64, grad, variants=CARD_VARIANTS,
                  half="second", metrics=CARD_METRICS, k=(0.2,), flags=fl,
                  note="report-card metrics (issue 25)"),
        Condition("imagenet-card", "imagenet", "card", cnt or 40, grad,
                  variants=CARD_VARIANTS, half="second", metrics=CARD_METRICS, k=(0.2,),
                  options=IMAGENET_SMALL,
                  note="report-card metrics (issue 25); tiles m = 2000 (2n = 50)"),
    ]
    # issue 26's pre-registered claims (reproduction/PREREGISTRATION.md): three nets, four
    # blocks of maps, run turn by turn by dance_tf.study.prereg_run (not evaluate)
    conds.append(Condition("preregistered", "imagenet", "prereg", 103,
                           ("gradient", "smoothgrad", "integrated_gradients",
                            "expected_gradients"), variants=(), half="second",
                           note="EfficientNet-Lite0/1/2; claims C1–C5 and their controls"))
    for m in (25, 50, 200):
        conds.append(Condition(f"digits-m{m}", "digits", "m", cnt or 32, grad,
                               variants=("none", "decoys"), k=(0.2,),
                               options={"patches_per_mask": m}, factor="m",
                               setting=str(m), flags=fl))
    return conds
