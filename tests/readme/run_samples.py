"""Runs every code sample in README.md against a fresh embedded emulator.

python blocks run in the project's venv (top-level `await` is wrapped in
`asyncio.run`, as a notebook would run it); js blocks run with node (ESM when
they import) from a scratch project that installs this package the way a user
would; ts blocks are compiled with `tsc --strict`; sh blocks run in bash,
except `make` lines, which `make test` runs itself. text and yaml blocks are
outputs and are not run; console blocks are installation commands (a registry
download or a release build), which the release workflow exercises instead.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from wayfinder_tokens.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
RUNNABLE = {"python", "js", "ts", "sh"}


def scratch_project(path: Path) -> None:
    """A project that depends on this package, as a user's would."""
    (path / "package.json").write_text(json.dumps({"name": "readme-samples", "private": True}))
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error", str(ROOT)],
        cwd=path,
        check=True,
    )
    tsconfig = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "target": "ES2022",
            "module": "NodeNext",
            "moduleResolution": "NodeNext",
            "types": ["node"],
            "typeRoots": [str(ROOT / "node_modules" / "@types")],
        },
        "files": ["sample.ts"],
    }
    (path / "tsconfig.json").write_text(json.dumps(tsconfig))


def wrap_top_level_await(code: str) -> str:
    if not re.search(r"^(\S.*)?\bawait\b", code, re.M):
        return code
    imports = [line for line in code.splitlines() if line.startswith(("import ", "from "))]
    body = [line for line in code.splitlines() if not line.startswith(("import ", "from "))]
    return "\n".join(
        ["import asyncio", *imports, "", "async def __sample() -> None:"]
        + [textwrap.indent(line, "    ") if line else "" for line in body]
        + ["", "asyncio.run(__sample())", ""]
    )


def command_for(lang: str, code: str, workdir: Path) -> list[str]:
    if lang == "python":
        sample = workdir / "sample.py"
        sample.write_text(wrap_top_level_await(code))
        return [sys.executable, str(sample)]
    if lang == "js":
        sample = workdir / ("sample.mjs" if re.search(r"^import ", code, re.M) else "sample.cjs")
        sample.write_text(code)
        return ["node", str(sample)]
    if lang == "ts":
        (workdir / "sample.ts").write_text(code)
        return [str(ROOT / "node_modules" / ".bin" / "tsc"), "-p", str(workdir / "tsconfig.json")]
    lines = [line for line in code.splitlines() if line.strip() and not line.lstrip().startswith("make ")]
    return ["bash", "-euo", "pipefail", "-c", "\n".join(lines)] if lines else []


def main(readme: str) -> int:
    blocks = FENCE.findall((ROOT / readme).read_text(encoding="utf-8"))
    runnable = [(lang, code) for lang, code in blocks if lang in RUNNABLE]
    unknown = {lang for lang, _ in blocks} - RUNNABLE - {"text", "yaml", "console"}
    if unknown:
        print(f"unknown fenced languages in {readme}: {unknown}", file=sys.stderr)
        return 1
    ran = 0
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        scratch_project(project)
        for index, (lang, code) in enumerate(runnable, 1):
            command = command_for(lang, code, project)
            if not command:
                print(f"sample {index} ({lang}): only make commands, run by make test itself")
                continue
            home = Path(tmp) / f"home{index}"
            home.mkdir()
            # The samples use the workspaces a typical server has: dev and prod.
            with Emulator(workspaces=["dev", "prod"]) as emulator:
                env = dict(
                    os.environ,
                    WAYFINDER_SERVER=emulator.url,
                    WAYFINDER_TOKEN=emulator.admin_token,
                    WAYFINDER_WORKSPACE="dev",
                    WAYFINDER_CONFIG=str(home / "config"),
                    # Delivery samples reach GitHub's Actions routes on the emulator.
                    GITHUB_API_URL=f"{emulator.url}/github",
                    GITHUB_TOKEN=emulator.admin_token,
                    HOME=str(home),
                    PATH=f"{Path(sys.executable).parent}{os.pathsep}{project / 'node_modules' / '.bin'}{os.pathsep}"
                    + os.environ["PATH"],
                )
                result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=120)
            if result.returncode != 0:
                print(f"sample {index} ({lang}) failed with {result.returncode}:\n{code}", file=sys.stderr)
                print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
                return 1
            ran += 1
            print(f"sample {index} ({lang}): ok")
    print(f"{ran} README samples ran")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
