"""The asyncio bridge: cancellation reaches the Rust task, and a script may
exit right after its last await (a worker touching Python during interpreter
finalisation used to abort the process)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest

import wayfinder_tokens as wft
from support import ADMIN
from wayfinder_tokens.testing import Emulator

EXIT_RIGHT_AFTER_AWAIT = textwrap.dedent(
    """
    import asyncio, sys
    import wayfinder_tokens as wft

    async def main():
        async with wft.AsyncClient(server=sys.argv[1], token=sys.argv[2], workspace="dev") as wf:
            await asyncio.gather(*(wf.create_workspace_access_token(f"{sys.argv[3]}-{i}") for i in range(20)))
            await wf.whoami()

    asyncio.run(main())
    """
)


async def test_cancelling_an_awaitable_cancels_the_call(aclient: wft.AsyncClient, emulator: Emulator) -> None:
    await aclient.whoami()
    emulator.inject_fault("/api/v2/whoami", delay_ms=2000)
    call = asyncio.ensure_future(aclient.whoami())
    await asyncio.sleep(0.05)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert (await aclient.list_workspace_access_tokens()) == []


def test_scripts_can_exit_right_after_their_last_await(emulator: Emulator) -> None:
    for run in range(10):
        result = subprocess.run(
            [sys.executable, "-c", EXIT_RIGHT_AFTER_AWAIT, emulator.url, ADMIN, f"exit{run}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
