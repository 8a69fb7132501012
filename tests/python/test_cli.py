"""`python -m wayfinder_tokens`: the core's CLI, same flags and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import wayfinder_tokens as wft
from support import ADMIN
from wayfinder_tokens.testing import Emulator


def wf(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wayfinder_tokens", *args], capture_output=True, text=True, env=env, timeout=60
    )


def cli_env(emulator: Emulator, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYFINDER_")}
    env.update(
        WAYFINDER_SERVER=emulator.url,
        WAYFINDER_TOKEN=ADMIN,
        WAYFINDER_WORKSPACE="dev",
        WAYFINDER_CONFIG=str(tmp_path / "config"),
    )
    return env


def test_create_and_list(emulator: Emulator, tmp_path: Path) -> None:
    env = cli_env(emulator, tmp_path)
    out = wf("create", "workspaceaccesstoken", "ci-deploy", "-d", "My deployment token", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith('# Workspace access token "ci-deploy"')
    assert "WAYFINDER_WORKSPACE = dev" in out.stdout

    out = wf("create", "workspaceaccesstoken", "b", "-o", "export", env=env)
    assert [line.split("=")[0] for line in out.stdout.splitlines()] == [
        "WAYFINDER_SERVER",
        "WAYFINDER_TOKEN",
        "WAYFINDER_WORKSPACE",
    ]
    out = wf("list", "workspaceaccesstokens", "-o", "json", env=env)
    assert [t["metadata"]["name"] for t in json.loads(out.stdout)] == ["b", "ci-deploy"]
    out = wf("create", "workspaceaccesstoken", "b", env=env)
    assert out.returncode == 1 and out.stderr.startswith("error: ")
    out = wf("create", "workspaceaccesstoken", "Bad_Name", env=env)
    assert out.returncode == 2 and "name" in out.stderr
    out = wf("--help", env=env)
    assert out.returncode == 0 and "workspaceaccesstoken" not in out.stderr


def test_debug_logs_never_show_the_token(emulator: Emulator, tmp_path: Path) -> None:
    env = cli_env(emulator, tmp_path)
    out = wf("create", "workspaceaccesstoken", "dbg", "--show-token", "--debug", env=env)
    assert out.returncode == 0, out.stderr
    secret = out.stdout.strip()
    assert "DEBUG wayfinder_tokens" in out.stderr and "/token" in out.stderr
    assert secret not in out.stderr and ADMIN not in out.stderr
    with wft.Client(server=emulator.url, token=secret) as c:
        assert c.whoami().subject_kind == "WorkspaceAccessToken"
