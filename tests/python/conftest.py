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
