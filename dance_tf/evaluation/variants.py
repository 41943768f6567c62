"""The base methods and variants an evaluation compares, and the options of each."""

from __future__ import annotations

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
#: Explainer settings of each variant that uses the explainer (``none`` is its base map)
EXPLAINER_VARIANTS = {
    "decoys": {"perturbation": "decoys", "aggregation": "range"},
    "mean": {"perturbation": "decoys", "aggregation": "mean"},
    "constant": {"perturbation": "constant", "aggregation": "range"},
    "noise": {"perturbation": "noise", "aggregation": "range"},
    "covering": {"perturbation": "decoys", "aggregation": "range_covering"},
}
#: short names of the methods in tables and figures
SHORT = {"gradient": "Gradient", "integrated_gradients": "IntegratedGrad",
         "smoothgrad": "SmoothGrad"}
#: the explanation attacks of §4.4 (a variant ``attack:<name>``)
ATTACKS = ("topk", "targeted", "mass_center")


def method_options(method: str, config) -> dict:
    """The options of base ``method`` that the settings fix (IG steps, SmoothGrad samples
    and noise); ``config`` is anything with ``ig_steps``, ``sg_samples``, ``sg_noise``."""
    if method == "integrated_gradients":
        return {"steps": config.ig_steps}
    if method in ("smoothgrad", "vargrad", "smoothgrad_range"):
        return {"samples": config.sg_samples, "noise": config.sg_noise}
    if method == "expected_gradients":
        return {"samples": config.sg_samples}
    if method == "ig_uniform":
        return {"steps": config.ig_steps}
    return {}


def method_order(method: str) -> tuple:
    """Sort key: the methods of METHODS in their order, then any other by name."""
    return (METHODS.index(method) if method in METHODS else len(METHODS), method)
