"""Fixtures: an embedded emulator per test, and admin clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

import wayfinder_tokens as wft
from support import ADMIN, WORKSPACES
from wayfinder_tokens.testing import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(admin_token=ADMIN, users=["alice:wonderland@dev,prod"], workspaces=WORKSPACES) as emu:
        yield emu


@pytest.fixture
def client(emulator: Emulator) -> Iterator[wft.Client]:
    with wft.Client(server=emulator.url, token=ADMIN, workspace="dev", timeout=10) as c:
        yield c


@pytest.fixture
async def aclient(emulator: Emulator) -> AsyncIterator[wft.AsyncClient]:
    async with wft.AsyncClient(server=emulator.url, token=ADMIN, workspace="dev", timeout=10) as c:
        yield c


def _tool(name: str) -> str | None:
    """A server binary the project installs into .venv (or one on PATH)."""
    import shutil
    from pathlib import Path

    installed = Path(__file__).resolve().parents[2] / ".venv" / "bin" / name
    return shutil.which(name) or (str(installed) if installed.exists() else None)


def _serve(argv_for: Callable[[int], list[str]], what: str) -> Iterator[int]:
    """Runs a server on a free loopback port until the session ends; yields the port."""
    import socket
    import subprocess
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    server = subprocess.Popen(argv_for(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{what} did not start")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def openbao() -> Iterator[tuple[str, str]]:
    """A real OpenBao dev server (Vault's KV v2 API) for the whole session: its address and root token."""
    bao = _tool("bao")
    assert bao, "OpenBao (`bao`) is not installed: run `make install`"
    token = "bao-root-canary-3b9e"

    def argv(port: int) -> list[str]:
        return [bao, "server", "-dev", f"-dev-root-token-id={token}", f"-dev-listen-address=127.0.0.1:{port}"]

    for port in _serve(argv, "OpenBao"):
        yield f"http://127.0.0.1:{port}", token


@pytest.fixture(scope="session")
def moto() -> Iterator[str]:
    """moto's real server (Secrets Manager on loopback) for the whole session: its URL."""
    binary = _tool("moto_server")
    assert binary, "moto's server is not installed: run `make install`"
    for port in _serve(lambda port: [binary, "-H", "127.0.0.1", "-p", str(port)], "moto's server"):
        yield f"http://127.0.0.1:{port}"
