"""The model side of an ``Explainer`` (§2): the model contract resolved where the model
enters (or on the first input, for a model that declares none), its logits checked once
for probabilities, the class count, and the base method's map without decoys on those
logits (§4.2's "without decoys" column)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dance_tf import inputs, model_contract
from dance_tf.layers import class_count


class ExplainedModel:
    """A Keras classifier as DANCE explains it: ``contract()`` (``dance_tf.model_contract``)
    and the float32 ``logits`` it explains. Checked on construction when the model declares
    its input; else built on the first input given to ``resolve``. ``resolved``: the
    contract once known, else None."""

    def __init__(self, model, output=None):
        model_contract.check_type(model)
        self.model, self.output = model, output
        self.resolved: model_contract.ModelContract | None = None
        self._probed = False
        if model_contract.declares_input(model):
            self.contract()   # checked where the model enters

    def contract(self, example=None) -> model_contract.ModelContract:
        """The checked contract; example (an input or a batch) builds a model that declares
        no input."""
        if self.resolved is None:
            self.resolved = model_contract.contract(self.model, self.output, example)
        return self.resolved

    def resolve(self, x) -> None:
        """Resolve the contract before reading x: from the model when it declares its
        input, else by building it on x (a dataset is then read twice)."""
        if self.resolved is None:
            self.contract(None if model_contract.declares_input(self.model)
                          else inputs.gather(x, None))

    @property
    def input_shape(self) -> tuple | None:
        """One unbatched input's shape S as declared (None axes: any size); None before the
        contract is resolved."""
        return None if self.resolved is None else self.resolved.input_shape

    def logits(self, shape) -> object:
        """The model of the float32 logits; refused (once checked) when its outputs look
        like probabilities at inputs of ``shape``."""
        c = self.contract()
        if not self._probed:
            inputs.refuse_probabilities(c.logits, tuple(shape))
            self._probed = True
        return c.logits

    def n_classes(self, xt) -> int:
        """The number of classes: the logits' static width, else one forward pass of xt (*S)."""
        logits = self.logits(tuple(np.shape(xt)))
        width = class_count(logits)
        if width is not None:
            return width
        return int(logits(xt[None], training=False).shape[-1])

    def base_maps(self, method, options: dict, x, targets=None) -> np.ndarray:
        """``method(logits, xs, targets, **options)`` on one input (*S) or a batch (N, *S)
        — numpy, a tensor or a dataset, as ``Explainer.__call__`` takes them — for targets
        (None: the predicted classes); maps shaped like x (numpy)."""
        self.resolve(x)
        x, targets, batched = inputs.gather_targets(x, targets, self.input_shape)
        xs = np.stack([inputs.check_input(xi, self.input_shape)
                       for xi in (x if batched else x[None])])
        logits = self.logits(tuple(xs.shape[1:]))
        if targets is None:
            t = np.argmax(np.asarray(logits(tf.constant(xs), training=False)), axis=-1)
        else:
            n_cls = self.n_classes(xs[0])
            given = inputs.batch_targets(targets if batched else [targets], len(xs))
            t = np.array([inputs.check_target(v, n_cls) for v in given])
        maps = np.asarray(method(logits, xs, t.astype(np.int32), **options), np.float32)
        inputs.check_degenerate_maps(logits, xs, maps)   # an overflow a compiled graph hid
        return maps if batched else maps[0]
