"""The reproduction study (issue 14): the paper's claims run through ``dance_tf.evaluation``.

``claims``: the paper's numbers and which rows answer each claim; ``verdicts``: the halves
split, paired statistics and verdict words; ``conditions``: the runs (one evaluate folder
each); ``open_choices``: the base-method outputs and fidelity fills the open choices try;
``condition_run`` / ``sanity_run``: running one condition; ``folders``: a condition
folder's rows, packed and working, and its log of sittings; ``report``: REPRODUCTION.md
and its figures, from ``rows`` (the loaded rows), ``fidelity_tables`` and
``sensitivity_tables``. Entry point: ``scripts/reproduce.py`` (``dance-tf reproduce``).
"""
