"""`python -m wayfinder_tokens`: the core's CLI, same flags and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import wayfinder_tokens as wft
from support import ADMIN, cli_env
from wayfinder_tokens.testing import Emulator


def wf(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wayfinder_tokens", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_create_and_list(emulator: Emulator, tmp_path: Path) -> None:
    env = cli_env(emulator.url, tmp_path)
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
    env = cli_env(emulator.url, tmp_path)
    out = wf("create", "workspaceaccesstoken", "dbg", "--show-token", "--debug", env=env)
    assert out.returncode == 0, out.stderr
    secret = out.stdout.strip()
    assert "DEBUG wayfinder_tokens" in out.stderr and "/token" in out.stderr
    assert secret not in out.stderr and ADMIN not in out.stderr
    with wft.Client(server=emulator.url, token=secret) as c:
        assert c.whoami().subject_kind == "WorkspaceAccessToken"


def subcommands(path: list[str], env: dict[str, str]) -> list[list[str]]:
    """Every command path under `path`, from the "Commands:" sections of --help."""
    text = wf(*path, "--help", env=env).stdout
    found = [path]
    if "Commands:" in text:
        section = text.split("Commands:", 1)[1].split("\n\n", 1)[0]
        for line in section.splitlines():
            name = line.split()[0] if line.strip() else ""
            if name and name != "help":
                found += subcommands([*path, name], env)
    return found


def help_examples(env: dict[str, str]) -> list[str]:
    """The command lines each --help gives as examples, in order."""
    examples: list[str] = []
    for path in subcommands([], env):
        text = wf(*path, "--help", env=env).stdout
        for line in text.split("Examples:", 1)[-1].splitlines() if "Examples:" in text else []:
            if line.startswith("  wayfinder-tokens ") and line.strip() not in examples:
                examples.append(line.strip())
    return examples


def test_every_help_example_works(tmp_path: Path) -> None:
    """Each example of every --help, run as written, against an emulator holding what it
    assumes: the token it creates absent, the tokens it reads, resets or grants present."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("WAYFINDER_")}
    examples = help_examples(base)
    assert len(examples) == len(set(examples)) >= 12, examples
    assert any("--show-config -o export" in e for e in examples)
    for i, example in enumerate(examples):
        with Emulator(admin_token=ADMIN, workspaces=["dev", "payments"]) as emu:
            creates = "create " in example and "--reset-token" not in example
            with wft.Client(server=emu.url, token=ADMIN, workspace="dev", timeout=10) as c:
                if not creates:
                    c.create_workspace_access_token("ci-deploy")
                    c.create_workspace_access_token("ci-deploy", workspace="payments")
                    c.create_platform_access_token("fleet-bot")
                elif "fleet-bot" not in example and "platformaccesstoken" in example:
                    c.create_platform_access_token("fleet-bot")
            env = dict(
                base,
                WAYFINDER_SERVER=emu.url,
                WAYFINDER_TOKEN=ADMIN,
                WAYFINDER_CONFIG=str(tmp_path / "c"),
                GITHUB_API_URL=f"{emu.url}/github",
                GITHUB_TOKEN=ADMIN,
                XDG_STATE_HOME=str(tmp_path / "state"),
            )
            cwd = tmp_path / f"example-{i}"
            cwd.mkdir()
            if "tokens.yaml" in example:
                # The spec the tokens-as-code examples name, already applied: each then has
                # nothing pending, and exits 0.
                (cwd / "tokens.yaml").write_text(
                    "apiVersion: wayfinder-tokens/v1\ntokens:\n  - name: app-deploy\n    workspace: dev\n"
                    "    deliver: [file:app-deploy.env]\n    rotate: {maxAge: 30d}\n"
                )
                applied = subprocess.run(
                    [sys.executable, "-m", "wayfinder_tokens", "apply", "-f", "tokens.yaml"],
                    cwd=cwd,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert applied.returncode == 0, applied.stderr
            script = f'wayfinder-tokens() {{ "{sys.executable}" -m wayfinder_tokens "$@"; }}\n{example}\n'
            out = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, f"{example}\n{out.stderr}"


def test_a_refused_token_says_where_it_came_from(emulator: Emulator, tmp_path: Path) -> None:
    env = dict(cli_env(emulator.url, tmp_path), WAYFINDER_TOKEN="not-a-working-token")
    out = wf("whoami", env=env)
    assert out.returncode == 1
    assert "came from WAYFINDER_SERVER and WAYFINDER_TOKEN" in out.stderr, out.stderr
    with wft.Client(server=emulator.url, token="not-a-working-token") as c, pytest.raises(wft.AuthenticationError) as e:
        c.whoami()
    assert "came from the token argument" in str(e.value)


def test_usage_lines_name_the_command_as_it_was_run(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYFINDER_")}
    for module, expected in [
        ("wayfinder_tokens", "Usage: python -m wayfinder_tokens create [OPTIONS]"),
        ("wayfinder_tokens.testing", "Usage: python -m wayfinder_tokens.testing [OPTIONS]"),
    ]:
        args = ["create", "--help"] if module == "wayfinder_tokens" else ["--help"]
        out = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 0 and expected in out.stdout, out.stdout
