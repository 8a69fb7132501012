"""Packaging facts: the version matches Cargo's, the typing marker ships."""

from __future__ import annotations

import re
from pathlib import Path

import wayfinder_tokens as wft

ROOT = Path(__file__).resolve().parents[2]


def test_version_matches_the_workspace() -> None:
    cargo = (ROOT / "Cargo.toml").read_text()
    workspace_version = re.search(r'^\[workspace\.package\][^\[]*?^version = "([^"]+)"', cargo, re.M | re.S)
    assert workspace_version is not None
    assert wft.__version__ == workspace_version.group(1)


def test_typed_package() -> None:
    package = Path(wft.__file__).parent
    assert (package / "py.typed").exists()
    assert (package / "_native.pyi").exists()
    assert set(wft.__all__) <= set(dir(wft))


def test_every_public_class_method_and_property_has_a_docstring() -> None:
    """`help(wft.Client)` explains every call: nothing public is undocumented at runtime."""
    import inspect

    from wayfinder_tokens import testing

    missing = []
    owners = [(name, getattr(wft, name)) for name in wft.__all__] + [("testing.Emulator", testing.Emulator)]
    for name, obj in owners:
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if inspect.isclass(obj) and not issubclass(obj, BaseException) and name != "FieldError":
            for attr, value in vars(obj).items():
                if not attr.startswith("_") and not (getattr(value, "__doc__", "") or "").strip():
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_the_stubs_document_every_public_class_and_function() -> None:
    """Editors show the stubs' docstrings: every public class and function in _native.pyi has one."""
    import ast

    stubs = Path(wft.__file__).with_name("_native.pyi").read_text(encoding="utf-8")
    undocumented = [
        node.name
        for node in ast.walk(ast.parse(stubs))
        if isinstance(node, (ast.ClassDef, ast.FunctionDef))
        and not node.name.startswith("_")
        and node.name != "FieldError"
        and ast.get_docstring(node) is None
    ]
    assert undocumented == []


def test_the_stub_docstrings_are_the_module_s_own() -> None:
    """Each docstring is written once, in the binding (what `help()` shows); the stub's
    are generated from it by `make stubs`, so the two cannot drift apart."""
    import subprocess
    import sys

    check = subprocess.run(
        [sys.executable, str(ROOT / "bindings-python" / "stub_docs.py"), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr
