"""Reproduction study of DANCE (issue 14): run the paper's protocols, write REPRODUCTION.md.

    python scripts/reproduce.py                      # every condition, in priority order
    python scripts/reproduce.py --only digits,imagenet
    python scripts/reproduce.py --report-only        # tables and figures from the rows

Rows stream to ``reproduction/<condition>/results.jsonl`` through dance_tf.evaluation
(resumable: a rerun skips what is done) and are packed to ``results.jsonl.gz`` after each
condition; see dance_tf.study.
"""

from __future__ import annotations

import sys

from dance_tf.study.cli import main

if __name__ == "__main__":
    sys.exit(main())
