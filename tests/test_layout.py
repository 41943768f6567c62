"""The tests mirror the package: dance_tf/<pkg>/<module>.py is tested in
tests/<pkg>/test_<module>.py (or test_<module>_<aspect>.py), or TESTED_IN says which test
file exercises it. A new module with neither, or an entry that went stale, fails here."""

from pathlib import Path

from tests.conftest import ROOT, TESTS

#: modules tested through another module's test file (paths under tests/)
TESTED_IN = {
    "cli/__main__": "cli/test_main.py",                # python -m dance_tf.cli
    # evaluate_model's parts, checked against the metrics and the Explainer called by hand
    # in what one whole run returns and writes (rows, resume, report, command line):
    "evaluation/card_cli": "evaluation/test_model_card.py",
    "evaluation/card_examples": "evaluation/test_model_card.py",
    "evaluation/card_figures": "evaluation/test_model_card.py",
    "evaluation/card_inputs": "evaluation/test_model_card.py",
    "evaluation/card_maps": "evaluation/test_model_card.py",
    "evaluation/card_metrics": "evaluation/test_model_card.py",
    "evaluation/card_result": "evaluation/test_model_card.py",
    "evaluation/card_rows": "evaluation/test_model_card.py",
    "evaluation/matched": "evaluation/test_model_card.py",
    # a helper whose only sensible test is a call of what uses it:
    "metrics/metric_inputs": "metrics/test_deletion.py",  # shared argument checks, via a metric
    "option_flags": "test_options_table.py",   # the flags, as dance-tf explain's parser shows them
    "saliency/_noisy": "saliency/test_vargrad.py",  # its loop, through each method reducing it
    "tasks/base": "evaluation/test_checks_hostile.py",  # the Task record the runner tests build
    # parts of an evaluation run, checked in what a whole run writes:
    "evaluation/figures": "evaluation/test_runner.py",    # box plots and example panels
    "evaluation/rows": "evaluation/test_runner.py",       # and attack rows: test_attack_tables
    "evaluation/variants": "evaluation/test_config.py",   # the names and defaults EvalConfig takes
    # the pickle reader, checked on real legacy weight files and hostile ones:
    "models/torch_pickle": "models/test_torch_legacy.py",
    "models/torch_pickle_machine": "models/test_torch_legacy.py",  # the pickle machine's state
    "plots/_figure": "plots/test_images.py",
    # the study's report pieces, checked in the report of the smoke run of every condition:
    "study/claims": "study/test_reproduce.py",
    "study/fidelity_tables": "study/test_reproduce.py",   # the smoke run's report
    "study/report": "study/test_reproduce.py",
    "study/rows": "study/test_reproduce.py",
    "study/sensitivity_tables": "study/test_reproduce.py",
    "study/verdicts": "study/test_reproduce.py",
    # the pre-registered study's report pieces after the stop, on rows written by the test
    "study/prereg_cost": "study/test_prereg_report.py",
    "study/prereg_exploratory": "study/test_prereg_report.py",
    "study/prereg_figure": "study/test_prereg_report.py",
}


def _modules() -> list[str]:
    package = ROOT / "dance_tf"
    return sorted(str(p.relative_to(package).with_suffix("")) for p in package.rglob("*.py")
                  if p.name != "__init__.py")


def _own_test(module: str) -> Path | None:
    path = Path(module)
    folder = TESTS / path.parent
    hits = sorted(folder.glob(f"test_{path.name}.py")) + \
        sorted(folder.glob(f"test_{path.name}_*.py"))
    return hits[0] if hits else None


def test_every_module_has_a_test_file():
    modules = _modules()
    assert len(modules) > 50     # the scan found the package
    untested = [m for m in modules if _own_test(m) is None and m not in TESTED_IN]
    assert not untested, f"add tests/<pkg>/test_<module>.py or a TESTED_IN entry: {untested}"


def test_tested_in_is_current():
    modules = set(_modules())
    assert not [m for m in TESTED_IN if m not in modules], "TESTED_IN names a removed module"
    assert not [m for m in TESTED_IN if _own_test(m)], "module has its own test file now"
    missing = [f for f in TESTED_IN.values() if not (TESTS / f).is_file()]
    assert not missing, f"TESTED_IN points at missing test files: {missing}"


def test_test_folders_mirror_the_subpackages():
    packages = {p.parent.relative_to(ROOT / "dance_tf") for p in (ROOT / "dance_tf").rglob(
        "__init__.py")} - {Path(".")}
    folders = {p.parent.relative_to(TESTS) for p in TESTS.rglob("test_*.py")} - {Path(".")}
    # every test folder is a subpackage (scripts/ mirrors the checkout's scripts/)
    assert folders - packages <= {Path("scripts")}
    for folder in folders:
        assert (TESTS / folder / "__init__.py").is_file(), folder


def _imports(package: Path) -> dict[str, set[str]]:
    """{module: dance_tf modules it imports} over every import statement, function-level
    ones included (``from dance_tf import x`` names the submodule x, not the package)."""
    import ast

    mods = {}
    for p in package.rglob("*.py"):
        parts = p.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = p
    edges = {m: set() for m in mods}
    for m, p in mods.items():
        pkg = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                subs = [f"{base}.{a.name}" for a in node.names]
                targets = [t for t in subs if t in mods]
                if len(targets) < len(subs):   # a name of the module itself, too
                    targets.append(base)
            else:
                continue
            edges[m].update(t for t in targets if t in mods and t != m)
    return edges


def test_no_import_cycles():
    edges = _imports(ROOT / "dance_tf")
    assert len(edges) > 100 and edges["dance_tf.explainer"]   # the scan found imports
    # a module that reaches itself through its imports is on a cycle (depth-first search)
    on_cycle = []
    for start in edges:
        seen, todo = set(), list(edges[start])
        while todo:
            m = todo.pop()
            if m == start:
                on_cycle.append(start)
                break
            if m not in seen:
                seen.add(m)
                todo.extend(edges[m])
    assert on_cycle == [], f"modules on an import cycle: {sorted(on_cycle)}"
