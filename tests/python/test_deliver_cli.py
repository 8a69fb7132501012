"""`--deliver` and `deliver --pending` from the command line, against the emulator's GitHub
routes, a real OpenBao server, commands and files: every destination checked before any reset,
each write verified, and the secret never lost when a delivery fails or the process is killed."""

from __future__ import annotations

import base64
import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import nacl.public
import pytest

import wayfinder_tokens as wft
from support import ADMIN, cli_env
from wayfinder_tokens.testing import Emulator


def wf(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wayfinder_tokens", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def http(method: str, url: str, headers: dict[str, str], body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json", **headers}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read()
    return json.loads(text) if text else None


def github_state(emulator: Emulator) -> Any:
    return http("GET", f"{emulator.url}/emulator/github", {"authorization": f"Bearer {ADMIN}"})


def deliver_env(emulator: Emulator, tmp_path: Path, openbao: tuple[str, str]) -> dict[str, str]:
    env = cli_env(emulator.url, tmp_path)
    env.update(
        GITHUB_API_URL=f"{emulator.url}/github", GITHUB_TOKEN=ADMIN, VAULT_ADDR=openbao[0], VAULT_TOKEN=openbao[1]
    )
    return env


def vault_data(openbao: tuple[str, str], path: str) -> Any:
    return http("GET", f"{openbao[0]}/v1/secret/data/{path}", {"x-vault-token": openbao[1]})["data"]


def whoami(emulator: Emulator, secret: str) -> str:
    with wft.Client(server=emulator.url, token=secret, timeout=10) as c:
        return c.whoami().subject_kind


def pending_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "state" / "wayfinder-tokens"
    return sorted(folder.glob("*.json")) if folder.exists() else []


def test_create_delivers_to_github_vault_a_command_and_a_file_and_prints_no_secret(
    emulator: Emulator, tmp_path: Path, openbao: tuple[str, str]
) -> None:
    env = deliver_env(emulator, tmp_path, openbao)
    out_file = tmp_path / "cmd-stdin"
    args = [
        "create", "workspaceaccesstoken", "app-deploy",
        "--deliver", "github:acme/app@prod",
        "--deliver", f"vault:secret/ci/{os.getpid()}/{{workspace}}/{{name}}",
        "--deliver", f"cmd:sh -c 'cat > {out_file}; env > {out_file}.env'",
        "--deliver", f"file:{tmp_path}/{{name}}.env?prefix=CI_",
    ]  # fmt: skip
    out = wf(*args, env=env)
    assert out.returncode == 0, out.stderr
    for where in ["github:acme/app@prod", f"vault:secret/ci/{os.getpid()}/dev/app-deploy", "cmd:sh", "file:"]:
        assert f"delivered to {where}" in out.stdout, out.stdout
    secret = vault_data(openbao, f"ci/{os.getpid()}/dev/app-deploy")["data"]["WAYFINDER_TOKEN"]
    assert secret not in out.stdout and secret not in out.stderr, "with --deliver, the secret is not printed"
    assert whoami(emulator, secret) == "WorkspaceAccessToken"
    assert github_state(emulator)["secrets"]["repos/acme/app/environments/prod/WAYFINDER_TOKEN"]["value"] == secret
    assert out_file.read_text() == secret
    child_env = Path(f"{out_file}.env").read_text()
    assert secret not in child_env and "WAYFINDER_TOKEN=" not in child_env
    for credential in [ADMIN, openbao[1]]:
        assert credential not in child_env, "GitHub's, Vault's and this library's credentials stay here"
    assert "WAYFINDER_WORKSPACE=dev" in child_env
    env_file = tmp_path / "app-deploy.env"
    assert f"CI_WAYFINDER_TOKEN={secret}" in env_file.read_text()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert pending_files(tmp_path) == [], "nothing waits once every destination verified"

    # With -o, the secret is printed too, and where it went is said on stderr.
    out = wf(
        "create",
        "workspaceaccesstoken",
        "app-deploy",
        "--reset-token",
        "-o",
        "token",
        "--deliver",
        "github:acme/app",
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == github_state(emulator)["secrets"]["repos/acme/app/actions/WAYFINDER_TOKEN"]["value"]
    assert "delivered to github:acme/app" in out.stderr


def test_sealed_boxes_interoperate_with_libsodium(emulator: Emulator, tmp_path: Path, openbao: tuple[str, str]) -> None:
    env = deliver_env(emulator, tmp_path, openbao)
    out = wf("create", "platformaccesstoken", "sealed", "--deliver", "github-org:acme?visibility=all", env=env)
    assert out.returncode == 0, out.stderr
    state = github_state(emulator)
    stored = state["secrets"]["orgs/acme/actions/WAYFINDER_TOKEN"]
    assert stored["visibility"] == "all"
    # A box this library sealed opens with libsodium itself.
    private = nacl.public.PrivateKey(base64.b64decode(state["secret_key"]))
    opened = nacl.public.SealedBox(private).decrypt(base64.b64decode(stored["encrypted_value"])).decode()
    assert opened == stored["value"]
    assert whoami(emulator, opened) == "PlatformAccessToken"
    assert "orgs/acme/actions/WAYFINDER_WORKSPACE" not in state["variables"], "a platform token has no workspace"
    # A box libsodium sealed opens in the emulator, through GitHub's own route.
    public = nacl.public.PublicKey(base64.b64decode(state["public_key"]))
    sealed = base64.b64encode(nacl.public.SealedBox(public).encrypt(b"sealed by libsodium")).decode()
    http(
        "PUT",
        f"{emulator.url}/github/repos/acme/app/actions/secrets/FROM_LIBSODIUM",
        {"authorization": f"Bearer {ADMIN}"},
        {"encrypted_value": sealed, "key_id": state["key_id"]},
    )
    assert github_state(emulator)["secrets"]["repos/acme/app/actions/FROM_LIBSODIUM"]["value"] == "sealed by libsodium"


def test_a_failing_preflight_resets_nothing_and_the_old_secret_still_works(
    emulator: Emulator, tmp_path: Path, openbao: tuple[str, str]
) -> None:
    env = deliver_env(emulator, tmp_path, openbao)
    old = wf("create", "workspaceaccesstoken", "kept", "--show-token", env=env).stdout.strip()

    def issues() -> int:
        requests = emulator.stats()["requests"]
        return sum(n for key, n in requests.items() if key.startswith("POST ") and key.endswith("/kept/token"))

    issued_before = issues()
    no_github = {k: v for k, v in env.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    for bad_env, spec, words in [
        (no_github, "github:acme/app", "GITHUB_TOKEN"),
        (env, "cmd:no-such-program-anywhere", "not found"),
        (dict(env, VAULT_ADDR="http://vault.example.com:8200"), "vault:secret/x", "plain HTTP"),
        (dict(env, VAULT_TOKEN="not-a-vault-token-canary"), "vault:secret/x", "permission denied"),
    ]:
        out = wf("create", "workspaceaccesstoken", "kept", "--reset-token", "--deliver", spec, env=bad_env)
        assert out.returncode in (1, 2), out
        assert words in out.stderr and f"deliver to {spec}" in out.stderr, out.stderr
        assert "not-a-vault-token-canary" not in out.stderr
    assert issues() == issued_before, "preflight refused before any reset"
    assert whoami(emulator, old) == "WorkspaceAccessToken", "nothing was reset"


def test_a_failed_destination_keeps_the_secret_until_deliver_pending(
    emulator: Emulator, tmp_path: Path, openbao: tuple[str, str]
) -> None:
    env = deliver_env(emulator, tmp_path, openbao)
    emulator.inject_fault("/github/repos/acme/down/actions/secrets/WAYFINDER_TOKEN", status=500, times=100)
    out = wf(
        "create",
        "workspaceaccesstoken",
        "half",
        "--deliver",
        "github:acme/up",
        "--deliver",
        "github:acme/down",
        env=env,
    )
    assert out.returncode == 1, out
    assert "delivered to github:acme/up" in out.stdout and "NOT delivered to github:acme/down" in out.stdout
    assert "deliver --pending" in out.stderr
    [pending] = pending_files(tmp_path)
    assert stat.S_IMODE(pending.stat().st_mode) == 0o600
    assert stat.S_IMODE(pending.parent.stat().st_mode) == 0o700
    saved = json.loads(pending.read_text())
    assert [(d["spec"], d["delivered"]) for d in saved["destinations"]] == [
        ("github:acme/up", True),
        ("github:acme/down", False),
    ]
    assert whoami(emulator, saved["token"]) == "WorkspaceAccessToken", "the waiting secret is the live one"

    listed = wf("deliver", "--pending", "--list", env=env)
    assert listed.returncode == 0 and "half" in listed.stdout and "github:acme/down" in listed.stdout
    assert saved["token"] not in listed.stdout
    still = wf("deliver", "--pending", env=env)
    assert still.returncode == 1 and "1 still waiting" in still.stdout, still
    emulator.clear_faults()
    done = wf("deliver", "--pending", env=env)
    assert done.returncode == 0 and "1 finished" in done.stdout, done
    assert pending_files(tmp_path) == []
    assert github_state(emulator)["secrets"]["repos/acme/down/actions/WAYFINDER_TOKEN"]["value"] == saved["token"]


def test_a_process_killed_between_mint_and_delivery_loses_nothing(
    emulator: Emulator, tmp_path: Path, openbao: tuple[str, str]
) -> None:
    env = deliver_env(emulator, tmp_path, openbao)
    gate, received = tmp_path / "go", tmp_path / "received"
    # The command waits for the gate, so the CLI is killed with the secret minted and undelivered.
    spec = f"cmd:sh -c 'while [ ! -e {gate} ]; do sleep 0.05; done; cat > {received}'"
    cli = subprocess.Popen(
        [sys.executable, "-m", "wayfinder_tokens", "create", "workspaceaccesstoken", "killed", "--deliver", spec],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not pending_files(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    cli.send_signal(signal.SIGKILL)
    cli.communicate(timeout=30)
    [pending] = pending_files(tmp_path)
    secret = json.loads(pending.read_text())["token"]
    assert whoami(emulator, secret) == "WorkspaceAccessToken"
    gate.touch()
    done = wf("deliver", "--pending", env=env)
    assert done.returncode == 0, done
    assert received.read_text() == secret
    assert pending_files(tmp_path) == []


def test_rotate_delivers_each_token_to_its_own_path(
    emulator: Emulator, tmp_path: Path, openbao: tuple[str, str]
) -> None:
    env = deliver_env(emulator, tmp_path, openbao)
    for name in ["svc-a", "svc-b", "svc-c"]:
        assert wf("create", "workspaceaccesstoken", name, env=env).returncode == 0
    base = f"ci/rot{os.getpid()}"
    out = wf(
        "rotate",
        "workspaceaccesstokens",
        "-w",
        "dev",
        "svc-*",
        "--deliver",
        f"vault:secret/{base}/{{workspace}}/{{name}}",
        env=env,
    )
    assert out.returncode == 0, out.stderr
    for name in ["svc-a", "svc-b", "svc-c"]:
        data = vault_data(openbao, f"{base}/dev/{name}")
        assert whoami(emulator, data["data"]["WAYFINDER_TOKEN"]) == "WorkspaceAccessToken"
        assert data["data"]["WAYFINDER_TOKEN"] not in out.stdout + out.stderr
        assert f"dev/{name}: delivered to vault:secret/{base}/dev/{name} (version 1)" in out.stderr
    # A destination that fails preflight for any token stops the batch before the first reset.
    out = wf(
        "rotate",
        "workspaceaccesstokens",
        "-w",
        "dev",
        "svc-*",
        "--deliver",
        "github:acme/{name}",
        env=dict(env, GITHUB_TOKEN=""),
    )
    assert out.returncode == 2 and "GITHUB_TOKEN" in out.stderr, out
    data = vault_data(openbao, f"{base}/dev/svc-a")
    assert whoami(emulator, data["data"]["WAYFINDER_TOKEN"]) == "WorkspaceAccessToken", "nothing was reset"


@pytest.mark.parametrize("spec", ["github:acme", "s3:bucket", "vault:secret//x", "cmd:"])
def test_bad_specs_exit_2_before_any_request(emulator: Emulator, tmp_path: Path, spec: str) -> None:
    out = wf("create", "workspaceaccesstoken", "never", "--deliver", spec, env=cli_env(emulator.url, tmp_path))
    assert out.returncode == 2 and "--deliver" in out.stderr, out
    with wft.Client(server=emulator.url, token=ADMIN, workspace="dev") as c:
        assert [t.name for t in c.list_workspace_access_tokens()] == []
