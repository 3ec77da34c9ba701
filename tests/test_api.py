"""Every name of the API reference imports from the module it is documented under."""

import importlib
import re
from pathlib import Path

API = Path(__file__).resolve().parents[1] / "doc" / "api.rst"


def _documented_names():
    names, module = [], None
    for line in API.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\.\. (?:current)?module:: (\S+)", line.strip())
        if match:
            module = match.group(1)
        elif module and re.fullmatch(r"\s+[A-Za-z_][A-Za-z0-9_]*", line):
            names.append((module, line.strip()))
    return names


def test_every_documented_name_imports():
    names = _documented_names()
    assert len(names) > 30  # the reference was parsed, not skipped
    missing = []
    for module_name, name in names:
        module = importlib.import_module(module_name)
        if not hasattr(module, name) or name not in getattr(module, "__all__", ()):
            missing.append(f"{module_name}.{name}")
    assert not missing, f"documented but not importable (or not in __all__): {missing}"
