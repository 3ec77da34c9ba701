"""Rules for the kernel modules that keep Numba's disk cache correct and fast."""

import ast
import pathlib

import pytest

import skcgd

KERNEL_DIR = pathlib.Path(skcgd.__file__).parent / "_kernels"
MODULES = sorted(p for p in KERNEL_DIR.glob("*.py") if p.name != "__init__.py")
ALLOWED_IMPORTS = {"numpy", "math", "skcgd._numba"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_kernel_module_imports_only_numpy_math_and_the_wrapper(path):
    # A cached kernel does not notice a change in a jitted helper defined in another file
    # (Numba's cache index only hashes the caller's file), so helpers must live beside it.
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module]
        else:
            continue
        for name in names:
            assert name in ALLOWED_IMPORTS, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_kernels_are_compiled_through_the_wrapper(path):
    tree = ast.parse(path.read_text())
    source = path.read_text()
    assert "numba" not in source.replace("skcgd._numba", ""), "use skcgd._numba.njit_kernel"
    # a kernel calling numba.get_num_threads() is never served from the cache
    assert "get_num_threads" not in source
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            decorators = [ast.unparse(d) for d in node.decorator_list]
            assert any(d.startswith("njit_kernel") for d in decorators), (
                f"{path.name}:{node.name} is not compiled through njit_kernel"
            )
