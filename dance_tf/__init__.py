"""dance_tf: DANCE decoy-enhanced saliency maps (Lu, Guo, Xing, Noble, ICML 2021).

``dance_tf.explain(model, x)`` explains one input; ``dance_tf.Explainer`` is the reusable,
compiled-once explainer behind it; ``dance_tf.saliency`` holds the base methods.
"""

from dance_tf.explainer import Explainer, Explanation, explain

__version__ = "0.1.0"

__all__ = ["Explainer", "Explanation", "explain", "__version__"]
