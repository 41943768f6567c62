"""The study's conditions: each is a valid evaluate command line."""

from __future__ import annotations

from dance_tf.study import conditions


def test_every_condition_parses_as_evaluate_flags(tmp_path):
    from dance_tf.evaluation import cli as ev_cli

    conds = conditions.conditions()
    assert len({c.name for c in conds}) == len(conds)
    for c in conds:
        args = ev_cli.parse(c.argv(tmp_path, 0))
        assert args.methods == list(c.methods)
        assert args.k == list(c.k)
