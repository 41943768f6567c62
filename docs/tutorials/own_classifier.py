# %% [markdown]
# # 1. Explain your own keras.applications classifier
#
# This tutorial takes a `keras.applications` network, explains one image with DANCE, and
# reads what comes back: the map, the layer ℓ and the decoys, the certificate, and how to
# keep the number of decoys small on large images (`packing="tiles"`).
#
# So that nothing is downloaded, the network is a MobileNetV2 with random weights
# (`weights=None`) at a small input size, and the image is a smooth synthetic picture.
# With your own trained model, pass it instead: everything below is unchanged.
# `DANCE_TF_TUTORIAL_SMALL=1` (set by the test suite) makes everything tiny.

# %%
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import dance_tf

SMALL = os.environ.get("DANCE_TF_TUTORIAL_SMALL") == "1"
SIZE = 32 if SMALL else 96           # input side in pixels

# %% [markdown]
# ## The model
#
# DANCE explains the **logits** (the pre-softmax scores), so build the classifier without
# its final softmax (`classifier_activation=None`). A model that ends in a softmax is
# refused with an `InputError` unless dance_tf can strip the softmax itself.

# %%
keras.utils.set_random_seed(0)
model = keras.applications.MobileNetV2(weights=None, input_shape=(SIZE, SIZE, 3),
                                       classes=10, classifier_activation=None)
print(model.name, model.input_shape, "→", model.output_shape)

# %% [markdown]
# ## An image and its legal range
#
# `value_range` is the range every feature may take: the decoys are optimised inside it.
# MobileNetV2 expects pixels scaled to [−1, 1].

# %%
yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
image = np.stack([np.sin(6 * xx), np.cos(5 * yy), np.sin(4 * (xx + yy))], -1)
x = image.astype(np.float32)                     # (SIZE, SIZE, 3) in [−1, 1]
value_range = (-1.0, 1.0)

plt.imshow((x + 1) / 2)
plt.title("the input")
_ = plt.axis("off")

# %% [markdown]
# ## A first map
#
# `dance_tf.explain` explains the predicted class (`target=None`) with the gradient as the
# base method. `return_details=True` returns an `Explanation` instead of the bare map.

# %%
res = dance_tf.explain(model, x, value_range=value_range, return_details=True)
print("target class:", res.target)
print("map:", res.saliency.shape, "one score per pixel:", res.feature_saliency.shape)

# %% [markdown]
# ## What ℓ and the decoys are
#
# A **decoy** x̃ is a copy of x changed only inside a mask M (a group of small P×P
# patches), as far as possible, while the network's activations at an intermediate
# layer **ℓ** stay within ε of x's: ‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≤ ε (§3.3). For each mask there
# are two decoys, one pushed up (s = +1) and one down (s = −1): 2n decoys for n masks.
# The base method explains every decoy; the DANCE map is, per pixel, the range
# (max − min) of those 2n maps (Eq. 3).
#
# ℓ defaults to the second conv/pool/dense layer; pass `layer=` (a layer name or a
# 1-based index) to choose.

# %%
print("layer ℓ:", res.layer)
print("masks:", res.masks.shape, " decoys:", res.decoys.shape)
moved = np.abs(res.decoys - x[None]).max(axis=(1, 2, 3))
print("largest pixel change per decoy: min / median / max =",
      np.round([moved.min(), np.median(moved), moved.max()], 3))

# %%
fig, axes = plt.subplots(1, 4, figsize=(10, 2.6))
axes[0].imshow(res.masks[0][..., 0], cmap="gray")
axes[0].set_title("mask 0")
axes[1].imshow(np.clip((res.decoys[0] + 1) / 2, 0, 1))
axes[1].set_title("decoy 0 (s = +1)")
base = dance_tf.Explainer(model, value_range=value_range).base_map(x)
axes[2].imshow(np.abs(base).sum(-1), cmap="magma")
axes[2].set_title("gradient, no decoys")
axes[3].imshow(res.feature_saliency, cmap="magma")
axes[3].set_title("DANCE")
for a in axes:
    a.axis("off")

# %% [markdown]
# ## Reading the certificate
#
# Every returned decoy is checked after the optimisation: `max_deviation[i]` is
# ‖F_ℓ(x̃ᵢ) − F_ℓ(x)‖∞ computed in float32, `epsilon` the bound, and `certified[i]`
# says the decoy met it. A decoy that could not be certified is replaced by x itself
# (it then adds nothing to the range), so the map only ever uses certified decoys.
# `fraction_certified` summarises; if no decoy moved at all, dance_tf warns
# (`DecoyWarning`) because the map then carries no decoy information.

# %%
print("epsilon:", res.epsilon)
print("max deviation ≤ epsilon:", bool(np.all(res.max_deviation <= res.epsilon)))
print("certified:", int(res.certified.sum()), "of", res.certified.size,
      f"({res.fraction_certified:.0%})")
print("decoys that moved:", int(res.moved.sum()))

# %% [markdown]
# ## Packing for large images
#
# With the paper's packing (`packing="paper"`: raster groups of m = `patches_per_mask`
# patches, S1.1) the number of decoys grows with the image: about 2·H·W / m. On a 224²
# photo that is almost 1,000 decoys. `packing="tiles"` puts one compact block of about m
# patches in each mask, so a larger m gives few decoys (at the same m it can make a few
# more masks than the paper's rows; it pays with a large m), and `use_crops` (on by
# default) then evaluates layer ℓ on crops around those compact blocks. `packing="auto"`
# chooses the tile size for you: at most `target_decoys` decoys (200 by default; 20 here),
# and the paper's own masks when they already make no more than that. Whether few tiles
# cost fidelity on ImageNet is still being measured (REPRODUCTION.md), so `paper` stays
# the default.

# %%
for packing, m, target in [("paper", 100, 200), ("tiles", 100, 200), ("tiles", 400, 200),
                           ("auto", 100, 20)]:
    r = dance_tf.explain(model, x, value_range=value_range, packing=packing,
                         patches_per_mask=m, return_details=True,
                         **({"target_decoys": target} if packing == "auto" else {}))
    print(f"packing={packing!r:9} patches_per_mask={m:4}: {len(r.decoys):4} decoys, "
          f"{r.fraction_certified:.0%} certified")

# %% [markdown]
# For many images, build one `dance_tf.Explainer(model, value_range=..., packing="tiles",
# patches_per_mask=...)` and call it on a batch: it compiles once. Every option is on the
# [Options](../options.md) page.
