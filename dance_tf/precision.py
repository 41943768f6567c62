"""Reduced precision for the decoy optimiser's inner loop (issue 6: mixed precision).

The decoy loop runs layers 1..ℓ forward and backward k times per decoy: almost all of a
decoy's cost. ``precision="bfloat16"`` runs that loop on a copy of F_ℓ whose layers compute
in bfloat16 (Keras' ``mixed_bfloat16`` policy: float32 weights cast per call), while the
reference F_ℓ(x) used for the certificate, the certificate itself
(‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≤ ε) and the base method stay in float32. A decoy that meets the bound
in bfloat16 but not in float32 is reported uncertified and replaced by x, as any other.
Measured (BENCHMARKS.md): 1.8× faster fwd+bwd of vgg_16 up to pool1 on a CPU with
AVX512-BF16; slower on small nets and CPUs without bf16 units; on GPUs with bf16 tensor
cores it should help more.
"""

from __future__ import annotations

import keras

PRECISIONS = ("float32", "bfloat16")


def loop_model(f_l: keras.Model, precision: str) -> keras.Model:
    """F_ℓ itself (float32) or a copy of it computing in ``precision`` (weights copied
    now: later changes to the model's weights do not reach the copy)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {PRECISIONS}, got {precision!r}")
    if precision == "float32":
        return f_l
    policy = keras.DTypePolicy(f"mixed_{precision}")

    def clone(layer):
        if isinstance(layer, keras.Model):
            return keras.models.clone_model(layer, clone_function=clone)
        config = layer.get_config()
        config["dtype"] = policy
        return layer.__class__.from_config(config)

    try:
        copy = keras.models.clone_model(f_l, clone_function=clone)
        copy.set_weights(f_l.get_weights())
    except Exception as err:  # noqa: BLE001 - any layer that cannot be rebuilt from config
        raise ValueError(f"precision={precision!r}: layers 1..ℓ cannot be copied to "
                         f"{precision} ({type(err).__name__}: {err}); use "
                         "precision='float32'") from err
    return copy
