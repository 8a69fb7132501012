"""Replaces the build machine's checkout path in the SBOMs of built wheels.

maturin records each workspace crate in the wheel's CycloneDX SBOM by its
package id, ``path+file:///<checkout>/<crate>``: the absolute path of the
machine that built it. This rewrites that prefix to ``file:///build`` in every
``.dist-info/sboms/`` file and updates the wheel's RECORD to match, so a
released wheel says nothing of where it was built.

Usage: python scrub_sbom.py CHECKOUT WHEEL...
"""

from __future__ import annotations

import base64
import hashlib
import sys
import zipfile
from pathlib import Path

NEUTRAL = "file:///build"


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def scrub(wheel: Path, checkout: Path) -> int:
    """Rewrites `wheel` in place; returns how many SBOM files changed."""
    prefix = "file://" + str(checkout.resolve()).rstrip("/")
    with zipfile.ZipFile(wheel) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    changed: dict[str, bytes] = {}
    for info, data in members:
        if "/sboms/" in info.filename and ".dist-info/" in info.filename:
            text = data.decode("utf-8")
            if prefix in text:
                changed[info.filename] = text.replace(prefix, NEUTRAL).encode("utf-8")
    if not changed:
        return 0
    record_name = next(info.filename for info, _ in members if info.filename.endswith(".dist-info/RECORD"))
    rewritten = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(rewritten, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            if info.filename == record_name:
                lines = []
                for line in data.decode("utf-8").splitlines():
                    name = line.split(",", 1)[0]
                    lines.append(record_line(name, changed[name]) if name in changed else line)
                data = ("\n".join(lines) + "\n").encode("utf-8")
            target.writestr(info, changed.get(info.filename, data))
    rewritten.replace(wheel)
    return len(changed)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    checkout = Path(argv[0])
    for wheel in map(Path, argv[1:]):
        print(f"{wheel.name}: {scrub(wheel, checkout)} SBOM file(s) scrubbed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
