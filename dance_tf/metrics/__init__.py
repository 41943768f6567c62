"""Evaluation metrics (§4.2, §4.4, S6, S12, S14)."""

from dance_tf.metrics.attack_report import (
    attack_report,
    center_shift,
    mass_center,
    rank_correlation,
    topk_intersection,
)
from dance_tf.metrics.fidelity import fidelity, fidelity_continuous
from dance_tf.metrics.localization import (
    box_iou,
    localization_accuracy,
    localization_iou,
    saliency_box,
    threshold_mask,
)
from dance_tf.metrics.sanity import CascadeResult, cascading_randomization, map_ssim
from dance_tf.metrics.sensitivity import sensitivity
from dance_tf.metrics.stats import PairedStats, paired_stats
from dance_tf.metrics.topk import topk_binarize

__all__ = ["fidelity", "fidelity_continuous", "paired_stats", "PairedStats", "topk_binarize",
           "sensitivity",
           "attack_report", "topk_intersection", "rank_correlation", "mass_center",
           "center_shift", "cascading_randomization", "CascadeResult", "map_ssim",
           "threshold_mask", "saliency_box", "box_iou", "localization_iou",
           "localization_accuracy"]
