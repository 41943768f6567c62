"""The paper's claims and numbers (read from dance_icml2021_with_supplement.txt).

Every number here is the paper's difference (with decoys − baseline) as printed in its
tables, "Mean±Std" in the table headers (the text of S14 calls it the standard error), and
its one-sided p (H0: E[diff] ≥ 0). Table S2 (IDS) gives means ± s.e. of each variant, not
differences: the paper's difference there is the difference of the printed means, with no
p. Digits are not in the paper: its direction is the paper's general claim only.
"""

from __future__ import annotations

from dataclasses import dataclass

METHOD_NAMES = {"gradient": "Gradient", "integrated_gradients": "IntegratedGrad",
                "smoothgrad": "SmoothGrad"}
BASELINES = {"none": "without decoys", "constant": "constant + range",
             "noise": "noise + range", "mean": "decoys + mean"}


@dataclass(frozen=True)
class PaperNumber:
    """The paper's value of one claim: mean ± err of the difference, p as printed."""

    mean: float | None
    err: float | None
    p: str | None
    source: str

    def text(self) -> str:
        if self.mean is None:
            return self.source
        out = f"{self.mean:+.3g}"
        if self.err is not None:
            out += f" ± {self.err:.3g}"
        if self.p is not None:
            out += f" (p {self.p})"
        return f"{out} [{self.source}]"


def _table(source, rows):
    out = {}
    for method, cells in rows.items():
        for baseline, (mean, err, p) in zip(("none", "constant", "noise", "mean"), cells):
            out[(method, baseline)] = PaperNumber(mean, err, p, source)
    return out


#: Table S4 (Fig. 2B): ImageNet (VGG16), K = 20 %
TABLE_S4 = _table("Table S4", {
    "gradient": [(-1.61, 3.24, "0.014"), (-1.26, 2.29, "0.009"), (-0.51, 1.74, "0.093"),
                 (-1.80, 2.15, "< 0.001")],
    "integrated_gradients": [(-1.14, 3.82, "0.087"), (-0.71, 3.41, "0.170"),
                             (-0.06, 3.03, "0.440"), (-2.53, 2.25, "< 0.001")],
    "smoothgrad": [(-0.41, 1.23, "0.068"), (-0.44, 1.27, "0.058"), (-0.79, 1.22, "0.003"),
                   (-1.80, 2.65, "0.002")],
})
#: Table S5 (Fig. 3B): SST, K = 20 %
TABLE_S5 = _table("Table S5", {
    "gradient": [(-0.29, 0.57, "< 0.001"), (0.003, 0.09, "0.921"), (0.003, 0.09, "0.912"),
                 (-0.17, 0.51, "< 0.001")],
    "integrated_gradients": [(-0.12, 0.56, "< 0.001"), (0.001, 0.07, "0.744"),
                             (-0.20, 0.44, "< 0.001"), (-0.09, 0.52, "< 0.001")],
    "smoothgrad": [(-0.02, 0.52, "0.043"), (-0.02, 0.52, "0.043"), (-0.02, 0.51, "0.029"),
                   (0.006, 0.15, "0.959")],
})
#: Table S2: IDS means ± s.e. per variant (none, decoys, constant, noise, mean)
TABLE_S2_MEANS = {
    "gradient": (1.80, 1.64, 1.68, 1.78, 2.04),
    "integrated_gradients": (1.68, 1.57, 1.68, 1.79, 2.19),
    "smoothgrad": (1.59, 1.57, 1.74, 1.73, 1.87),
}
TABLE_S2 = {
    (m, b): PaperNumber(round(v[1] - v[i], 3), None, None, "Table S2, difference of means")
    for m, v in TABLE_S2_MEANS.items()
    for i, b in ((0, "none"), (2, "constant"), (3, "noise"), (4, "mean"))
}
#: Table S6 (Fig. 4B–D): SS with − without decoys under attacks (ImageNet)
TABLE_S6 = {
    ("gradient", "topk"): PaperNumber(-23.52, 57.02, "0.008", "Table S6"),
    ("integrated_gradients", "topk"): PaperNumber(-3.89, 2.47, "< 0.001", "Table S6"),
    ("smoothgrad", "topk"): PaperNumber(-2.32, 21.00, "0.349", "Table S6"),
    ("gradient", "mass_center"): PaperNumber(-30.43, 25.48, "< 0.001", "Table S6"),
    ("integrated_gradients", "mass_center"): PaperNumber(-6.06, 4.56, "< 0.001", "Table S6"),
    ("smoothgrad", "mass_center"): PaperNumber(-2.75, 1.85, "< 0.001", "Table S6"),
    ("gradient", "targeted"): PaperNumber(-7.66, 3.03, "< 0.001", "Table S6"),
    ("integrated_gradients", "targeted"): PaperNumber(-4.77, 1.29, "< 0.001", "Table S6"),
    ("smoothgrad", "targeted"): PaperNumber(-2.81, 2.88, "0.002", "Table S6"),
}
#: Table S7 (Fig. S5): S9 methods, with − without decoys (ImageNet)
TABLE_S7 = {
    "expected_gradients": PaperNumber(-2.26, 4.11, "0.009", "Table S7"),
    "vargrad": PaperNumber(-0.95, 1.18, "0.001", "Table S7"),
    "smoothgrad_range": PaperNumber(-0.66, 1.51, "0.026", "Table S7"),
    "ig_uniform": PaperNumber(-2.98, 3.18, "< 0.001", "Table S7"),
    "gradcam": PaperNumber(-0.08, 0.25, "0.121", "Table S7"),
}
NOT_IN_PAPER = PaperNumber(None, None, None, "not in the paper (digits)")
FIGURE_ONLY_K = PaperNumber(None, None, None, "figure only (S11: K = 10 %, 40 % as box plots)")


def paper_fidelity(task: str, method: str, baseline: str, k: str) -> PaperNumber:
    """The paper's difference for a fidelity claim (task, method, decoys − baseline, K)."""
    if task == "digits":
        return NOT_IN_PAPER
    if abs(float(k) - 0.2) > 1e-9:
        return FIGURE_ONLY_K
    table = {"imagenet": TABLE_S4, "sst": TABLE_S5, "ids": TABLE_S2}.get(task, {})
    return table.get((method, baseline),
                     PaperNumber(None, None, None, "not in the paper's tables"))
