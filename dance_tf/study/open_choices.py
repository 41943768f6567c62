"""What the study's open choices change that ``evaluate`` has no setting for.

The base method's output (§3.5 / Eq. 6 explain the probability F^c; the package explains
the logit): :func:`gradient_probability` and :func:`gradient_log_probability`, made known
to the method registry by :func:`register_methods`. The fidelity fill (the package fills
removed features with 0): the image mean per channel or a blurred copy, :data:`FILLS`.
"""

from __future__ import annotations

import numpy as np


def _output_gradient(kind: str):
    """Gradient of the target's softmax probability or log-probability (what the base
    method explains: §3.5 / Eq. 6 use the probability F^c); logits in, maps out."""
    def method(model, x, targets):
        import tensorflow as tf

        from dance_tf.saliency._core import compiled, finish, num_classes, to_batch, to_targets

        x, was_numpy = to_batch(x)
        t = to_targets(targets, x.shape[0], num_classes(model))

        def build():
            def grad(a, b):
                with tf.GradientTape() as tape:
                    tape.watch(a)
                    logits = model(a, training=False)
                    out = (tf.nn.softmax(logits) if kind == "probability"
                           else tf.nn.log_softmax(logits))
                    chosen = tf.gather(out, b, axis=1, batch_dims=1)
                return tape.gradient(chosen, a)
            return grad

        return finish(compiled(model, (f"gradient_{kind}",), build)(x, t), was_numpy, model, x)

    method.__name__ = f"gradient_{kind}"
    return method


gradient_probability = _output_gradient("probability")
gradient_log_probability = _output_gradient("log_probability")


def register_methods() -> None:
    """Make the output variants known to the method registry by name (evaluate resolves
    base methods by name)."""
    from dance_tf import saliency

    saliency.register("gradient_probability", gradient_probability, graph_safe=True)
    saliency.register("gradient_log_probability", gradient_log_probability, graph_safe=True)


def fill_image_mean(x: np.ndarray) -> np.ndarray:
    """The mean of image x (H, W, C) per channel, broadcastable to x."""
    x = np.asarray(x, np.float32)
    return x.mean(axis=tuple(range(x.ndim - 1)), keepdims=True)


def fill_blur(x: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """x (H, W, C) blurred by a Gaussian of ``sigma`` pixels over H and W."""
    from scipy.ndimage import gaussian_filter

    x = np.asarray(x, np.float32)
    return gaussian_filter(x, sigma=(sigma, sigma) + (0,) * (x.ndim - 2), mode="nearest")


FILLS = {"mean": fill_image_mean, "blur": fill_blur}
