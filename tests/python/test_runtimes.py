"""The package as Python programs really run it: forked workers, asyncio's
task machinery, anyio, Ctrl-C, and careless numbers."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import anyio
import pytest

import wayfinder_tokens as wft
from support import ADMIN, assert_all_landed, calls_with_some_cancelled
from wayfinder_tokens.testing import Emulator

# fork() in a process with threads: Python 3.12+ warns, and that is the point here.
pytestmark = pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")

CHILD_DEADLINE = 20.0


def wait_child(pid: int) -> int:
    """The child's exit code; a child that hangs is killed and fails the test."""
    deadline = time.monotonic() + CHILD_DEADLINE
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the forked child hung")


def client_for(emulator: Emulator) -> wft.Client:
    return wft.Client(server=emulator.url, token=ADMIN, workspace="dev", timeout=5, max_retries=0)


def test_os_fork_with_clients_made_before_and_after(emulator: Emulator) -> None:
    parent = client_for(emulator)
    parent.create_workspace_access_token("before-fork")
    pid = os.fork()
    if pid == 0:  # the child: report through the exit code only
        code = 0
        try:
            parent.list_workspace_access_tokens()
            code = 3  # a pre-fork client may work, but here it must not hang or lie
        except wft.ConfigError as e:
            code = 0 if "fork" in str(e) else 4
        except BaseException:
            code = 5
        try:
            fresh = client_for(emulator)
            fresh.create_workspace_access_token("made-in-child")
        except BaseException:
            code = code or 6
        os._exit(code)
    assert wait_child(pid) == 0
    # The parent is never affected.
    names = [t.name for t in parent.list_workspace_access_tokens()]
    assert names == ["before-fork", "made-in-child"]
    parent.create_workspace_access_token("after-fork")


def test_async_calls_in_a_forked_child_and_its_parent(emulator: Emulator) -> None:
    """Each process's loops get inboxes of their own: the child never reads the parent's."""
    assert_all_landed(asyncio.run(calls_with_some_cancelled(emulator.url, "parent-a")), "parent-a")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            assert_all_landed(asyncio.run(calls_with_some_cancelled(emulator.url, "child")), "child")
            code = 0
        finally:
            os._exit(code)
    assert wait_child(pid) == 0
    assert_all_landed(asyncio.run(calls_with_some_cancelled(emulator.url, "parent-b")), "parent-b")


def child_work(url: str, results: multiprocessing.Queue[str]) -> None:
    client = wft.Client(server=url, token=ADMIN, workspace="dev", timeout=5, max_retries=0)
    issued = client.create_workspace_access_token(f"worker-{os.getpid()}")
    results.put(issued.name)


def child_with_inherited(client: wft.Client, results: multiprocessing.Queue[str]) -> None:
    try:
        client.whoami()
        results.put("worked")
    except wft.WayfinderError as e:
        results.put(f"{type(e).__name__}: {e}")


def test_multiprocessing_fork_workers(emulator: Emulator) -> None:
    parent = client_for(emulator)
    parent.whoami()
    ctx = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[str] = ctx.Queue()
    workers = [ctx.Process(target=child_work, args=(emulator.url, results)) for _ in range(3)]
    workers.append(ctx.Process(target=child_with_inherited, args=(parent, results)))
    for w in workers:
        w.start()
    for w in workers:
        w.join(CHILD_DEADLINE)
        if w.is_alive():
            w.kill()
            pytest.fail("a forked worker hung")
        assert w.exitcode == 0
    got = sorted(results.get(timeout=5) for _ in workers)
    assert [g for g in got if g.startswith("worker-")] == sorted(g for g in got if g.startswith("worker-"))
    assert sum(g.startswith("worker-") for g in got) == 3
    inherited = [g for g in got if not g.startswith("worker-")]
    assert inherited == ["worked"] or ("ConfigError" in inherited[0] and "fork" in inherited[0]), inherited
    assert len(parent.list_workspace_access_tokens()) == 3


async def test_async_methods_are_coroutines_sent_only_when_run(aclient: wft.AsyncClient, emulator: Emulator) -> None:
    await aclient.whoami()
    emulator.reset_stats()
    call = aclient.create_workspace_access_token("lazy")
    assert asyncio.iscoroutine(call)
    await asyncio.sleep(0.05)
    assert emulator.stats()["total"] == 0, "nothing is sent before the coroutine runs"
    issued = await call
    assert issued.name == "lazy"


async def test_a_forgotten_await_warns_and_sends_nothing(aclient: wft.AsyncClient, emulator: Emulator) -> None:
    await aclient.whoami()
    emulator.reset_stats()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aclient.create_workspace_access_token("forgotten")  # type: ignore[unused-coroutine]
        gc.collect()
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert any("create_workspace_access_token' was never awaited" in m for m in messages), messages
    await asyncio.sleep(0.05)
    assert emulator.stats()["total"] == 0


async def test_create_task_gather_wait_for_and_as_completed(aclient: wft.AsyncClient) -> None:
    task = asyncio.create_task(aclient.create_workspace_access_token("task"))
    assert (await task).name == "task"
    gathered = await asyncio.gather(*(aclient.create_workspace_access_token(f"g{i}") for i in range(5)))
    assert [t.name for t in gathered] == [f"g{i}" for i in range(5)]
    assert (await asyncio.wait_for(aclient.get_workspace_access_token("task"), timeout=5)).name == "task"
    names = set()
    for next_done in asyncio.as_completed([aclient.get_workspace_access_token(f"g{i}") for i in range(3)]):
        names.add((await next_done).name)
    assert names == {"g0", "g1", "g2"}


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.TaskGroup is new in Python 3.11")
async def test_task_group(aclient: wft.AsyncClient) -> None:
    async with asyncio.TaskGroup() as group:  # type: ignore[attr-defined,unused-ignore]
        tasks = [group.create_task(aclient.create_workspace_access_token(f"tg{i}")) for i in range(4)]
    assert sorted(t.result().name for t in tasks) == [f"tg{i}" for i in range(4)]


def test_anyio_on_asyncio(emulator: Emulator) -> None:
    async def main() -> list[str]:
        names: list[str] = []
        async with wft.AsyncClient(server=emulator.url, token=ADMIN, workspace="dev") as client:

            async def one(i: int) -> None:
                names.append((await client.create_workspace_access_token(f"anyio{i}")).name)

            async with anyio.create_task_group() as group:
                for i in range(3):
                    group.start_soon(one, i)
        return names

    assert sorted(anyio.run(main, backend="asyncio")) == ["anyio0", "anyio1", "anyio2"]


def test_loops_in_many_threads_each_get_their_own_results(emulator: Emulator) -> None:
    """Finished calls reach their loops in batches, each through its loop's own inbox: with
    four loops in four threads, 40 calls in flight each and some cancelled, every result
    lands on the loop that awaits it, and none is lost."""
    import threading

    outcomes: dict[int, list[str]] = {}

    def run(worker: int) -> None:
        outcomes[worker] = asyncio.run(calls_with_some_cancelled(emulator.url, f"loop{worker}-t"))

    threads = [threading.Thread(target=run, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == [0, 1, 2, 3]
    for worker, names in outcomes.items():
        assert_all_landed(names, f"loop{worker}-t")


async def test_cancellation_aborts_the_request(aclient: wft.AsyncClient, emulator: Emulator) -> None:
    await aclient.whoami()
    emulator.inject_fault("/resources", delay_ms=3000, times=2)
    task = asyncio.create_task(aclient.list_workspace_access_tokens())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(aclient.list_workspace_access_tokens(), timeout=0.2)
    emulator.clear_faults()
    assert await aclient.list_workspace_access_tokens() == []


SLOW_CALL = """
import sys, time
import wayfinder_tokens as wft
client = wft.Client(server=sys.argv[1], token=sys.argv[2], workspace="dev", timeout=30, max_retries=0)
client.whoami()
print("ready", flush=True)
started = time.monotonic()
try:
    client.list_workspace_access_tokens()
except KeyboardInterrupt:
    print(f"interrupted after {time.monotonic() - started:.2f}s", flush=True)
    sys.exit(7)
"""


def interrupt(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str, float]:
    """Ctrl-C as a terminal sends it. A command started in the background by a
    non-interactive shell (`make test &` in CI scripts) ignores SIGINT, and that
    is inherited through exec; the child must start with the default instead."""
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    assert child.stdout is not None
    if "-c" in args:
        assert child.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    try:
        out, err = child.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        pytest.fail("Ctrl-C did not stop the call")
    return child, out + err, time.monotonic() - sent


def test_ctrl_c_interrupts_a_blocking_call(emulator: Emulator) -> None:
    emulator.inject_fault("/resources", delay_ms=20_000)
    child, output, elapsed = interrupt([sys.executable, "-c", textwrap.dedent(SLOW_CALL), emulator.url, ADMIN])
    assert child.returncode == 7, output
    assert "interrupted after" in output
    assert elapsed < 5, f"took {elapsed:.1f}s (the request's timeout is 30 s)"


FORKED_FROM_A_THREAD = """
import os, signal, sys, threading
signal.signal(signal.SIGINT, signal.default_int_handler)

def in_the_child():
    # Forked from a thread: in the child this thread is the main one, and the
    # one Python runs signal handlers on. The call is SLOW_CALL's (the last argument).
    threading.Timer(2.0, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        exec(sys.argv.pop(), {"__name__": "__main__"})
    except SystemExit as e:
        os._exit(e.code)
    os._exit(0)

def fork():
    pid = os.fork()
    if pid == 0:
        in_the_child()
    os._exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

threading.Thread(target=fork).start()
"""


def test_ctrl_c_interrupts_a_blocking_call_in_a_child_forked_from_a_thread(emulator: Emulator) -> None:
    """In a child forked from a thread, that thread becomes the one Python runs
    signal handlers on: Ctrl-C there still stops a blocking call at once."""
    emulator.inject_fault("/resources", delay_ms=20_000)
    script, call = textwrap.dedent(FORKED_FROM_A_THREAD), textwrap.dedent(SLOW_CALL)
    started = time.monotonic()
    try:
        child = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", script, emulator.url, ADMIN, call],
            capture_output=True,
            text=True,
            timeout=15,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the child forked from a thread did not see its Ctrl-C")
    assert child.returncode == 7, child.stdout + child.stderr
    waited = re.search(r"interrupted after ([0-9.]+)s", child.stdout)
    assert waited, child.stdout
    # Signalled 2 s after the client was made; the faulted call alone would take 20 s.
    assert float(waited.group(1)) < 5, child.stdout
    assert time.monotonic() - started < 10


def test_ctrl_c_interrupts_the_cli(emulator: Emulator, tmp_path: Path) -> None:
    emulator.inject_fault("/resources", delay_ms=20_000)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYFINDER_")}
    env.update(WAYFINDER_SERVER=emulator.url, WAYFINDER_TOKEN=ADMIN, WAYFINDER_WORKSPACE="dev")
    child, output, elapsed = interrupt(
        [sys.executable, "-m", "wayfinder_tokens", "list", "workspaceaccesstokens"], env=env
    )
    assert child.returncode == 130, output
    assert "Traceback" not in output, output
    assert elapsed < 5, f"took {elapsed:.1f}s"


@pytest.mark.parametrize("value", [-1, 2**32, 2**70, 1.5, 21, "3", float("nan")])
def test_out_of_range_numbers_are_validation_errors(emulator: Emulator, value: object) -> None:
    with pytest.raises(wft.ValidationError) as info:
        wft.Client(server=emulator.url, token=ADMIN, max_retries=value)  # type: ignore[arg-type]
    assert info.value.field_errors[0].field == "max_retries"
    if value == 21:
        return  # a valid number of times
    with pytest.raises(wft.ValidationError) as fault:
        emulator.inject_fault("/x", times=value)  # type: ignore[arg-type]
    assert fault.value.field_errors[0].field == "times"


def test_a_subinterpreter_is_refused_and_the_main_interpreter_keeps_working(emulator: Emulator) -> None:
    try:
        import _interpreters as interpreters  # type: ignore[import-not-found]  # Python 3.13+
    except ImportError:
        interpreters = pytest.importorskip("_xxsubinterpreters")
    interpreter = interpreters.create()
    try:
        try:
            outcome: object = interpreters.run_string(interpreter, "import wayfinder_tokens")
        except Exception as raised:  # noqa: BLE001 (before 3.13 a failed run raises RunFailedError)
            outcome = raised
    finally:
        interpreters.destroy(interpreter)
    assert "cannot be imported in a subinterpreter" in str(outcome)
    with wft.Client(server=emulator.url, token=ADMIN, timeout=10) as client:
        assert client.whoami().username == "admin"
