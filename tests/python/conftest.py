"""Fixtures: an embedded emulator per test, and admin clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

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


@pytest.fixture(scope="session")
def openbao() -> Iterator[tuple[str, str]]:
    """A real OpenBao dev server (Vault's KV v2 API) for the whole session: its address and root token."""
    import shutil
    import socket
    import subprocess
    import time
    from pathlib import Path

    venv_bao = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "bao"
    bao = shutil.which("bao") or (str(venv_bao) if venv_bao.exists() else None)
    assert bao, "OpenBao (`bao`) is not installed: run `make install`"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "bao-root-canary-3b9e"
    server = subprocess.Popen(
        [bao, "server", "-dev", f"-dev-root-token-id={token}", f"-dev-listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("OpenBao did not start")
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def moto() -> Iterator[str]:
    """moto's real server (Secrets Manager on loopback) for the whole session: its URL."""
    import shutil
    import socket
    import subprocess
    import time
    from pathlib import Path

    venv_moto = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "moto_server"
    binary = shutil.which("moto_server") or (str(venv_moto) if venv_moto.exists() else None)
    assert binary, "moto's server is not installed: run `make install`"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("moto's server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
