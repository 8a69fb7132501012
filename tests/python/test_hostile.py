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


def runner_files(tmp_path: Path) -> dict[str, str]:
    """The files a GitHub Actions runner gives a step, created empty as the runner does."""
    files = {}
    for name in ("GITHUB_ENV", "GITHUB_OUTPUT"):
        path = tmp_path / name.lower()
        path.write_text("")
        files[name] = str(path)
    return files


def run_steps(emulator: Emulator, tmp_path: Path, steps: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Runs `steps` as one job of a simulated runner: the job's own credentials in its
    environment, and each step's `$GITHUB_ENV` additions in the environment of the next."""
    job = base_env(emulator) | runner_files(tmp_path)
    done = []
    for step in steps:
        out = wf(*step, env=job)
        done.append(out)
        job = job | parse_github_env(Path(job["GITHUB_ENV"]).read_text())
    return done


ROLE = "workspace.accesstokenmanager"
SEED_FLOW = [
    ["create", "workspaceaccesstoken", "ci-deploy", "-w", "dev", "-o", "github"],
    ["assign", "wayfinderrole", "-w", "dev", "--workspace-access-token", "ci-deploy", "--role", ROLE],
]


def test_the_seed_create_then_assign_flow_works_in_one_job(emulator: Emulator, tmp_path: Path) -> None:
    create, assign = run_steps(emulator, tmp_path, SEED_FLOW)
    assert create.returncode == 0, create.stderr
    assert assign.returncode == 0, assign.stderr
    assert create.stdout.startswith("::add-mask::ey") and create.stdout.count("\n") == 1
    secret = create.stdout.removeprefix("::add-mask::").strip()
    outputs = parse_github_env((tmp_path / "github_output").read_text())
    assert outputs == {"WAYFINDER_SERVER": emulator.url, "WAYFINDER_TOKEN": secret, "WAYFINDER_WORKSPACE": "dev"}
    assert (tmp_path / "github_env").read_text() == "", "the job's own credentials are left alone"
    with wft.Client(server=emulator.url, token=secret, workspace="dev") as c:
        assert c.whoami().subject_kind == "WorkspaceAccessToken"


def test_github_env_with_a_prefix_keeps_the_job_credentials_and_without_one_replaces_them(
    emulator: Emulator, tmp_path: Path
) -> None:
    prefixed = [SEED_FLOW[0] + ["--github-env", "--github-prefix", "NEW_"], SEED_FLOW[1]]
    (tmp_path / "prefixed").mkdir()
    create, assign = run_steps(emulator, tmp_path / "prefixed", prefixed)
    assert create.returncode == 0 and assign.returncode == 0, assign.stderr
    variables = parse_github_env((tmp_path / "prefixed" / "github_env").read_text())
    assert set(variables) == {"NEW_WAYFINDER_SERVER", "NEW_WAYFINDER_TOKEN", "NEW_WAYFINDER_WORKSPACE"}
    # Named as they are, the variables make later steps run as the new token, which has no roles:
    # what --help and the README warn of.
    (tmp_path / "bare").mkdir()
    flow = [["create", "workspaceaccesstoken", "ci-other", "-w", "dev", "-o", "github", "--github-env"], SEED_FLOW[1]]
    flow[1] = [a if a != "ci-deploy" else "ci-other" for a in flow[1]]
    create, assign = run_steps(emulator, tmp_path / "bare", flow)
    assert create.returncode == 0 and assign.returncode == 1 and "403" in assign.stderr, assign.stderr


def test_github_output_is_refused_before_any_request_when_it_could_leak(emulator: Emulator, tmp_path: Path) -> None:
    files = runner_files(tmp_path)
    emulator.reset_stats()
    unset = wf("create", "workspaceaccesstoken", "gha", "-o", "github", env=base_env(emulator))
    assert unset.returncode == 2 and "GITHUB_OUTPUT" in unset.stderr
    missing_env = base_env(emulator) | {"GITHUB_OUTPUT": str(tmp_path / "missing")}
    missing = wf("create", "workspaceaccesstoken", "gha", "-o", "github", env=missing_env)
    assert missing.returncode == 2 and "missing" in missing.stderr, missing.stderr
    bad_prefix = wf(
        "create",
        "workspaceaccesstoken",
        "gha",
        "-o",
        "github",
        "--github-prefix",
        "new-",
        env=base_env(emulator) | files,
    )
    assert bad_prefix.returncode == 2 and "prefix" in bad_prefix.stderr, bad_prefix.stderr
    env = base_env(emulator) | files
    for target in ("GITHUB_OUTPUT", "GITHUB_ENV"):
        with open(files[target], "a") as redirected:
            same = wf(
                *["create", "workspaceaccesstoken", "gha", "-o", "github", "--github-env"],
                env=env,
                stdout=redirected.fileno(),
            )
        assert same.returncode == 2 and "stdout" in same.stderr, same.stderr
        assert Path(files[target]).read_text() == ""
    assert emulator.stats()["total"] == 0, "nothing was created"


def test_export_to_github_actions_from_the_library(
    client: wft.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    issued = client.create_workspace_access_token("lib-gha")
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    with pytest.raises(wft.ConfigError, match="GITHUB_OUTPUT"):
        issued.export_to_github_actions()
    files = runner_files(tmp_path)
    for name, path in files.items():
        monkeypatch.setenv(name, path)
    assert issued.export_to_github_actions() == [Path(files["GITHUB_OUTPUT"])]
    assert capfd.readouterr().out == f"::add-mask::{issued.token}\n"
    assert parse_github_env(Path(files["GITHUB_OUTPUT"]).read_text())["WAYFINDER_TOKEN"] == issued.token
    assert Path(files["GITHUB_ENV"]).read_text() == ""
    written = issued.export_to_github_actions(prefix="CI_", env=True)
    assert written == [Path(files["GITHUB_OUTPUT"]), Path(files["GITHUB_ENV"])]
    assert parse_github_env(Path(files["GITHUB_ENV"]).read_text())["CI_WAYFINDER_TOKEN"] == issued.token


def test_shell_output_exports_to_child_processes(client: wft.Client) -> None:
    issued = client.create_workspace_access_token("evald")
    script = 'eval "$1"; exec sh -c \'printf %s "$WAYFINDER_TOKEN"\''
    out = subprocess.run(["sh", "-c", script, "sh", issued.to_shell()], capture_output=True, text=True, check=True)
    assert out.stdout == issued.token


def test_a_github_hand_off_whose_mask_line_fails_does_not_call_the_secret_lost(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = base_env(emulator) | runner_files(tmp_path)
    with open("/dev/full", "wb") as full:
        out = subprocess.run(
            [sys.executable, "-m", "wayfinder_tokens", "create", "workspaceaccesstoken", "gha-full", "-o", "github"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=60,
            start_new_session=True,
        )
    assert out.returncode == 1, out.stderr
    assert "could not write to standard output" in out.stderr and "did not get out" not in out.stderr
    assert parse_github_env((tmp_path / "github_output").read_text())["WAYFINDER_TOKEN"].startswith("ey")
