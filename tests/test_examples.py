"""The example gallery and the API reference, checked without building the documentation.

``python -m pytest -m slow tests/test_examples.py`` runs every ``examples/**/plot_*.py`` as a
script, headless (Agg backend), as the documentation build does, with a hard stop of
``TIMEOUT`` seconds per example. Measured on the shared two-core machine: 137 s for all of
them (11 examples plus the without-Dask run of the Dask example, which with the Dask example
itself takes 55 s of it) at a load average of 8-9; 80 s for the 9 examples there were before
at a load average of 3.5. That is over the ~90 s the default run can spend on them, so they
stay behind the ``slow`` marker. The other tests here are fast and part of the default run:
every public object has a doctest and appears in an example (so its API page's minigallery
is not empty), the input-kinds table of the user guide is the one ``doc/conf.py`` generates
and matches what the estimators do, and the code of the persistence guide runs.
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
PUBLIC_MODULES = [
    "skcgd.games",
    "skcgd.solvers",
    "skcgd.linear_model",
    "skcgd.naive_bayes",
    "skcgd.ensemble",
    "skcgd.datasets",
    "skcgd.metrics",
    "skcgd.utils",
    "skcgd.exceptions",
]
# one example must run in well under a minute on a two-core machine; this is the hard stop
TIMEOUT = 120


def _run_script(path, *, code=None, cwd):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    # as in doc/conf.py: small models, one BLAS thread (two made an example 10x slower on a
    # busy two-core machine)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    args = [sys.executable, "-c", code] if code else [sys.executable, str(path)]
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    return proc, time.perf_counter() - t0


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    proc, seconds = _run_script(path, cwd=tmp_path)
    assert proc.returncode == 0, (
        f"{path.name} failed after {seconds:.1f} s:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    print(f"{path.relative_to(ROOT)}: {seconds:.1f} s")


# the examples that need Dask, and what each still prints without it (None: nothing else)
DASK_EXAMPLES = {
    "plot_dask_grid_search.py": "sequential",
    "plot_larger_than_memory.py": None,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DASK_EXAMPLES))
def test_dask_example_skips_cleanly_without_dask(name, tmp_path):
    script = ROOT / "examples" / "distributed" / name
    # hide dask and distributed from the example's availability check, and make importing
    # them fail: the example must not import them before it has checked
    code = (
        "import importlib.util, runpy, sys\n"
        "find_spec = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *args: (\n"
        "    None if name in ('dask', 'distributed') else find_spec(name, *args))\n"
        "sys.modules.update(dask=None, distributed=None)\n"
        f"runpy.run_path({str(script)!r}, run_name='__main__')\n"
    )
    proc, _ = _run_script(script, code=code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "dask and distributed are not installed" in proc.stdout
    if DASK_EXAMPLES[name] is not None:
        assert DASK_EXAMPLES[name] in proc.stdout


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
                "exceptions"
            ):
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
        for match in re.finditer(
            r":ref:`[^`<]*<([\w-]+)>`|:ref:`([\w-]+)`", source.read_text(encoding="utf-8")
        ):
            used.add(match.group(1) or match.group(2))
    assert used <= labels, f"labels used in docstrings but not defined in doc/: {used - labels}"


def test_public_docstrings_have_doctests():
    import inspect

    missing = set()
    for module_name, name in _public_names():
        obj = getattr(importlib.import_module(module_name), name)
        if not obj.__module__.startswith("skcgd"):
            continue  # re-exported from scikit-learn (ConvergenceWarning)
        if ">>>" not in (inspect.getdoc(obj) or ""):
            missing.add(f"{module_name}.{name}")
    assert not missing, f"public objects without an Examples doctest: {sorted(missing)}"


# -- every public object is shown by an example --------------------------------------------------
# sphinx-gallery fills an API page's minigallery with the examples whose code uses the object
# (or whose text refers to it): an object no example mentions gets an empty one.
def _skcgd_imports(path):
    """Names an example imports from skcgd (ruff's F401 keeps unused imports out)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "skcgd":
            names |= {alias.name for alias in node.names}
    return names


IMPORTS = {path: _skcgd_imports(path) for path in EXAMPLES}
# results a solver returns, which no user builds: a reference in an example's text suffices
RETURNED_TYPES = {"skcgd.solvers.GameSolverResult"}


def test_every_estimator_game_and_solver_is_used_by_an_example():
    import inspect

    from skcgd.utils import all_estimators

    required = {
        f"{cls.__module__.split('.')[0]}.{cls.__module__.split('.')[1]}.{name}"
        for name, cls in all_estimators()
    }
    for module_name in ("skcgd.games", "skcgd.solvers"):
        module = importlib.import_module(module_name)
        required |= {
            f"{module_name}.{name}"
            for name in module.__all__
            if inspect.isclass(getattr(module, name))
        }
    used = set().union(*IMPORTS.values())
    missing = sorted(q for q in required - RETURNED_TYPES if q.rsplit(".", 1)[1] not in used)
    assert not missing, f"no gallery example imports and uses: {missing}"


def test_every_public_name_has_an_example():
    sources = {path: path.read_text(encoding="utf-8") for path in EXAMPLES}
    missing = []
    for module_name, name in _public_names():
        qualified = f"{module_name}.{name}"
        if not any(
            name in IMPORTS[path] or re.search(rf"{re.escape(qualified)}\b", text)
            for path, text in sources.items()
        ):
            missing.append(qualified)
    assert not missing, f"these API pages would show no example: {missing}"


# -- generated and executed documentation --------------------------------------------------------
def test_input_kinds_page_includes_the_table_conf_py_generates():
    conf = (ROOT / "doc" / "conf.py").read_text(encoding="utf-8")
    tree = ast.parse(conf)
    target = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", None) == "INPUT_KINDS_TABLE" for t in node.targets)
    )
    generated = ROOT / "doc" / pathlib.Path(*[ast.literal_eval(a) for a in target.args])
    assert "write_input_kinds_rst" in conf and "_write_input_kinds_table)" in conf
    page = ROOT / "doc" / "user_guide" / "input_kinds.rst"
    includes = re.findall(r"^\.\. include:: (\S+)", page.read_text(encoding="utf-8"), re.M)
    assert [(page.parent / inc).resolve() for inc in includes] == [generated.resolve()]


@pytest.fixture(scope="module")
def input_kinds():
    from skcgd.utils import all_estimators
    from skcgd.utils._input_kinds import input_kinds_table

    estimators = all_estimators()
    return estimators, input_kinds_table(estimators)


def test_input_kinds_table_cells_match_what_the_estimators_do(input_kinds):
    """Refit every estimator on CSR, float32 and pandas input and compare with its row."""
    import warnings

    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    from skcgd.utils._input_kinds import (
        estimator_spec,
        fit_kwargs,
        make_data,
        prediction_outputs,
    )

    estimators, table = input_kinds
    for (name, cls), row in zip(estimators, table):
        assert row["estimator"].endswith("." + name)
        spec = estimator_spec(cls)
        X, y = make_data(spec.task, n_samples=40, n_features=3, random_state=1)
        kwargs = fit_kwargs(spec, spec.base_params(), len(y))

        def fit(Xin):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return spec.build(cls).fit(Xin, y, **kwargs)

        try:
            prediction_outputs(fit(sp.csr_matrix(X)), sp.csr_matrix(X))
            accepts_csr = True
        except (TypeError, ValueError):
            accepts_csr = False
        assert (row["CSR"] in ("yes", "densified")) == accepts_csr, (name, row["CSR"])

        outputs = prediction_outputs(fit(X.astype(np.float32)), X.astype(np.float32))
        floats = [v.dtype for v in outputs.values() if v.dtype.kind == "f"]
        kept = bool(floats) and all(dtype == np.float32 for dtype in floats)
        assert row["float32"] == ("kept" if kept else "float64"), (name, row["float32"])

        df = pd.DataFrame(X, columns=["a", "b", "c"])
        fitted = fit(df)
        assert list(fitted.feature_names_in_) == ["a", "b", "c"], name
        pandas_out = hasattr(fitted, "transform") and isinstance(
            fitted.set_output(transform="pandas").transform(df), pd.DataFrame
        )
        assert row["pandas"] == ("set_output" if pandas_out else "yes"), (name, row["pandas"])


def _run_rst_doctests(path):
    import doctest
    import io

    text = path.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, path.name, str(path), 0)
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=out.write)
    return runner.summarize(verbose=False), out.getvalue()


def test_persistence_guide_code_runs(tmp_path, monkeypatch):
    pytest.importorskip("skops")
    monkeypatch.chdir(tmp_path)  # the guide writes model.joblib and model.skops
    (failed, attempted), report = _run_rst_doctests(ROOT / "doc" / "user_guide" / "persistence.rst")
    assert attempted >= 10 and failed == 0, report
