"""Which way each metric improves: ``DIRECTION[name]`` is "higher" or "lower" (is better).

Keys are the public function names in :mod:`dance_tf.metrics`; ``road`` is its default
``order="gap"``, ``road_morf`` / ``road_lerf`` its other two orders.
"""

from __future__ import annotations

DIRECTION: dict[str, str] = {
    # faithfulness
    "fidelity": "lower",              # −log p of the top-K input (Eq. 6)
    "fidelity_continuous": "lower",
    "deletion_auc": "lower",          # Petsiuk et al. 2018
    "insertion_auc": "higher",
    "mufidelity": "higher",           # Bhatt et al. 2020
    "road": "higher",                 # Rong et al. 2022, mean LeRF − MoRF
    "road_morf": "lower",
    "road_lerf": "higher",
    # robustness
    "sensitivity": "lower",           # Eq. 7 under the paper's attacks
    "max_sensitivity": "lower",       # Yeh et al. 2019
    "avg_sensitivity": "lower",
    # randomisation
    "efficient_mprt": "higher",       # Hedström et al. 2024
    # localisation
    "pointing_game": "higher",        # Zhang et al. 2018
    "relevance_mass": "higher",       # Arras et al. 2022
    "localization_iou": "higher",
    # complexity
    "sparseness": "higher",           # Chalasani et al. 2020
}
