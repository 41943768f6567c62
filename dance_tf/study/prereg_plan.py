"""The pre-registered ImageNet study of issue 26 as data (``reproduction/PREREGISTRATION.md``).

Five confirmatory claims (§2) on three nets (§3), each claim's maps made by one *block*: a
base method with its settings, run without decoys, with decoys + range (DANCE), the paper's
§4.3 ablations and the compute-matched baselines (§6), scored by the top-K fidelity (SF,
Eq. 6, fill 0) at K = 10 / 20 / 40 % and the continuous fidelity. n per claim and net is
the registered table of §4; the run order is §8 with amendment 1 (turns of
:data:`TURN` images). Nothing here runs a model: :mod:`dance_tf.study.prereg_run` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

NETS = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")
SHORT_NET = {"efficientnet_lite0": "Lite0", "efficientnet_lite1": "Lite1",
             "efficientnet_lite2": "Lite2"}
#: the issue's floors per confirmatory claim (§4)
FLOOR = {"efficientnet_lite0": 80, "efficientnet_lite1": 40, "efficientnet_lite2": 40}
#: images per turn: every block of a net runs the turn's images before the next turn
#: (amendment 1; §8 had one image per turn)
TURN = 8
#: the SF cut-offs scored on every map: the claim's own is confirmatory, the rest exploratory
SF_K = {"sf_k10": 0.1, "sf_k20": 0.2, "sf_k40": 0.4}
CONTINUOUS = "fidelity_continuous"
METRICS = (*SF_K, CONTINUOUS)
#: the fidelity fill of the pilots (0 in the nets' input space, (x − 127) / 128)
FILL = 0.0
TILES_500 = {"packing": "tiles", "patches_per_mask": 500}
TILES_2000 = {"packing": "tiles", "patches_per_mask": 2000}
ABLATIONS = ("mean", "constant", "noise")


@dataclass(frozen=True)
class Block:
    """One folder of maps per net: ``method`` with ``method_options`` under the DANCE
    ``packing``; ``variants``: the plain map (``none``), DANCE (``decoys``) and the controls
    of §6 (``evaluate_model``'s variant names)."""

    name: str
    method: str
    method_options: dict = field(default_factory=dict)
    packing: dict = field(default_factory=dict)
    controls: tuple = ()

    @property
    def variants(self) -> tuple[str, ...]:
        return ("none", "decoys", *ABLATIONS, *self.controls)


#: in the order of §8's table: the turn runs them in this order
BLOCKS = {b.name: b for b in (
    Block("gradient", "gradient", {}, TILES_500, ("matched", "matched_range")),
    Block("smoothgrad", "smoothgrad", {"samples": 10, "noise": 0.15}, TILES_2000,
          ("matched", "matched_range", "matched_vargrad")),
    Block("integrated_gradients", "integrated_gradients", {"steps": 10}, TILES_2000,
          ("matched",)),
    Block("expected_gradients", "expected_gradients", {"samples": 8}, TILES_2000,
          ("matched",)),
)}


@dataclass(frozen=True)
class Claim:
    """A confirmatory claim: decoys + range − plain of ``block``'s maps by ``metric``."""

    id: str
    title: str
    block: str
    metric: str


CLAIMS = {c.id: c for c in (
    Claim("C1", "SmoothGrad-10, SF top 20 %", "smoothgrad", "sf_k20"),
    Claim("C2", "integrated gradients-10, SF top 40 %", "integrated_gradients", "sf_k40"),
    Claim("C3", "expected gradients-8, SF top 20 %", "expected_gradients", "sf_k20"),
    Claim("C4", "gradient, SF top 20 %", "gradient", "sf_k20"),
    Claim("C5", "gradient, continuous fidelity", "gradient", CONTINUOUS),
)}

#: registered n per claim and net (§4's table)
N = {
    "efficientnet_lite0": {"C1": 103, "C2": 103, "C3": 103, "C4": 103, "C5": 103},
    "efficientnet_lite1": {"C1": 65, "C2": 80, "C3": 40, "C4": 103, "C5": 53},
    "efficientnet_lite2": {"C1": 65, "C2": 80, "C3": 40, "C4": 103, "C5": 53},
}
#: the gradient beyond this image on Lite1 / Lite2 serves only the under-powered C4: last
C4_ONLY_FROM = 53


def block_n(net: str, block: str) -> int:
    """Images of ``block`` on ``net``: the largest n of the claims it serves."""
    return max(N[net][c.id] for c in CLAIMS.values() if c.block == block)


@dataclass(frozen=True)
class Turn:
    """Run ``block`` on ``net`` over the first ``upto`` registered images (``step``: §8)."""

    step: int
    net: str
    block: str
    upto: int


def turn_ends(lo: int, hi: int) -> list[int]:
    """Turn ends covering images lo + 1 .. hi: multiples of TURN, and hi."""
    return sorted({min(e, hi) for e in range(TURN, hi + TURN, TURN) if min(e, hi) > lo})


def schedule() -> list[Turn]:
    """Every turn of the claims, in §8's order (amendment 1). Step 1: up to the floors
    on all three nets, turn by turn (each turn: every net, every block, its next TURN
    images). Step 4: from the floors up to each block's registered n, in the same turn
    order; the gradient beyond image C4_ONLY_FROM on Lite1 / Lite2 last. (Steps 2 and 3,
    the packing choice and its confirmation, are not turns of the claims.)"""
    def ordered(spans, step):
        turns = [(end, NETS.index(net), list(BLOCKS).index(b), Turn(step, net, b, end))
                 for net, b, lo, hi in spans for end in turn_ends(lo, hi)]
        return [t[-1] for t in sorted(turns, key=lambda t: (-(-t[0] // TURN), *t[1:3]))]

    first = [(net, b, 0, FLOOR[net]) for net in NETS for b in BLOCKS]
    rest, late = [], []
    for net in NETS:
        for b in BLOCKS:
            hi = block_n(net, b)
            if b == "gradient" and net != NETS[0] and hi > C4_ONLY_FROM:
                late.append((net, b, max(FLOOR[net], C4_ONLY_FROM), hi))
                hi = C4_ONLY_FROM
            rest.append((net, b, FLOOR[net], hi))
    return ordered(first, 1) + ordered(rest, 4) + ordered(late, 4)


def registered_images(path: str | Path, half: str = "second") -> list[str]:
    """Image ids of ``half`` in the registered order (``preregistered_images.json``:
    ascending sha256("issue26:" + id) within each half)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if half not in ("first", "second"):
        raise ValueError(f"half: expected 'first' or 'second', got {half!r}")
    return [item["id"] for item in data["images"] if item["half"] == half]


def folder(root: str | Path, net: str, block: str) -> Path:
    """The rows folder of one block on one net: ``ROOT/preregistered/<net>/<block>``."""
    return Path(root) / "preregistered" / net / block
