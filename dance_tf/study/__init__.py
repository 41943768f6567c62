"""The reproduction study (issue 14): the paper's claims run through ``dance_tf.evaluation``.

``claims``: the paper's numbers and which rows answer each claim; ``verdicts``: the halves
split, paired statistics and verdict words; ``conditions``: the runs (one evaluate folder
each) and how they are executed and packed; ``report``: REPRODUCTION.md and its figures.
Entry point: ``scripts/reproduce.py`` (``dance-tf reproduce``).
"""
