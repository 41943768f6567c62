"""``python -m dance_tf.cli``: the ``dance-tf`` command."""

from dance_tf.cli import main

raise SystemExit(main())
