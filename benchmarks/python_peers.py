"""The Python peers of `make bench`: the library's AsyncClient and a
hand-written httpx client making exactly the same HTTP calls (create, then
issue). Prints one JSON object."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

import wayfinder_tokens as wft

GV = "accesstokens.appvia.io/v2beta1"
Create = Callable[[str, str], Awaitable[None]]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


async def library(url: str, token: str) -> tuple[Create, Callable[[], Awaitable[None]]]:
    client = wft.AsyncClient(server=url, token=token)

    async def create(name: str, workspace: str) -> None:
        await client.create_workspace_access_token(name, workspace=workspace)

    return create, client.aclose


async def hand_written(url: str, token: str) -> tuple[Create, Callable[[], Awaitable[None]]]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    client = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits)

    async def create(name: str, workspace: str) -> None:
        collection = f"/resources/{GV}/workspaces/{workspace}/workspaceaccesstokens"
        body = {
            "apiVersion": GV,
            "kind": "WorkspaceAccessToken",
            "metadata": {"name": name, "namespace": f"ws-{workspace}"},
            "spec": {},
        }
        created = await client.post(collection, json=body)
        created.raise_for_status()
        created.json()
        issued = await client.post(f"{collection}/{name}/token")
        issued.raise_for_status()
        assert issued.json()["token"]

    return create, client.aclose


def blocking(url: str, token: str, prefix: str, count: int, concurrency: int, workspaces: int, latency: int) -> dict:
    """The blocking `Client`: a thread pool for the bulk part (as sync users would), then one by one."""
    client = wft.Client(server=url, token=token)
    client.create_workspace_access_token(f"{prefix}-warm", workspace="ws0")
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(
            pool.map(
                lambda i: client.create_workspace_access_token(f"{prefix}-b{i}", workspace=f"ws{i % workspaces}"),
                range(count),
            )
        )
    bulk_per_s = count / (time.perf_counter() - started)
    samples = []
    for i in range(latency):
        started = time.perf_counter()
        client.create_workspace_access_token(f"{prefix}-l{i}", workspace="latency")
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p = {"p50": samples[round((len(samples) - 1) * 0.5)], "p99": samples[round((len(samples) - 1) * 0.99)]}
    return {"bulk_per_s": bulk_per_s, "latency_ms": p}


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
    start, end = checkpoints[0], checkpoints[-1]
    return {
        "rss_mb_start": start,
        "rss_mb_end": end,
        "rss_mb_checkpoints": checkpoints,
        "growth_mb_per_10k": (end - start) * 10_000 / (step * 9),
    }


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
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer", choices=["lib", "httpx", "blocking"], required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workspaces", type=int, default=20)
    parser.add_argument("--latency", type=int, default=500)
    parser.add_argument("--memory", type=int, default=0, help="measure RSS growth over this many creates instead")
    parser.add_argument("--handoff", type=int, default=0, help="time this many empty asyncio <-> tokio round trips")
    args = parser.parse_args()
    if args.handoff:
        print(json.dumps(await handoff(args.handoff)))
        return
    if args.peer == "blocking":
        counts = (args.count, args.concurrency, args.workspaces, args.latency)
        print(json.dumps(blocking(args.url, args.token, args.prefix, *counts)))
        return
    create, close = await (library if args.peer == "lib" else hand_written)(args.url, args.token)
    await create(f"{args.prefix}-warm", "ws0")
    if args.memory:
        result: dict[str, object] = await memory(create, args.prefix, args.memory, args.concurrency)
    else:
        result = {
            "bulk_per_s": await bulk(create, args.prefix, args.count, args.concurrency, args.workspaces),
            "latency_ms": await latency(create, args.prefix, args.latency),
        }
    await close()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
