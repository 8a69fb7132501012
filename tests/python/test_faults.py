"""Retries and failures through the emulator's fault injection; attempt
counts come from the emulator's stats."""

from __future__ import annotations

import pytest

import wayfinder_tokens as wft
from support import ADMIN
from wayfinder_tokens.testing import Emulator

WHOAMI = "/api/v2/whoami"
COLLECTION = "/resources/accesstokens.appvia.io/v2beta1/workspaces/dev/workspaceaccesstokens"


def attempts(emulator: Emulator, key: str) -> int:
    requests: dict[str, int] = emulator.stats()["requests"]
    return requests.get(key, 0)


async def test_retry_then_success(aclient: wft.AsyncClient, emulator: Emulator) -> None:
    await aclient.whoami()
    emulator.inject_fault(WHOAMI, status=503, times=2)
    await aclient.whoami()
    assert attempts(emulator, f"GET {WHOAMI}") == 4


def test_retry_exhausted(emulator: Emulator) -> None:
    with wft.Client(server=emulator.url, token=ADMIN, workspace="dev", max_retries=2) as c:
        c.whoami()
        emulator.inject_fault(WHOAMI, status=429, times=10, retry_after_s=0)
        with pytest.raises(wft.RateLimitedError):
            c.whoami()
    assert attempts(emulator, f"GET {WHOAMI}") == 1 + 3


async def test_timeout(emulator: Emulator) -> None:
    async with wft.AsyncClient(server=emulator.url, token=ADMIN, workspace="dev", timeout=0.2) as c:
        await c.whoami()
        emulator.inject_fault(WHOAMI, delay_ms=1500)
        with pytest.raises(wft.TimeoutError):
            await c.whoami()
    assert attempts(emulator, f"GET {WHOAMI}") == 2


def test_dropped_connection(client: wft.Client, emulator: Emulator) -> None:
    client.whoami()
    emulator.inject_fault(WHOAMI, drop_connection=True)
    client.whoami()
    assert attempts(emulator, f"GET {WHOAMI}") == 3
    emulator.inject_fault(COLLECTION, drop_connection=True)
    with pytest.raises(wft.TransportError):
        client.create_workspace_access_token("once")
    assert attempts(emulator, f"POST {COLLECTION}") == 1, "an object-creating POST is never replayed"


def test_a_failed_issue_says_how_to_recover(client: wft.Client, emulator: Emulator) -> None:
    emulator.inject_fault(f"{COLLECTION}/half/token", status=503, times=10)
    with pytest.raises(wft.ServerError) as err:
        client.create_workspace_access_token("half")
    assert 'reset_workspace_access_token("half")' in str(err.value)
    emulator.clear_faults()
    recovered = client.reset_workspace_access_token("half")
    with wft.Client(server=emulator.url, token=recovered.token, workspace="dev") as pipeline:
        pipeline.whoami()
