"""Off the happy path, as Python users meet it: proxies in the environment,
half-set variables, servers that echo secrets, and GitHub Actions env files."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import wayfinder_tokens as wft
from support import ADMIN
from wayfinder_tokens.testing import Emulator


class Trap:
    """A TCP listener that counts connections: where a proxied request would land."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.hits = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.close()


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY"])
def test_loopback_never_goes_through_a_proxy(
    emulator: Emulator, trap: Trap, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, trap.url)
    with wft.Client(server=emulator.url, token=ADMIN, workspace="dev", timeout=5, max_retries=0) as client:
        issued = client.create_workspace_access_token("proxied")
        assert issued.token
    assert trap.hits == 0, "the bearer token went through the proxy"


@pytest.mark.parametrize(
    ("present", "missing"), [("WAYFINDER_TOKEN", "WAYFINDER_SERVER"), ("WAYFINDER_SERVER", "WAYFINDER_TOKEN")]
)
def test_half_set_environment_names_the_missing_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, present: str, missing: str
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "current-profile: a\nprofiles: {a: {server: a, user: a}}\n"
        "servers: {a: {server: 'http://127.0.0.1:9'}}\nusers: {a: {token: file-token}}\n"
    )
    monkeypatch.setenv("WAYFINDER_CONFIG", str(config))
    monkeypatch.delenv(missing, raising=False)
    monkeypatch.setenv(present, "https://wayfinder.example.com")
    with pytest.raises(wft.ConfigError, match=missing):
        wft.Client.from_env()


def test_echoed_secrets_never_reach_exception_text(client: wft.Client, emulator: Emulator) -> None:
    issued = client.create_workspace_access_token("echo")
    secret = issued.token
    assert secret
    pipeline = wft.Client(server=emulator.url, token=secret, workspace="dev", max_retries=0)
    pipeline.whoami()
    for status in (400, 401, 404, 409, 503):
        body = {"code": status, "message": f"refused {ADMIN} and {secret}", "detail": secret}
        emulator.inject_fault("/resources", status=status, body=json.dumps(body), times=4)
        with pytest.raises(wft.WayfinderError) as info:
            client.list_workspace_access_tokens()
        text = f"{info.value} {info.value!r} {info.value.args}"
        assert ADMIN not in text and secret not in text, text
        emulator.clear_faults()


def wf(*args: str, env: dict[str, str], stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wayfinder_tokens", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=60,
    )


def base_env(emulator: Emulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAYFINDER_", "GITHUB_"))}
    env.update(WAYFINDER_SERVER=emulator.url, WAYFINDER_TOKEN=ADMIN, WAYFINDER_WORKSPACE="dev")
    return env


def parse_github_env(text: str) -> dict[str, str]:
    """Reads an env file the way the Actions runner does."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            key, delimiter = line.split("<<", 1)
            parts: list[str] = []
            for inner in lines:
                if inner == delimiter:
                    break
                parts.append(inner)
            out[key] = "\n".join(parts)
        else:
            key, _, plain = line.partition("=")
            out[key] = plain
    return out


def test_github_output_masks_on_stdout_and_appends_to_the_env_file(emulator: Emulator, tmp_path: Path) -> None:
    env_file = tmp_path / "github_env"
    env_file.write_text("EARLIER=1\n")
    env = base_env(emulator) | {"GITHUB_ENV": str(env_file)}
    out = wf("create", "workspaceaccesstoken", "gha", "-o", "github", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("::add-mask::ey") and out.stdout.count("\n") == 1
    secret = out.stdout.removeprefix("::add-mask::").strip()
    text = env_file.read_text()
    assert "::" not in text, "no workflow command in the env file"
    assert parse_github_env(text) == {
        "EARLIER": "1",
        "WAYFINDER_SERVER": emulator.url,
        "WAYFINDER_TOKEN": secret,
        "WAYFINDER_WORKSPACE": "dev",
    }


def test_github_output_is_refused_before_any_request_when_it_could_leak(emulator: Emulator, tmp_path: Path) -> None:
    env_file = tmp_path / "github_env"
    env_file.write_text("")
    emulator.reset_stats()
    unset = wf("create", "workspaceaccesstoken", "gha", "-o", "github", env=base_env(emulator))
    assert unset.returncode == 2 and "GITHUB_ENV" in unset.stderr
    missing_env = base_env(emulator) | {"GITHUB_ENV": str(tmp_path / "missing")}
    missing = wf("create", "workspaceaccesstoken", "gha", "-o", "github", env=missing_env)
    assert missing.returncode == 2 and "missing" in missing.stderr, missing.stderr
    env = base_env(emulator) | {"GITHUB_ENV": str(env_file)}
    with env_file.open("a") as redirected:
        same = wf("create", "workspaceaccesstoken", "gha", "-o", "github", env=env, stdout=redirected.fileno())
    assert same.returncode == 2 and "stdout" in same.stderr, same.stderr
    assert env_file.read_text() == ""
    assert emulator.stats()["total"] == 0, "nothing was created"


def test_export_to_github_actions_from_the_library(
    client: wft.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / "github_env"
    env_file.write_text("")
    issued = client.create_workspace_access_token("lib-gha")
    monkeypatch.delenv("GITHUB_ENV", raising=False)
    with pytest.raises(wft.ConfigError, match="GITHUB_ENV"):
        issued.export_to_github_actions()
    monkeypatch.setenv("GITHUB_ENV", str(env_file))
    assert issued.export_to_github_actions() == env_file
    assert capfd.readouterr().out == f"::add-mask::{issued.token}\n"
    assert parse_github_env(env_file.read_text())["WAYFINDER_TOKEN"] == issued.token


def test_shell_output_exports_to_child_processes(client: wft.Client) -> None:
    issued = client.create_workspace_access_token("evald")
    script = 'eval "$1"; exec sh -c \'printf %s "$WAYFINDER_TOKEN"\''
    out = subprocess.run(["sh", "-c", script, "sh", issued.to_shell()], capture_output=True, text=True, check=True)
    assert out.stdout == issued.token
