"""What each artifact weighs, and which crates the bytes of a native library come from.

The breakdown reads the symbol table of an unstripped build (sizes of functions and data,
grouped by the crate that defines them; C libraries by their prefix), so it runs on the
library before it is stripped for shipping:

    python .github/scripts/size_report.py --library UNSTRIPPED.so ARTIFACT...
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from collections import Counter
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

# C code has no crate in its symbols: these prefixes name where it comes from.
C_PREFIXES = {"aws_lc": "aws-lc (C)", "sqlite3": "sqlite (C)", "ring_core": "ring (C)"}
# Rust's own escapes in legacy mangled names.
ESCAPES = {"$LT$": "<", "$GT$": ">", "$RF$": "&", "$BP$": "*", "$u20$": " ", "$C$": ",", "..": "::"}


def crate_of(symbol: str) -> str:
    """The crate a legacy-mangled Rust symbol belongs to; for `<T as Trait>::f`, T's crate."""
    for prefix, name in C_PREFIXES.items():
        if symbol.startswith(prefix):
            return name
    found = re.match(r"_ZN(\d+)", symbol)
    if not found:
        return "other (C, runtime glue)"
    length = int(found.group(1))
    first = symbol[found.end() : found.end() + length]
    for escape, text in ESCAPES.items():
        first = first.replace(escape, text)
    first = first.lstrip("_<&*[ ").removeprefix("mut ").removeprefix("const ").removeprefix("dyn ")
    crate = re.split(r"::|[ <>,;\[\]]", first, maxsplit=1)[0]
    crate = crate.replace("_", "-") or "other"
    # Rust's own libraries: their generics are instantiated here for every caller.
    return f"{crate} (Rust std)" if crate in ("core", "alloc", "std") else crate


def breakdown(library: Path) -> Counter[str]:
    sizes: Counter[str] = Counter()
    with library.open("rb") as handle:
        elf = ELFFile(handle)
        for section in elf.iter_sections():
            if isinstance(section, SymbolTableSection) and section.name == ".symtab":
                for symbol in section.iter_symbols():
                    if symbol["st_size"] and symbol["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT"):
                        sizes[crate_of(symbol.name)] += symbol["st_size"]
    if not sizes:
        sys.exit(f"{library} has no symbol table: give the unstripped build")
    return sizes


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:6.2f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, required=True, help="an unstripped build of the native library")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("artifacts", type=Path, nargs="*")
    args = parser.parse_args()

    print("artifact                                                           size")
    for artifact in args.artifacts:
        print(f"{artifact.name:<62} {megabytes(artifact.stat().st_size)}")
        if artifact.suffix == ".whl":
            with zipfile.ZipFile(artifact) as wheel:
                for info in wheel.infolist():
                    if info.filename.endswith(".so"):
                        zipped = megabytes(info.compress_size).strip()
                        print(f"  {info.filename:<60} {megabytes(info.file_size)} ({zipped} zipped)")

    sizes = breakdown(args.library)
    total = sum(sizes.values())
    print(f"\ncode and data by crate in {args.library.name} (symbols {megabytes(total).strip()})")
    for crate, size in sizes.most_common(args.top):
        print(f"  {crate:<40} {megabytes(size)}  {100 * size / total:5.1f} %")
    rest = total - sum(size for _, size in sizes.most_common(args.top))
    print(f"  {'(the rest)':<40} {megabytes(rest)}  {100 * rest / total:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
