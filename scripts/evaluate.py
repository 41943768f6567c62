#!/usr/bin/env python
"""Batch evaluation of DANCE (see dance_tf/evaluation); no arguments: the digits default."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dance_tf.evaluation.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
