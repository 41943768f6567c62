"""Evaluation metrics (§4.2, §4.4, S6, S12, S14; issue 25: deletion / insertion, MuFidelity,
ROAD, max / avg sensitivity, efficient MPRT, pointing game, relevance mass, sparseness)."""

from dance_tf.metrics.attack_report import (
    attack_report,
    center_shift,
    mass_center,
    rank_correlation,
    topk_intersection,
)
from dance_tf.metrics.complexity import sparseness
from dance_tf.metrics.deletion import (
    Curve,
    deletion_auc,
    deletion_curve,
    insertion_auc,
    insertion_curve,
)
from dance_tf.metrics.directions import DIRECTION
from dance_tf.metrics.fidelity import fidelity, fidelity_continuous
from dance_tf.metrics.localization import (
    box_iou,
    localization_accuracy,
    localization_iou,
    saliency_box,
    threshold_mask,
)
from dance_tf.metrics.mufidelity import mufidelity
from dance_tf.metrics.pointing import pointing_game, relevance_mass
from dance_tf.metrics.randomisation import efficient_mprt
from dance_tf.metrics.road import RoadCurves, road, road_curves
from dance_tf.metrics.robustness import avg_sensitivity, max_sensitivity
from dance_tf.metrics.sanity import CascadeResult, cascading_randomization, map_ssim
from dance_tf.metrics.sensitivity import sensitivity
from dance_tf.metrics.stats import PairedStats, paired_stats
from dance_tf.metrics.topk import topk_binarize

__all__ = ["fidelity", "fidelity_continuous", "paired_stats", "PairedStats", "topk_binarize",
           "sensitivity",
           "attack_report", "topk_intersection", "rank_correlation", "mass_center",
           "center_shift", "cascading_randomization", "CascadeResult", "map_ssim",
           "threshold_mask", "saliency_box", "box_iou", "localization_iou",
           "localization_accuracy",
           "DIRECTION", "deletion_auc", "insertion_auc", "deletion_curve", "insertion_curve",
           "Curve", "mufidelity", "road", "road_curves", "RoadCurves", "max_sensitivity",
           "avg_sensitivity", "sparseness", "pointing_game", "relevance_mass",
           "efficient_mprt"]
