"""``python -m wayfinder_tokens.testing``: the emulator as a command, with the
binary's flags and first line, stopped by SIGTERM or Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest

import wayfinder_tokens as wft

FIRST_LINE = re.compile(r"^listening on (http://127\.0\.0\.1:\d+) admin-token=(\S+)$")


def start(*flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "wayfinder_tokens.testing", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serves_until_stopped(stop: signal.Signals) -> None:
    child = start("--admin-token", "cmd-admin-token", "--user", "alice:pw@dev", "--quiet")
    try:
        assert child.stdout is not None
        match = FIRST_LINE.match(child.stdout.readline().strip())
        assert match, "first line"
        url, token = match.groups()
        assert token == "cmd-admin-token"
        with wft.Client(server=url, token=token, workspace="dev") as client:
            assert client.create_workspace_access_token("from-command").token
        child.send_signal(stop)
        child.communicate(timeout=10)
        assert child.returncode == 0
    finally:
        if child.returncode is None:
            child.kill()
            child.communicate()


def test_usage() -> None:
    ok = subprocess.run([sys.executable, "-m", "wayfinder_tokens.testing", "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "--admin-token" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "wayfinder_tokens.testing", "--bogus"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--bogus" in bad.stderr
