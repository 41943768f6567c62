"""The decoy solver (§3.3 Eq. 2, S1.2, §4.3): ``solve`` (the solver switch, ``optimise``),
``certificate`` (each decoy certified, or replaced by x), ``line_search`` (the default
solver), ``adam`` (S1.2's schedule), ``settings`` (``DecoySettings``: the solver's checked
options, no TensorFlow), ``perturbations`` (the strategies the pipeline runs: decoys or an
ablation) and ``ablations`` (the §4.3 constant and noise values). Import the modules;
this package re-exports nothing (importing it loads no TensorFlow)."""
