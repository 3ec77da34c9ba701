"""Rules about the package's shape that no behaviour test would notice being broken.

* Only ``skcgd/_compat.py`` imports private scikit-learn names (so a change in scikit-learn is
  mended in one place, and ``.ci/check_min_deps`` tests the supported range's lower end).
* The licence: a BSD 3-Clause LICENSE at the root, as pyproject.toml declares, shipped in the
  sdist and the wheel.
* No module of skcgd is over 700 lines.
* Games and solvers stay apart: no module of ``skcgd/games`` imports ``skcgd.solvers`` and no
  module of ``skcgd/solvers`` imports ``skcgd.games``, in any import form, anywhere in the
  module (functions included): what both need lives below them.
* Adversaries are dispatched by the registry of ``skcgd/games/_registry.py`` only: nowhere
  else does skcgd test an adversary's name (``adversary == "kl"``, ``adversary in (...)``).

The rules read the source with :mod:`ast`, so docstrings, comments and strings that merely
mention a name do not count.
"""

import ast
import fnmatch
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "skcgd"
MAX_LINES = 700


def _modules(under=PACKAGE):
    return sorted(path for path in under.rglob("*.py") if "__pycache__" not in path.parts)


def _name(path):
    return path.relative_to(ROOT).as_posix()


def _tree(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_name(path, root=ROOT):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node, path, root):
    """The absolute module of an ``ImportFrom`` (relative imports resolved against ``path``)."""
    if not node.level:
        return node.module or ""
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()  # a module's own package
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def _dotted(node):
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _imported(path, root=ROOT):
    """Every ``(line, dotted name)`` the module imports, anywhere in it.

    ``from a.b import c`` gives ``a.b.c`` (c may be a submodule, so a name below ``a.b``
    stands for ``a.b`` too); ``import a.b`` gives ``a.b``;
    ``importlib.import_module("a.b")`` and ``__import__("a.b")`` with a literal give ``a.b``.
    """
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, path, root)
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and (_dotted(node.func) or "").split(".")[-1] in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _is_private(part):
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _private_sklearn_names(path):
    """``(line, name)`` of the private scikit-learn names that the module reaches."""
    found = []
    for line, name in _imported(path):
        parts = name.split(".")
        if parts[0] == "sklearn" and any(_is_private(part) for part in parts[1:]):
            found.append((line, name))
    tree = _tree(path)
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):  # sklearn.utils._param_validation.Interval after import sklearn
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            parts = (_dotted(node) or "").split(".")
            if parts[0] == "sklearn" and any(_is_private(part) for part in parts[1:]):
                found.append((node.lineno, ".".join(parts)))
    return sorted(set(found))


# -- (a) private scikit-learn names: skcgd/_compat.py only -------------------------------------
@pytest.mark.parametrize("path", [p for p in _modules() if p != PACKAGE / "_compat.py"], ids=_name)
def test_only_compat_imports_private_sklearn_names(path):
    found = _private_sklearn_names(path)
    assert not found, (
        f"{_name(path)} reaches private scikit-learn names: "
        + ", ".join(f"{name} (line {line})" for line, name in found)
        + ". Import them from skcgd._compat (add them there if they are missing), or use the "
        "public equivalent."
    )


def test_the_private_name_rule_sees_every_import_form(tmp_path):
    source = "\n".join(
        [
            "from sklearn.utils._param_validation import Interval",
            "from sklearn.base import _fit_context",
            "import sklearn.utils._available_if",
            "import sklearn.utils._available_if as ai",
            "def f():",
            "    from sklearn.utils import _safe_indexing",
            "    import importlib",
            "    return importlib.import_module('sklearn.ensemble._base')",
            "import sklearn",
            "x = sklearn.utils._param_validation.StrOptions",
            # public: no hit
            "from sklearn.utils.validation import check_is_fitted",
            "from sklearn import __version__",
            "from sklearn_compat.base import _fit_context as fc",
        ]
    )
    path = tmp_path / "example.py"
    path.write_text(source)
    assert sorted({line for line, _ in _private_sklearn_names(path)}) == [1, 2, 3, 4, 6, 8, 10]


# -- (b) the licence ---------------------------------------------------------------------------
_BSD3_CLAUSES = (
    "Redistribution and use in source and binary forms, with or without modification, are "
    "permitted provided that the following conditions are met:",
    "Redistributions of source code must retain the above copyright notice, this list of "
    "conditions and the following disclaimer.",
    "Redistributions in binary form must reproduce the above copyright notice, this list of "
    "conditions and the following disclaimer in the documentation and/or other materials "
    "provided with the distribution.",
    "Neither the name of the copyright holder nor the names of its contributors may be used to "
    "endorse or promote products derived from this software without specific prior written "
    "permission.",
    'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY '
    "EXPRESS OR IMPLIED WARRANTIES",
)


def _pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_is_bsd_3_clause_and_shipped():
    license_file = ROOT / "LICENSE"
    assert license_file.is_file(), "LICENSE is missing at the root of the repository."
    text = " ".join(license_file.read_text(encoding="utf-8").split())
    assert text.startswith("BSD 3-Clause License")
    assert "Copyright (c) 2026, The skcgd developers" in text
    for clause in _BSD3_CLAUSES:
        assert clause in text, clause
    project = _pyproject()["project"]
    assert project["license"] == "BSD-3-Clause"
    # setuptools (>= 77) ships the files matching license-files in the sdist and the wheel
    # (dist-info/licenses/); without the key, its default globs, which match LICENSE
    patterns = project.get("license-files", ["LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*"])
    assert any(fnmatch.fnmatch("LICENSE", pattern) for pattern in patterns), patterns


# -- (c) module length -------------------------------------------------------------------------
@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_no_module_is_over_700_lines(path):
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    assert n_lines <= MAX_LINES, (
        f"{_name(path)} has {n_lines} lines (at most {MAX_LINES}): split it by responsibility."
    )


# -- (d) games and solvers stay apart ----------------------------------------------------------
def _imports_of(path, package, root=ROOT):
    return [
        (line, name)
        for line, name in _imported(path, root)
        if name == package or name.startswith(package + ".")
    ]


_LAYERS = [("games", "skcgd.solvers"), ("solvers", "skcgd.games")]


@pytest.mark.parametrize(
    "path, forbidden",
    [(path, forbidden) for sub, forbidden in _LAYERS for path in _modules(PACKAGE / sub)],
    ids=lambda value: _name(value) if isinstance(value, pathlib.Path) else value,
)
def test_games_and_solvers_do_not_import_each_other(path, forbidden):
    found = _imports_of(path, forbidden)
    assert not found, (
        f"{_name(path)} imports {forbidden}: "
        + ", ".join(f"{name} (line {line})" for line, name in found)
        + ". Games never import solvers and solvers never games: move what both need below "
        "them (skcgd/_linalg, skcgd/_validation)."
    )


def test_the_layer_rule_sees_every_import_form(tmp_path):
    source = "\n".join(
        [
            "import skcgd.solvers",
            "from skcgd.solvers._cgd import CGD",
            "from skcgd import solvers",
            "from ..solvers import CGD",
            "from .. import solvers",
            "def f():",
            "    import importlib",
            "    return importlib.import_module('skcgd.solvers._newton')",
            # not the solvers package: no hit
            "from skcgd import games",
            "from skcgd.solvers_extra import x",
            "from . import _base",
        ]
    )
    path = tmp_path / "skcgd" / "games" / "example.py"
    path.parent.mkdir(parents=True)
    path.write_text(source)
    found = _imports_of(path, "skcgd.solvers", root=tmp_path)
    assert sorted({line for line, _ in found}) == [1, 2, 3, 4, 5, 8]


# -- (e) adversaries are dispatched by the registry only ---------------------------------------
_REGISTRY = PACKAGE / "games" / "_registry.py"
_TESTS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)


def _is_adversary(node):
    """``adversary``, ``x.adversary``, ``x["adversary"]``, ``x.get("adversary")``,
    ``getattr(x, "adversary")``."""
    if isinstance(node, ast.Name):
        return node.id == "adversary"
    if isinstance(node, ast.Attribute):
        return node.attr == "adversary"
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "adversary"
    if isinstance(node, ast.Call):
        func = _dotted(node.func) or ""
        args = [a.value for a in node.args if isinstance(a, ast.Constant)]
        return (func.endswith(".get") and args[:1] == ["adversary"]) or (
            func == "getattr" and args[:1] == ["adversary"]
        )
    return False


def _adversary_tests(path):
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands, operands[1:]):
                if isinstance(op, _TESTS) and (_is_adversary(left) or _is_adversary(right)):
                    found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Match) and _is_adversary(node.subject):
            found.append((node.lineno, f"match {ast.unparse(node.subject)}"))
    return sorted(found)


@pytest.mark.parametrize("path", [p for p in _modules() if p != _REGISTRY], ids=_name)
def test_no_adversary_name_tests_outside_the_registry(path):
    found = _adversary_tests(path)
    assert not found, (
        f"{_name(path)} tests an adversary's name: "
        + "; ".join(f"line {line}: {code}" for line, code in found)
        + ". Ask the registry of skcgd/games/_registry.py (what the adversary needs, which "
        "solvers apply) instead."
    )


def test_the_adversary_rule_sees_the_forms_of_a_test(tmp_path):
    source = "\n".join(
        [
            'if self.adversary == "kl": pass',
            'if adversary != "none": pass',
            'if adversary in ("kl", "group"): pass',
            'needs = params.get("adversary") == "group"',
            'if "chi2" == params["adversary"]: pass',
            'if adversary not in {"kl"}: pass',
            "match adversary:\n    case 'kl': pass",
            # not a test of the adversary: no hit
            "for adversary in ADVERSARIES: pass",
            '"""the adversary in the game == ..."""',
            "if self.adversary_weights_ is None: pass",
        ]
    )
    path = tmp_path / "example.py"
    path.write_text(source)
    assert [line for line, _ in _adversary_tests(path)] == [1, 2, 3, 4, 5, 6, 7]
