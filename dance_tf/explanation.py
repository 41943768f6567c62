"""What one explanation returns (§3.3–3.4), and the warning for maps without decoy
information: ``Explanation``, ``DecoyWarning`` and the packing of the compiled pipeline's
outputs into them (``pack``)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from dance_tf.errors import InputError
from dance_tf.features import feature_axes, feature_scores
from dance_tf.inputs import check_degenerate_maps


@dataclass
class Explanation:
    """Result of one explanation (shapes for an input x of shape S).

    saliency: (*S) decoy-enhanced map (range or mean over the 2n maps, §3.4);
    feature_saliency: one score per feature (pixels (H, W), words (T,), features (F,)),
    the mean of |saliency| over channels / embedding dimensions;
    masks: (n, *S) 0/1; decoys: (2n, *S) — decoys[i] uses masks[i] with s = +1 and
    decoys[n + i] uses masks[i] with s = −1 (for the constant ablation: (n, *S));
    max_deviation: (2n,) ‖F_ℓ(x̃) − F_ℓ(x)‖∞; certified: (2n,) bool; steps: (2n,)
    solver steps run (Adam steps; or 1 for the line search + refinement rounds
    that moved); epsilon:
    the bound used; target: class index; layer: the path of ℓ ("outer/inner/layer");
    layer_reason: why ℓ was chosen; explained: what the map explains (e.g. "logits (final
    softmax stripped)"); notes: statements about the model (mixed precision, ...).
    objective: (2n,) ‖((x̃ − x)·s)⁺ ∘ M‖₁ of each returned decoy, in x's units (0: the decoy
    is x itself: it did not move or was not certified); pinned: (2n,) bool, every movable
    feature of the mask at its bound in direction s; against: (2n,) share of the mask's
    movable features that moved against s; informative: False when no decoy moved (a
    range map is then all zero and says nothing: a warning is raised too).
    """

    saliency: np.ndarray
    feature_saliency: np.ndarray
    masks: np.ndarray
    decoys: np.ndarray
    max_deviation: np.ndarray
    certified: np.ndarray
    steps: np.ndarray
    epsilon: float
    target: int
    layer: str
    method: str
    perturbation: str
    aggregation: str
    objective: np.ndarray | None = None
    pinned: np.ndarray | None = None
    against: np.ndarray | None = None
    informative: bool = True
    explained: str = "logits"
    layer_reason: str = ""
    notes: tuple = ()
    extras: dict = field(default_factory=dict)

    @property
    def fraction_certified(self) -> float:
        return float(np.mean(self.certified)) if self.certified.size else float("nan")

    @property
    def moved(self) -> np.ndarray | None:
        """(2n,) bool: the decoy differs from x (objective > 0); None for the ablations."""
        return None if self.objective is None else self.objective > 0


class DecoyWarning(UserWarning):
    """A decoy-enhanced map that carries no decoy information (no decoy moved)."""


def check_informative(perturbation: str, certified: np.ndarray, objective: np.ndarray
                       ) -> bool:
    """Warn (``DecoyWarning``) when no decoy of an input moved or none was certified;
    returns True in that case. Only for ``perturbation="decoys"``."""
    if perturbation != "decoys" or certified.size == 0:
        return False
    if not certified.any():
        warnings.warn(f"none of the {certified.size} decoys could be certified: every decoy "
                      "was replaced by x, so the map carries no decoy information (check "
                      "epsilon, value_range and the model's outputs for NaN)",
                      DecoyWarning, stacklevel=3)
        return True
    failed = int(np.sum(~certified.astype(bool)))
    if failed:
        warnings.warn(f"{failed} of {certified.size} decoys failed their certificate "
                      "(‖F_ℓ(x̃) − F_ℓ(x)‖∞ > ε) and were replaced by x; the map uses the "
                      f"other {certified.size - failed}", DecoyWarning, stacklevel=3)
    if not (objective > 0).any():
        warnings.warn(f"none of the {certified.size} decoys moved from x (epsilon too small "
                      "for any move, or x at the bounds of value_range): the map carries no "
                      "decoy information", DecoyWarning, stacklevel=3)
        return True
    return False


def pack(outputs, x: np.ndarray, plan, logits, *, method: str, perturbation: str,
         aggregation: str, explained: str, notes: tuple, return_details: bool):
    """Turn the outputs of ``plan.run`` on one input x (*S) into a map (*S) or an
    ``Explanation``; a non-finite model output or map is an error, not a result. logits:
    the model explained; the keywords are recorded in the ``Explanation``."""
    sal, finite = outputs["saliency"].numpy(), outputs["finite"]
    if not bool(finite.numpy()):
        raise InputError("x: the model computes non-finite values at this input (its "
                         "logits or layer ℓ overflow or hold NaN): the explanation "
                         "cannot be computed")
    if not np.all(np.isfinite(sal)):
        raise FloatingPointError(f"saliency: the {method!r} map is not finite "
                                 "at this input (NaN or inf in the base method's "
                                 "gradients): no map is returned")
    check_degenerate_maps(logits, x[None], sal[None])
    cert_np, objective_np = outputs["certified"].numpy(), outputs["objective"].numpy()
    uninformative = check_informative(perturbation, cert_np, objective_np)
    if not return_details:
        return sal
    shape = tuple(sal.shape)
    return Explanation(
        saliency=sal,
        feature_saliency=feature_scores(sal, feature_axes(shape), "abs_mean"),
        masks=plan.masks,
        decoys=outputs["decoys"].numpy(),
        max_deviation=outputs["max_deviation"].numpy(),
        certified=cert_np,
        steps=outputs["steps"].numpy(),
        objective=objective_np,
        pinned=outputs["pinned"].numpy(),
        against=outputs["against"].numpy(),
        informative=not uninformative,
        epsilon=float(outputs["epsilon"].numpy()),
        target=int(outputs["target"].numpy()),
        layer=plan.layer,
        layer_reason=plan.layer_reason,
        explained=explained,
        notes=notes,
        method=method,
        perturbation=perturbation,
        aggregation=aggregation,
    )
