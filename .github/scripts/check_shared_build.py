"""Fails when the Python and Node bindings would compile a shared dependency twice.

maturin and napi build one crate each into the same target folder. A dependency is
compiled once for both only when it gets the same features in both builds; one
feature apart (a proc-macro's `syn` asking for `visit-mut`, say) and cargo builds it
again, and every crate above it with it: every proc-macro, then tokio, hyper, the AWS
SDK and the core. This compares the feature sets `cargo tree` resolves for each
binding and names every shared package whose sets differ.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict

BINDINGS = ("wayfinder-tokens-python", "wayfinder-tokens-node")
LINE = re.compile(r"^(?P<package>\S+ v\S+)(?: \([^)]*\))* \[(?P<features>[^\]]*)\]")


def feature_sets(package: str, target: str) -> dict[str, set[str]]:
    """Every package in `package`'s build (host and target units alike) with each
    feature set it is compiled with."""
    listing = subprocess.run(
        ["cargo", "tree", "--quiet", "--locked", "-p", package, "--target", target]
        + ["-e", "normal,build", "--prefix", "none", "-f", "{p} [{f}]"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    sets: dict[str, set[str]] = defaultdict(set)
    for line in listing.splitlines():
        found = LINE.match(line)
        if found:
            sets[found["package"]].add(found["features"])
    return sets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="the target triple both builds use")
    target = parser.parse_args().target
    python, node = (feature_sets(binding, target) for binding in BINDINGS)
    differing = sorted(package for package in python.keys() & node.keys() if python[package] != node[package])
    for package in differing:
        print(f"{package} is built with different features by the two bindings:", file=sys.stderr)
        print(f"  Python: {' | '.join(sorted(python[package]))}", file=sys.stderr)
        print(f"  Node:   {' | '.join(sorted(node[package]))}", file=sys.stderr)
    if differing:
        print(
            "Give the binding that lacks them the same features (bindings-node/Cargo.toml's "
            "[build-dependencies] shows how for a proc-macro's dependency).",
            file=sys.stderr,
        )
        return 1
    shared = len(python.keys() & node.keys())
    print(f"the two bindings share all {shared} common dependencies, feature for feature")
    return 0


if __name__ == "__main__":
    sys.exit(main())
