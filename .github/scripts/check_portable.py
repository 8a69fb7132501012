"""Checks that portable Linux artifacts run where the README says they do.

A glibc wheel's platform tag is auditwheel's verdict (what the binary really needs), not the name
maturin gave the file; an addon's floor is the highest GLIBC symbol version it links against,
read from its ELF version-needs section. auditwheel cannot judge a musl wheel on a glibc machine
(it looks `libc.so` up among the host's libraries and finds glibc's linker script), so a musl
wheel's library is read the way an addon is: every library it needs must be one musl's own
loader provides (`libc.so`, `libm.so`… name the loader itself), and no GLIBC version asked. The
promise is read from README.md, so the two cannot drift apart:

    python .github/scripts/check_portable.py --wheel WHEEL --addon ADDON [--musl]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

ROOT = Path(__file__).resolve().parents[2]


def promised() -> tuple[str, str]:
    """The glibc floor and the musllinux tag the README's install section promises."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    glibc = re.search(r"glibc (\d+\.\d+) or later \(`manylinux_(\d+)_(\d+)`", text)
    musl = re.search(r"musl libc \d+\.\d+ or later \(`(musllinux_\d+_\d+)`", text)
    if not glibc or not musl:
        sys.exit("README.md no longer states the glibc floor and the musllinux tag; say them again")
    if glibc.group(1) != f"{glibc.group(2)}.{glibc.group(3)}":
        sys.exit(f"README.md: glibc {glibc.group(1)} does not match manylinux_{glibc.group(2)}_{glibc.group(3)}")
    return glibc.group(1), musl.group(1)


def wheel_tag(wheel: Path) -> str:
    """The platform tag auditwheel says the wheel is consistent with."""
    shown = subprocess.run(
        [sys.executable, "-m", "auditwheel", "show", str(wheel)], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r'consistent with the following platform tag:\s*"([^"]+)"', shown)
    if not found:
        sys.exit(f"auditwheel gave no platform tag for {wheel.name}:\n{shown}")
    return found.group(1)


def glibc_versions(library: Path) -> tuple[list[str], list[str]]:
    """The shared libraries a binary needs, and the GLIBC_x.y versions it asks of them."""
    with library.open("rb") as handle:
        elf = ELFFile(handle)
        needed = [
            tag.needed for tag in elf.get_section_by_name(".dynamic").iter_tags() if tag.entry.d_tag == "DT_NEEDED"
        ]
        versions: set[str] = set()
        for section in elf.iter_sections():
            if isinstance(section, GNUVerNeedSection):
                for _, auxiliaries in section.iter_versions():
                    versions.update(aux.name for aux in auxiliaries if aux.name.startswith("GLIBC_"))
    return needed, sorted(versions, key=lambda v: [int(n) for n in re.findall(r"\d+", v)])


# The names musl's dynamic loader answers for itself (its reserved names), and its own soname.
MUSL_OWN = {f"lib{n}.so" for n in ("c", "pthread", "rt", "m", "dl", "util", "xnet")} | {"libc.musl-x86_64.so.1"}


def musl_wheel(wheel: Path) -> list[str]:
    """What is wrong with a musl wheel: its name's tag, and each library it holds."""
    import tempfile
    import zipfile

    problems = []
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(wheel) as archive:
        libraries = [n for n in archive.namelist() if n.endswith(".so")]
        if not libraries:
            problems.append(f"{wheel.name} holds no library")
        for name in libraries:
            path = Path(archive.extract(name, scratch))
            needed, versions = glibc_versions(path)
            print(
                f"wheel {wheel.name}: {name} needs {', '.join(needed)}; GLIBC versions {', '.join(versions) or 'none'}"
            )
            foreign = [n for n in needed if n not in MUSL_OWN]
            if versions or foreign:
                problems.append(f"{name} needs {', '.join(foreign + versions)}, which musl does not provide")
    return problems


def as_number(version: str) -> list[int]:
    return [int(n) for n in version.split(".")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, required=True)
    parser.add_argument("--addon", type=Path, required=True)
    parser.add_argument("--musl", action="store_true", help="the artifacts are for musl libc")
    args = parser.parse_args()
    glibc_floor, musl_tag = promised()
    arch = "x86_64"
    failures = []

    expected_tag = f"{musl_tag}_{arch}" if args.musl else f"manylinux_{glibc_floor.replace('.', '_')}_{arch}"
    if args.musl:
        if f"-{expected_tag}.whl" not in args.wheel.name:
            failures.append(f"the wheel {args.wheel.name} is not tagged {expected_tag}, as the README promises")
        failures += musl_wheel(args.wheel)
    else:
        tag = wheel_tag(args.wheel)
        print(f"wheel {args.wheel.name}: auditwheel says {tag}")
        if tag != expected_tag:
            failures.append(f"the wheel is {tag}, the README promises {expected_tag}")

    needed, versions = glibc_versions(args.addon)
    print(f"addon {args.addon.name}: needs {', '.join(needed)}; GLIBC versions {', '.join(versions) or 'none'}")
    if args.musl:
        foreign = [n for n in needed if n not in MUSL_OWN]
        if versions or foreign:
            failures.append(f"the musl addon needs {', '.join(foreign + versions)}, which musl does not provide")
    elif not versions:
        failures.append("the addon asks no GLIBC version: is it a glibc build?")
    elif as_number(versions[-1].removeprefix("GLIBC_")) > as_number(glibc_floor):
        failures.append(f"the addon needs {versions[-1]}, the README promises glibc {glibc_floor}")

    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
