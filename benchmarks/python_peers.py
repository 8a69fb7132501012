"""The Python peers of `make bench`: the library's AsyncClient and blocking
Client, and hand-written httpx and aiohttp clients making exactly the same
HTTP calls (create, then issue). Prints one JSON object: bulk throughput, the
process's CPU time per create over the bulk run, and latency. httpx and aiohttp
are imported only by the peers that use them, so their modules never count in
the library's memory figures."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import ssl
import threading
import time
from collections.abc import Awaitable, Callable

import wayfinder_tokens as wft

GV = "accesstokens.appvia.io/v2beta1"
Create = Callable[[str, str], Awaitable[None]]


def cpu_s() -> float:
    """CPU time (user + system) of this process, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def thread_cpu_us() -> dict[str, float] | None:
    """CPU time so far, in µs, of the interpreter's main thread (`main`) and of the
    library's own threads (`runtime`: tokio's and the result courier, both named
    wayfinder-tokens…), from each thread's /proc schedstat; None where there is no
    such file (not Linux)."""
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return None
    totals = {"main": 0.0, "runtime": 0.0}
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                us = int(f.read().split()[0]) / 1000
            if int(tid) == os.getpid():
                totals["main"] += us
            else:
                with open(f"/proc/self/task/{tid}/comm") as f:
                    if f.read().startswith("wayfinder-token"):
                        totals["runtime"] += us
        except OSError:
            continue  # the thread exited between the listing and the read: its time counts as `other`
    return totals


def by_thread(
    before: dict[str, float] | None, after: dict[str, float] | None, cpu_us: float, count: int
) -> dict[str, float] | None:
    """Per create between two `thread_cpu_us()` readings; `other` is the rest of the
    process's CPU (the blocking client's 32 calling threads, for one)."""
    if before is None or after is None:
        return None
    main = (after["main"] - before["main"]) / count
    runtime = (after["runtime"] - before["runtime"]) / count
    return {"main": main, "runtime": runtime, "other": max(cpu_us - main - runtime, 0.0)}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def request(name: str, workspace: str) -> tuple[str, dict[str, object]]:
    """The collection path and the object of one create, as every Python peer sends them."""
    collection = f"/resources/{GV}/workspaces/{workspace}/workspaceaccesstokens"
    body: dict[str, object] = {
        "apiVersion": GV,
        "kind": "WorkspaceAccessToken",
        "metadata": {"name": name, "namespace": f"ws-{workspace}"},
        "spec": {},
    }
    return collection, body


def read_ca(ca: str | None) -> str | None:
    if ca is None:
        return None
    with open(ca) as f:
        return f.read()


async def library(url: str, token: str, ca: str | None) -> tuple[Create, Callable[[], Awaitable[None]]]:
    client = wft.AsyncClient(server=url, token=token, ca_certificate=read_ca(ca))

    async def create(name: str, workspace: str) -> None:
        await client.create_workspace_access_token(name, workspace=workspace)

    return create, client.aclose


async def hand_written(url: str, token: str, ca: str | None) -> tuple[Create, Callable[[], Awaitable[None]]]:
    import httpx

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca) if ca else True
    client = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits, verify=verify)

    async def create(name: str, workspace: str) -> None:
        collection, body = request(name, workspace)
        created = await client.post(collection, json=body)
        created.raise_for_status()
        created.json()
        issued = await client.post(f"{collection}/{name}/token")
        issued.raise_for_status()
        assert issued.json()["token"]

    return create, client.aclose


async def aiohttp_peer(url: str, token: str, ca: str | None) -> tuple[Create, Callable[[], Awaitable[None]]]:
    """aiohttp as its documentation has it: one session, a keep-alive connector, json= bodies."""
    import aiohttp

    context = ssl.create_default_context(cafile=ca) if ca else None
    connector = aiohttp.TCPConnector(limit=64, ssl=context if context else True)
    session = aiohttp.ClientSession(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, connector=connector, raise_for_status=True
    )

    async def create(name: str, workspace: str) -> None:
        collection, body = request(name, workspace)
        async with session.post(collection, json=body) as created:
            await created.json()
        async with session.post(f"{collection}/{name}/token") as issued:
            assert (await issued.json())["token"]

    return create, session.close


def blocking(args: argparse.Namespace) -> dict[str, object]:
    """The blocking `Client` from `concurrency` threads, then one by one."""
    prefix, count, workspaces = args.prefix, args.count, args.workspaces
    client = wft.Client(server=args.url, token=args.token, ca_certificate=read_ca(args.ca))
    client.create_workspace_access_token(f"{prefix}-warm", workspace="ws0")
    if args.memory:
        step = max(args.memory // 10, 1)
        checkpoints = []
        for n in range(10):
            bulk_in_threads(client, f"{prefix}-{n}", step, args.concurrency, workspaces)
            gc.collect()
            checkpoints.append(round(rss_mb(), 2))
        return {"rss_mb_checkpoints": checkpoints}
    if args.warmup:
        bulk_in_threads(client, f"{prefix}-w", args.warmup, args.concurrency, workspaces)
    cpu, threads = cpu_s(), thread_cpu_us()
    bulk_per_s = bulk_in_threads(client, prefix, count, args.concurrency, workspaces)
    cpu_us = (cpu_s() - cpu) * 1e6 / count
    cpu_by_thread = by_thread(threads, thread_cpu_us(), cpu_us, count)
    samples = []
    for i in range(args.latency):
        started = time.perf_counter()
        client.create_workspace_access_token(f"{prefix}-l{i}", workspace="latency")
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p = {"p50": samples[round((len(samples) - 1) * 0.5)], "p99": samples[round((len(samples) - 1) * 0.99)]}
    return {
        "bulk_per_s": bulk_per_s,
        "cpu_us_per_create": cpu_us,
        "cpu_us_per_create_by_thread": cpu_by_thread,
        "latency_ms": p,
    }


def bulk_in_threads(client: wft.Client, prefix: str, count: int, concurrency: int, workspaces: int) -> float:
    """`count` creates by `concurrency` threads, the same worker-pool shape as `bulk`: each
    thread takes the next index until none are left (no future per token, which a
    `ThreadPoolExecutor.map` would add: about 40 µs of the harness's own CPU per create)."""
    next_index = iter(range(count))
    lock = threading.Lock()
    failures: list[BaseException] = []

    def worker() -> None:
        while not failures:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            try:
                client.create_workspace_access_token(f"{prefix}-b{i}", workspace=f"ws{i % workspaces}")
            except BaseException as e:  # re-raised below: a failed create fails the run
                failures.append(e)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return count / (time.perf_counter() - started)


async def bulk(create: Create, prefix: str, count: int, concurrency: int, workspaces: int) -> float:
    """`count` creates by `concurrency` workers, as a worker pool (no task per token)."""
    next_index = iter(range(count))

    async def worker() -> None:
        for i in next_index:
            await create(f"{prefix}-b{i}", f"ws{i % workspaces}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def latency(create: Create, prefix: str, count: int) -> dict[str, float]:
    samples = []
    for i in range(count):
        started = time.perf_counter()
        await create(f"{prefix}-l{i}", "latency")
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50": samples[round((len(samples) - 1) * 0.5)], "p99": samples[round((len(samples) - 1) * 0.99)]}


async def memory(create: Create, prefix: str, count: int, concurrency: int) -> dict[str, object]:
    """RSS over `count` creates: after the first tenth (warm-up), then at each further tenth."""
    step = max(count // 10, 1)
    checkpoints = []
    for n in range(10):
        await bulk(create, f"{prefix}-{n}", step, concurrency, 20)
        gc.collect()
        checkpoints.append(round(rss_mb(), 2))
    return {"rss_mb_checkpoints": checkpoints}


async def handoff(count: int) -> dict[str, float]:
    """p50 and mean µs of one empty asyncio <-> tokio round trip: as the coroutine
    every async method returns, and as the bare asyncio.Future beneath it."""
    from wayfinder_tokens import _native

    out: dict[str, float] = {}
    for label, as_coroutine in (("future", False), ("coroutine", True)):
        for _ in range(200):
            await _native._handoff(as_coroutine)
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            await _native._handoff(as_coroutine)
            samples.append((time.perf_counter() - started) * 1e6)
        samples.sort()
        out[f"{label}_p50_us"] = round(samples[len(samples) // 2], 1)
        out[f"{label}_mean_us"] = round(sum(samples) / len(samples), 1)
    # 32 at a time, as the bulk creates run: CPU per hand-off and hand-offs per second.
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            await _native._handoff(False)

    cpu, started = cpu_s(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(32)))
    out["concurrent32_cpu_us"] = round((cpu_s() - cpu) * 1e6 / count, 1)
    out["concurrent32_per_s"] = round(count / (time.perf_counter() - started))
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer", choices=["lib", "httpx", "aiohttp", "blocking"], required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workspaces", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=0, help="untimed creates before the timed bulk part")
    parser.add_argument("--latency", type=int, default=500)
    parser.add_argument("--ca", help="trust this CA (PEM file) for an HTTPS server")
    parser.add_argument("--memory", type=int, default=0, help="measure RSS growth over this many creates instead")
    parser.add_argument("--handoff", type=int, default=0, help="time this many empty asyncio <-> tokio round trips")
    args = parser.parse_args()
    if args.handoff:
        print(json.dumps(await handoff(args.handoff)))
        return
    if args.peer == "blocking":
        print(json.dumps(blocking(args)))
        return
    make = {"lib": library, "httpx": hand_written, "aiohttp": aiohttp_peer}[args.peer]
    create, close = await make(args.url, args.token, args.ca)
    await create(f"{args.prefix}-warm", "ws0")
    if args.memory:
        result: dict[str, object] = await memory(create, args.prefix, args.memory, args.concurrency)
    else:
        if args.warmup:
            await bulk(create, f"{args.prefix}-w", args.warmup, args.concurrency, args.workspaces)
        cpu, threads = cpu_s(), thread_cpu_us()
        bulk_per_s = await bulk(create, args.prefix, args.count, args.concurrency, args.workspaces)
        cpu_us = (cpu_s() - cpu) * 1e6 / args.count
        result = {
            "bulk_per_s": bulk_per_s,
            "cpu_us_per_create": cpu_us,
            "cpu_us_per_create_by_thread": by_thread(threads, thread_cpu_us(), cpu_us, args.count),
            "latency_ms": await latency(create, args.prefix, args.latency),
        }
    await close()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
