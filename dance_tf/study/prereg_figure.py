"""The confirmatory results of the pre-registered run as one picture (issue 26): for each
claim a panel, for each net its mean DANCE − plain with the 95 % interval, coloured by the
Holm verdict; left of zero is better with decoys."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dance_tf.plots._figure import save, subplots
from dance_tf.study import prereg_plan as plan

#: marker colour of each verdict ("not evaluated" is written, not drawn)
COLOURS = {"decoys help": "tab:green", "decoys hurt": "tab:red",
           "no difference shown": "tab:grey"}


def forest(entries: list[dict], path) -> Path:
    """Write the forest plot of ``entries`` (``prereg_tables.analysis(...)["confirmatory"]``)
    to ``path`` (PNG); returns the path."""
    claims = list(plan.CLAIMS)
    fig, axes = subplots(len(claims), 1, figsize=(6.4, 1.2 * len(claims) + 0.8),
                         squeeze=False)
    for ax, cid in zip(axes[:, 0], claims):
        nets = [e for e in entries if e["claim"] == cid]
        for y, e in enumerate(reversed(nets)):
            t = e["test"]
            if t is None or not np.isfinite(t.mean):
                ax.text(0, y, "not evaluated", ha="center", va="center", fontsize=8)
                continue
            ax.errorbar([t.mean], [y], xerr=[[t.mean - t.low], [t.high - t.mean]], fmt="o",
                        color=COLOURS[e["verdict"]], ecolor="black", capsize=3,
                        markeredgecolor="black")
            ax.text(t.high, y, f"  n = {e['n']}", va="center", fontsize=7)
        ax.axvline(0.0, color="black", lw=0.8, ls="--")
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, hi + 0.15 * (hi - lo))            # room for the n labels
        ax.set_yticks(range(len(nets)),
                      [f"{plan.SHORT_NET[e['net']]}" for e in reversed(nets)], fontsize=8)
        ax.set_ylim(-0.7, len(nets) - 0.3)
        ax.set_title(f"{cid}: {plan.CLAIMS[cid].title}", fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=8)
    axes[-1, 0].set_xlabel("DANCE − plain (mean, 95 % CI); < 0: decoys better", fontsize=8)
    handles = [axes[0, 0].scatter([], [], color=c, edgecolors="black", label=v)
               for v, c in COLOURS.items()]
    fig.legend(handles=handles, loc="outside upper center", ncol=3, fontsize=7,
               frameon=False)
    return save(fig, path)
