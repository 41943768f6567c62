"""Explanation attacks of Ghorbani et al. 2017 (§4.4 of the paper): top-k, targeted region
and mass-center attacks on saliency maps, keeping the model's prediction unchanged."""

from dance_tf.attacks._common import AttackInfo, pixel_saliency
from dance_tf.attacks.mass_center import mass_center_attack
from dance_tf.attacks.report import robustness_report
from dance_tf.attacks.softplus import BetaSoftplus, softplus_copy
from dance_tf.attacks.targeted import default_region, targeted_attack
from dance_tf.attacks.topk import topk_attack

__all__ = ["topk_attack", "targeted_attack", "mass_center_attack", "AttackInfo",
           "softplus_copy", "BetaSoftplus", "pixel_saliency", "default_region",
           "robustness_report"]
