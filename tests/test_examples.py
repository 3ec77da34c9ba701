"""The example gallery and the API reference, checked without building the documentation.

``python -m pytest -m slow tests/test_examples.py`` runs every ``examples/**/plot_*.py`` as a
script, headless (Agg backend), as the documentation build does; the other tests here are fast
and part of the default run.
"""

import ast
import importlib
import os
import pathlib
import re
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("**/plot_*.py"))
PUBLIC_MODULES = ["skcgd.games", "skcgd.solvers", "skcgd.linear_model", "skcgd.naive_bayes",
                  "skcgd.ensemble", "skcgd.utils", "skcgd.exceptions"]
# one example must run in well under a minute on a two-core machine; this is the hard stop
TIMEOUT = 300


def _run_script(path, *, code=None, cwd):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    # as in doc/conf.py: small models, one BLAS thread (two made an example 10x slower on a
    # busy two-core machine)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    args = [sys.executable, "-c", code] if code else [sys.executable, str(path)]
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    return proc, time.perf_counter() - t0


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    proc, seconds = _run_script(path, cwd=tmp_path)
    assert proc.returncode == 0, (
        f"{path.name} failed after {seconds:.1f} s:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    print(f"{path.relative_to(ROOT)}: {seconds:.1f} s")


@pytest.mark.slow
def test_dask_example_skips_cleanly_without_dask(tmp_path):
    script = ROOT / "examples" / "distributed" / "plot_dask_grid_search.py"
    # hide dask and distributed from the example's availability check
    code = (
        "import importlib.util, runpy\n"
        "find_spec = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *args: (\n"
        "    None if name in ('dask', 'distributed') else find_spec(name, *args))\n"
        f"runpy.run_path({str(script)!r}, run_name='__main__')\n"
    )
    proc, _ = _run_script(script, code=code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "dask and distributed are not installed" in proc.stdout
    assert "sequential" in proc.stdout


# -- fast checks -------------------------------------------------------------------------------
def test_every_example_folder_has_a_gallery_header():
    folders = {path.parent for path in EXAMPLES}
    assert (ROOT / "examples" / "README.txt").exists()
    for folder in folders:
        assert (folder / "README.txt").exists() or (folder / "GALLERY_HEADER.rst").exists(), folder


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_starts_with_a_rest_title(path):
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring, f"{path.name} has no module docstring"
    lines = [line for line in docstring.splitlines() if line.strip()]
    # "====\nTitle\n====" or "Title\n====="
    title_at = 1 if set(lines[0]) == {"="} else 0
    assert set(lines[title_at + 1]) <= set("=-~"), f"{path.name}: no reST title"
    assert len(lines[title_at + 1]) >= len(lines[title_at].rstrip())


def _public_names():
    for module_name in PUBLIC_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # a subpackage still being written
            continue
        for name in module.__all__:
            obj = getattr(module, name)
            if getattr(obj, "__module__", "").startswith("skcgd") or module_name.endswith(
                    "exceptions"):
                yield module_name, name


def test_api_reference_lists_every_public_name():
    api = (ROOT / "doc" / "api.rst").read_text(encoding="utf-8")
    listed = set()
    current = None
    for line in api.splitlines():
        match = re.match(r"\.\. (?:current)?module:: (\S+)", line.strip())
        if match:
            current = match.group(1)
        elif current and re.fullmatch(r"\s+[A-Za-z_][A-Za-z0-9_]*", line):
            listed.add((current, line.strip()))
    missing = [f"{m}.{n}" for m, n in _public_names() if (m, n) not in listed]
    assert not missing, f"doc/api.rst does not list: {missing}"


def test_user_guide_defines_every_label_the_docstrings_use():
    labels = set()
    for rst in (ROOT / "doc").glob("**/*.rst"):
        labels |= set(re.findall(r"^\.\. _([\w-]+):", rst.read_text(encoding="utf-8"), re.M))
    used = set()
    for source in (ROOT / "skcgd").glob("**/*.py"):
        for match in re.finditer(r":ref:`[^`<]*<([\w-]+)>`|:ref:`([\w-]+)`",
                                 source.read_text(encoding="utf-8")):
            used.add(match.group(1) or match.group(2))
    assert used <= labels, f"labels used in docstrings but not defined in doc/: {used - labels}"


# Public objects whose docstring has no doctest yet. The list may only shrink: a new public
# object needs an Examples section, and an object that gains one must leave the list.
MISSING_DOCTESTS = {
    "skcgd.games.BaseGame", "skcgd.games.MixedOperator", "skcgd.games.DenseMixedOperator",
    "skcgd.solvers.RowGramOperator", "skcgd.solvers.BaseGameSolver", "skcgd.solvers.GameState",
    "skcgd.solvers.GameSolverResult", "skcgd.solvers.check_game",
    "skcgd.exceptions.DivergenceError",
}


def test_public_docstrings_have_doctests():
    import inspect

    missing = set()
    for module_name, name in _public_names():
        obj = getattr(importlib.import_module(module_name), name)
        if not obj.__module__.startswith("skcgd"):
            continue  # re-exported from scikit-learn (ConvergenceWarning)
        if ">>>" not in (inspect.getdoc(obj) or ""):
            missing.add(f"{module_name}.{name}")
    assert not missing - MISSING_DOCTESTS, f"no doctest in: {sorted(missing - MISSING_DOCTESTS)}"
    assert not MISSING_DOCTESTS - missing, (
        f"these have a doctest now, remove them from MISSING_DOCTESTS: "
        f"{sorted(MISSING_DOCTESTS - missing)}")
