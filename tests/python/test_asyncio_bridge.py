"""The asyncio bridge: results reach every kind of loop (through the loop's
inbox, or the courier where a loop cannot watch a socket), cancellation reaches
the Rust task, Ctrl-C during a delivery reaches the loop, and a script may exit
right after its last await (a worker touching Python during interpreter
finalisation used to abort the process)."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import textwrap
import time
import warnings
import weakref
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

import wayfinder_tokens as wft
from support import ADMIN, assert_all_landed, calls_with_some_cancelled
from wayfinder_tokens.testing import Emulator

T = TypeVar("T")

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


# The same on a loop that cannot watch a socket: results come by the courier thread.
EXIT_RIGHT_AFTER_AWAIT_ON_COURIER = EXIT_RIGHT_AFTER_AWAIT.replace(
    "asyncio.run(main())",
    "class NoReaderLoop(asyncio.SelectorEventLoop):\n"
    "    def add_reader(self, *args):\n"
    "        raise NotImplementedError\n"
    "NoReaderLoop().run_until_complete(main())",
)


@pytest.mark.parametrize(
    "script", [EXIT_RIGHT_AFTER_AWAIT, EXIT_RIGHT_AFTER_AWAIT_ON_COURIER], ids=["inbox", "courier"]
)
def test_scripts_can_exit_right_after_their_last_await(emulator: Emulator, script: str) -> None:
    assert script.count("asyncio.run(main())") + script.count("run_until_complete(main())") == 1
    for run in range(10):
        result = subprocess.run(
            [sys.executable, "-c", script, emulator.url, ADMIN, f"exit{run}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr


class NoReaderLoop(asyncio.SelectorEventLoop):
    """A loop that cannot watch a file descriptor, as Windows' proactor loop."""

    def add_reader(self, *args: object) -> None:
        raise NotImplementedError


def run_on(event_loop: asyncio.AbstractEventLoop, main: Coroutine[Any, Any, T]) -> T:
    try:
        # A result that never reaches the loop fails the test instead of hanging the suite.
        return event_loop.run_until_complete(asyncio.wait_for(main, 60))
    finally:
        event_loop.close()


def test_results_reach_a_loop_that_cannot_watch_a_socket(emulator: Emulator) -> None:
    """Such a loop is served by the courier thread (call_soon_threadsafe) instead of an inbox."""
    names = run_on(NoReaderLoop(), calls_with_some_cancelled(emulator.url, "courier"))
    assert_all_landed(names, "courier")


def test_results_reach_a_uvloop(emulator: Emulator) -> None:
    uvloop = pytest.importorskip("uvloop")
    names = run_on(uvloop.new_event_loop(), calls_with_some_cancelled(emulator.url, "uv"))
    assert_all_landed(names, "uv")


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts /proc/self/fd")
def test_short_lived_loops_leave_no_descriptors_open(emulator: Emulator) -> None:
    """A script calling asyncio.run once per token opens an inbox per loop; each closes
    with its loop."""

    async def one() -> None:
        async with wft.AsyncClient(server=emulator.url, token=ADMIN, workspace="dev") as client:
            await client.whoami()

    asyncio.run(one())
    gc.collect()
    before = open_descriptors()
    for _ in range(30):
        asyncio.run(one())
    gc.collect()
    assert open_descriptors() - before <= 4


def test_a_loop_closed_with_a_result_undelivered_is_freed(emulator: Emulator) -> None:
    """A call that finishes after its loop stopped running waits in the loop's inbox, which
    holds the loop; the next loop to open an inbox lets go of it."""
    emulator.inject_fault("/api/v2/whoami", delay_ms=300, times=1)
    abandoned = asyncio.new_event_loop()
    client = wft.AsyncClient(server=emulator.url, token=ADMIN, workspace="dev")
    call = abandoned.create_task(client.whoami())
    abandoned.run_until_complete(asyncio.sleep(0.01))  # the call starts, and the loop stops
    time.sleep(0.8)  # it finishes meanwhile, into the inbox
    assert not call.done()
    abandoned.close()
    gone = weakref.ref(abandoned)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Task was destroyed but it is pending": it was
        del abandoned, call
        gc.collect()

        async def next_script() -> None:
            async with wft.AsyncClient(server=emulator.url, token=ADMIN, workspace="dev") as fresh:
                await fresh.whoami()

        asyncio.run(next_script())
        gc.collect()
    assert gone() is None


class InterruptedFuture(asyncio.Future):  # type: ignore[type-arg]
    """A future whose result arrives just as Ctrl-C does: the signal handler raises
    KeyboardInterrupt in the Python code that schedules its callbacks."""

    def set_result(self, result: object) -> None:
        raise KeyboardInterrupt


def interrupted_loop(base: type[asyncio.AbstractEventLoop]) -> asyncio.AbstractEventLoop:
    class Loop(base):  # type: ignore[valid-type,misc]
        def create_future(self) -> asyncio.Future[Any]:
            return InterruptedFuture(loop=self)

    return Loop()


@pytest.mark.parametrize("base", [asyncio.SelectorEventLoop, NoReaderLoop], ids=["inbox", "courier"])
def test_ctrl_c_while_a_result_is_delivered_reaches_the_loop(
    emulator: Emulator, base: type[asyncio.AbstractEventLoop]
) -> None:
    client = wft.AsyncClient(server=emulator.url, token=ADMIN, workspace="dev")
    event_loop = interrupted_loop(base)
    # Swallowed, the interrupt would leave the call unresolved: stop rather than hang.
    event_loop.call_later(10, event_loop.stop)
    try:
        with pytest.raises(KeyboardInterrupt):
            event_loop.run_until_complete(client.whoami())
    finally:
        event_loop.close()


def test_without_an_asyncio_loop_the_error_names_asyncio_and_the_way_out(emulator: Emulator) -> None:
    """What trio (or a coroutine driven by hand) sees: not a bare "no running event loop"."""
    client = wft.AsyncClient(server=emulator.url, token=ADMIN, workspace="dev", timeout=10)
    coroutine = client.whoami()
    with pytest.raises(RuntimeError) as raised:
        coroutine.send(None)
    message = str(raised.value)
    assert "asyncio" in message and "blocking Client from a worker thread" in message
