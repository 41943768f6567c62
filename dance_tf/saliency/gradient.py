"""Vanilla gradient (Simonyan et al. 2013; §2 of the paper): E = ∇_x F^c(x)."""

from __future__ import annotations

from dance_tf.saliency._core import (
    compiled,
    explained,
    finish,
    logit_gradients,
    num_classes,
    to_batch,
    to_targets,
)


def gradient(model, x, targets):
    """Gradient of the target logit with respect to the input.

    x: (N, ...) float array or tensor; targets: (N,) ints. Returns maps shaped like x
    (numpy in → numpy out). The logit is pre-softmax (the model must output logits).
    """
    model = explained(model)   # the contract's logits (§2)
    x, was_numpy = to_batch(x, model=model)
    t = to_targets(targets, x.shape[0], num_classes(model))
    fn = compiled(model, ("gradient",), lambda: lambda a, b: logit_gradients(model, a, b))
    return finish(fn(x, t), was_numpy, model, x)
