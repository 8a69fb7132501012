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
