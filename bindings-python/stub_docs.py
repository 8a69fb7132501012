"""Writes the docstrings of ``wayfinder_tokens/_native.pyi`` from the built
module, so that each is written once: in the Rust doc comment of the binding
(or the Python function the package attaches), which ``help()`` shows at run
time. The stub keeps the signatures and types, which the module cannot give.

Usage: python bindings-python/stub_docs.py [--check]
(--check: exit 1 and show the difference when the stub is not up to date).
"""

from __future__ import annotations

import ast
import difflib
import inspect
import sys
from pathlib import Path
from typing import Any

STUB = Path(__file__).resolve().parent / "python" / "wayfinder_tokens" / "_native.pyi"


def _quoted(doc: str, indent: str) -> list[str]:
    doc = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if doc.endswith('"'):
        doc = doc[:-1] + '\\"'
    lines = doc.split("\n")
    out = [f'{indent}"""{lines[0]}']
    out += [f"{indent}{line}" if line else "" for line in lines[1:]]
    out[-1] += '"""'
    return out


def _runtime_doc(owner: Any, name: str) -> str | None:
    doc = getattr(getattr(owner, name, None), "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else None


def generated(text: str, native: Any) -> str:
    """The stub `text` with every docstring replaced by the module's own."""
    lines = text.split("\n")
    edits: list[tuple[int, int, list[str]]] = []

    def visit(node: ast.AST, owner: Any, name: str) -> None:
        body = getattr(node, "body", [])
        first = body[0] if body else None
        is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
        doc = _runtime_doc(owner, name)
        if not (is_doc and doc and isinstance(first.value.value, str)):  # type: ignore[union-attr]
            return
        indent = " " * first.col_offset  # type: ignore[union-attr]
        edits.append((first.lineno - 1, first.end_lineno or first.lineno, _quoted(doc, indent)))  # type: ignore[union-attr]

    for node in ast.parse(text).body:
        if isinstance(node, ast.ClassDef):
            visit(node, native, node.name)
            cls = getattr(native, node.name, None)
            for member in node.body:
                if isinstance(member, ast.FunctionDef) and cls is not None:
                    visit(member, cls, member.name)
        elif isinstance(node, ast.FunctionDef):
            visit(node, native, node.name)
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = new
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    import wayfinder_tokens  # attaches the Python-written methods to the native classes
    from wayfinder_tokens import _native

    del wayfinder_tokens
    text = STUB.read_text()
    new = generated(text, _native)
    if "--check" in argv:
        if new == text:
            return 0
        diff = difflib.unified_diff(text.splitlines(), new.splitlines(), str(STUB), "generated", lineterm="")
        print("\n".join(diff))
        print("the stub's docstrings differ from the module's: run make stubs", file=sys.stderr)
        return 1
    STUB.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
