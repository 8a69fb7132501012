"""A new secret is never lost between the server issuing it and the user: interrupts (SIGINT,
SIGTERM, KeyboardInterrupt, a cancelled task) and writes that fail (a full disk, a file-size
limit, a closed pipe), in both CLIs and both clients."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import wayfinder_tokens as wft
from support import ADMIN, cli_env
from wayfinder_tokens.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "bindings-node" / "bin" / "wayfinder-tokens.js"
COLLECTION = "/resources/accesstokens.appvia.io/v2beta1/workspaces/{ws}/workspaceaccesstokens"


def clis() -> list[list[str]]:
    """Both CLIs; the npm bin when its addon is built (`make test-python` builds it)."""
    found = [[sys.executable, "-m", "wayfinder_tokens"]]
    node = shutil.which("node")
    if node and any(NODE_BIN.parents[1].glob("*.node")):
        found.append([node, str(NODE_BIN)])
    return found


CLIS = pytest.mark.parametrize("cli", clis(), ids=lambda c: "node" if "node" in c[0] else "python")


def make_tokens(emulator: Emulator, workspace: str, count: int, prefix: str = "t") -> list[str]:
    names = [f"{prefix}{i:02}" for i in range(count)]
    with wft.Client(server=emulator.url, token=ADMIN, workspace=workspace, timeout=10) as c:
        for name in names:
            c.create_workspace_access_token(name)
    return names


def reset_on_server(emulator: Emulator, workspace: str, names: list[str]) -> set[str]:
    """The tokens whose secret was replaced since they were made."""
    with wft.Client(server=emulator.url, token=ADMIN, workspace=workspace, timeout=10) as c:
        return {t.name for t in c.list_workspace_access_tokens() if t.name in names and t.generation != 1}


def slow_resets(emulator: Emulator, workspace: str, delay_ms: int = 400) -> None:
    emulator.inject_fault(COLLECTION.format(ws=workspace) + "/", delay_ms=delay_ms, times=1000)


def live(emulator: Emulator, secret: str) -> bool:
    with wft.Client(server=emulator.url, token=secret, timeout=10, max_retries=0) as c:
        try:
            c.whoami()
            return True
        except wft.AuthenticationError:
            return False


def rotated_lines(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line.strip():
            item = json.loads(line)
            if item["status"] == "rotated":
                out[item["name"]] = item["token"]
    return out


@CLIS
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_rotate_writes_every_secret_it_issued(
    cli: list[str], signum: int, emulator: Emulator, tmp_path: Path
) -> None:
    names = make_tokens(emulator, "ops", 12)
    slow_resets(emulator, "ops")
    out_path = tmp_path / "rotated.jsonl"
    with out_path.open("wb") as out:
        proc = subprocess.Popen(
            [*cli, "rotate", "workspaceaccesstokens", "-w", "ops", "--concurrency", "2", "-o", "jsonl"],
            stdout=out,
            stderr=subprocess.PIPE,
            env=cli_env(emulator.url, tmp_path, "ops"),
        )
        deadline = time.monotonic() + 60
        while not out_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    emulator.clear_faults()
    assert proc.returncode == 128 + signum, err
    written = rotated_lines(out_path.read_text())
    issued = reset_on_server(emulator, "ops", names)
    # Every token the server reset has its new secret in the file; the batch stopped early.
    assert set(written) == issued, (sorted(written), sorted(issued))
    assert 0 < len(issued) < len(names)
    assert b"not started (interrupted)" in err
    assert all(live(emulator, secret) for secret in written.values())
    print(f"{cli[0]} {signal.Signals(signum).name}: {len(issued)} reset on the server, {len(written)} written")


@CLIS
def test_create_into_a_full_disk_fails_and_names_the_token(cli: list[str], emulator: Emulator, tmp_path: Path) -> None:
    with open("/dev/full", "wb") as full:
        out = subprocess.run(
            [*cli, "create", "workspaceaccesstoken", "full-disk", "-o", "export"],
            stdout=full,
            stderr=subprocess.PIPE,
            env=cli_env(emulator.url, tmp_path, "ops"),
            timeout=60,
            start_new_session=True,
        )
    err = out.stderr.decode()
    assert out.returncode == 1, err
    assert "ops/full-disk" in err and "did not get out" in err, err
    assert "WAYFINDER_TOKEN" not in err


def fsize_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@CLIS
@pytest.mark.parametrize("where", ["dev-full", "fsize-limit", "closed-pipe"])
def test_a_rotate_whose_output_fails_exits_1_and_names_every_secret_not_written(
    cli: list[str], where: str, emulator: Emulator, tmp_path: Path
) -> None:
    names = make_tokens(emulator, "other", 8)
    args = [*cli, "rotate", "workspaceaccesstokens", "-w", "other", "--concurrency", "1", "-o", "jsonl"]
    env = cli_env(emulator.url, tmp_path, "ops")
    out_path = tmp_path / "out.jsonl"
    if where == "dev-full":
        with open("/dev/full", "wb") as full:
            proc = subprocess.run(
                args, stdout=full, stderr=subprocess.PIPE, env=env, timeout=60, start_new_session=True
            )
    elif where == "fsize-limit":
        with out_path.open("wb") as out:
            proc = subprocess.run(
                args,
                stdout=out,
                stderr=subprocess.PIPE,
                env=env,
                timeout=60,
                preexec_fn=fsize_limit(2000),
                start_new_session=True,
            )
    else:
        read, write = os.pipe()
        os.close(read)
        proc = subprocess.run(args, stdout=write, stderr=subprocess.PIPE, env=env, timeout=60, start_new_session=True)
        os.close(write)
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    issued = reset_on_server(emulator, "other", names)
    assert issued == set(names)
    written = rotated_lines(out_path.read_text().rsplit("\n", 1)[0]) if out_path.exists() else {}
    not_written = issued - set(written)
    assert not_written, "some secrets cannot have fit"
    for name in not_written:
        assert f"other/{name}" in err, (name, err)
    for name in written:
        assert f"other/{name}," not in err and not err.rstrip().endswith(f"other/{name}")
    assert "rotated but not written" in err and "8 rotated, 0 failed" in err
    assert '"token"' not in err


def test_output_that_fails_goes_once_more_to_the_terminal(emulator: Emulator, tmp_path: Path) -> None:
    import pty

    make_tokens(emulator, "mine", 2)
    env = cli_env(emulator.url, tmp_path, "ops")
    args = [sys.executable, "-m", "wayfinder_tokens", "rotate", "workspaceaccesstokens", "-w", "mine", "-o", "jsonl"]
    pid, master = pty.fork()
    if pid == 0:  # the child: a terminal of its own, stdout on a full disk
        full = os.open("/dev/full", os.O_WRONLY)
        os.dup2(full, 1)
        os.execve(sys.executable, args, env)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 1, seen
    text = seen.decode()
    rescued = rotated_lines(text.split("---\r\n", 1)[1].split("error:")[0].replace("\r", ""))
    assert set(rescued) == {"t00", "t01"}, text
    assert "printed on the terminal instead" in text
    assert all(live(emulator, s) for s in rescued.values())


def test_keyboard_interrupt_in_the_blocking_client_keeps_the_secrets(emulator: Emulator, tmp_path: Path) -> None:
    names = make_tokens(emulator, "latency", 12)
    slow_resets(emulator, "latency")
    seen: list[wft.IssuedToken] = []
    timer = threading.Timer(1.0, lambda: signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT))
    with wft.Client(server=emulator.url, token=ADMIN, workspace="latency", timeout=20) as c:
        targets = [("latency", n) for n in names]
        timer.start()
        with pytest.raises(KeyboardInterrupt) as raised:
            c.rotate_workspace_access_tokens(
                targets, concurrency=2, output_dir=tmp_path / "env", on_rotated=seen.append
            )
    emulator.clear_faults()
    report = raised.value.report  # type: ignore[attr-defined]
    assert isinstance(report, wft.BatchReport)
    issued = reset_on_server(emulator, "latency", names)
    assert {t.name for t in report.rotated} == issued == {t.name for t in seen}
    assert 0 < len(issued) < len(names) and len(report.not_started) > 0
    files = sorted(p.name for p in (tmp_path / "env").iterdir())
    assert files == sorted(f"latency.{n}.env" for n in issued)
    print(f"KeyboardInterrupt: {len(issued)} reset on the server, {len(seen)} handed over, {len(files)} files")


async def test_cancelling_the_async_batch_keeps_the_secrets(emulator: Emulator, tmp_path: Path) -> None:
    names = make_tokens(emulator, "ws1", 12)
    slow_resets(emulator, "ws1")
    seen: list[wft.IssuedToken] = []
    async with wft.AsyncClient(server=emulator.url, token=ADMIN, workspace="ws1", timeout=20) as c:
        task = asyncio.ensure_future(
            c.rotate_workspace_access_tokens([("ws1", n) for n in names], concurrency=2, on_rotated=seen.append)
        )
        while not seen:
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as raised:
            await task
    emulator.clear_faults()
    issued = reset_on_server(emulator, "ws1", names)
    # The sink given up front got every secret issued, on every Python version.
    assert 0 < len(issued) < len(names) and {t.name for t in seen} == issued
    print(f"task cancelled: {len(issued)} reset on the server, {len(seen)} handed over")
    if sys.version_info < (3, 11):
        # Before 3.11, awaiting a cancelled task raises a new CancelledError, not the task's own.
        return
    report = raised.value.report  # type: ignore[attr-defined]
    assert {t.name for t in report.rotated} == issued and len(report.not_started) > 0


def test_an_on_rotated_that_raises_leaves_the_secret_in_the_report(emulator: Emulator) -> None:
    names = make_tokens(emulator, "ws2", 2)

    def refuse(issued: wft.IssuedToken) -> None:
        if issued.name == "t01":
            raise OSError(f"disk full for {issued.token}")

    with wft.Client(server=emulator.url, token=ADMIN, workspace="ws2", timeout=10) as c:
        report = c.rotate_workspace_access_tokens([("ws2", n) for n in names], on_rotated=refuse)
    assert not report.ok and len(report.rotated) == 2
    [(workspace, name, error)] = report.undelivered
    assert (workspace, name) == ("ws2", "t01") and "disk full for <redacted>" in error
    secret = next(t.token for t in report.rotated if t.name == "t01")
    assert secret is not None and secret not in error and live(emulator, secret)
