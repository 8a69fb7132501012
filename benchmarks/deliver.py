"""Rotate-and-deliver: the price of delivery, beside what it replaces.

For each destination (OpenBao's KV v2, and the emulator's GitHub Actions routes), three runs
over the same N tokens at concurrency 8, each in this process with the emulator and OpenBao
in their own processes (their CPU is not charged here):

- rotate alone: `rotate_workspace_access_tokens` with nowhere to deliver;
- the raw loop: the same N values written straight to the destination by a hand-written
  client (httpx, 8 in flight; for GitHub sealed with PyNaCl), what a team writes today;
- rotate-and-deliver: the rotation with `deliver=`, preflight included.

Reported: wall time and this process's CPU per token, and rotate-and-deliver over the sum of
the other two (the target is at most 1.2). Written to benchmarks/deliver-results.json; with
--smoke, tiny counts on whatever build is installed and nothing written.

    python benchmarks/deliver.py [--smoke] [--tokens 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import nacl.public

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
sys.path.insert(0, str(HERE))

import run  # noqa: E402  (the benchmark harness: its build and its emulator process)

CONCURRENCY = 8
BAO_TOKEN = "bench-bao-root"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OpenBao:
    def __init__(self) -> None:
        binary = shutil.which("bao") or str(ROOT / ".venv" / "bin" / "bao")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [binary, "server", "-dev", f"-dev-root-token-id={BAO_TOKEN}", f"-dev-listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("OpenBao did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def timed(work: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds (all threads) of `work(*args, **kwargs)`."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    work(*args, **kwargs)
    return time.perf_counter() - wall0, time.process_time() - cpu0


async def bounded(n: int, one: Callable[[int], Awaitable[None]]) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def guarded(i: int) -> None:
        async with gate:
            await one(i)

    await asyncio.gather(*(guarded(i) for i in range(n)))


def raw_vault(bao: OpenBao, values: list[str], run_id: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(headers={"x-vault-token": BAO_TOKEN}) as http:

            async def one(i: int) -> None:
                data = {"WAYFINDER_SERVER": "s", "WAYFINDER_TOKEN": values[i], "WAYFINDER_WORKSPACE": "dev"}
                answer = await http.post(f"{bao.url}/v1/secret/data/raw-{run_id}/t{i}", json={"data": data})
                answer.raise_for_status()

            await bounded(len(values), one)

    asyncio.run(main())


def raw_github(emulator: run.Emulator, values: list[str], run_id: str) -> None:
    async def main() -> None:
        headers = {"authorization": f"Bearer {emulator.token}", "x-github-api-version": "2022-11-28"}
        async with httpx.AsyncClient(headers=headers) as http:

            async def one(i: int) -> None:
                scope = f"{emulator.url}/github/repos/raw-{run_id}/t{i}/actions"
                key = (await http.get(f"{scope}/secrets/public-key")).json()
                box = nacl.public.SealedBox(nacl.public.PublicKey(base64.b64decode(key["key"])))
                sealed = base64.b64encode(box.encrypt(values[i].encode())).decode()
                body = {"encrypted_value": sealed, "key_id": key["key_id"]}
                (await http.put(f"{scope}/secrets/WAYFINDER_TOKEN", json=body)).raise_for_status()
                for name, value in [("WAYFINDER_SERVER", "s"), ("WAYFINDER_WORKSPACE", "dev")]:
                    variable = {"name": name, "value": value}
                    (await http.post(f"{scope}/variables", json=variable)).raise_for_status()

            await bounded(len(values), one)

    asyncio.run(main())


def measure(tokens: int) -> dict[str, Any]:
    import wayfinder_tokens as wft

    results: dict[str, Any] = {"tokens": tokens, "concurrency": CONCURRENCY}
    with tempfile.TemporaryDirectory() as scratch:
        emulator = run.Emulator(run.target_dir(PROFILE) / "wayfinder-emulator", tls=False, scratch=Path(scratch))
        bao = OpenBao()
        os.environ.update(
            GITHUB_API_URL=f"{emulator.url}/github",
            GITHUB_TOKEN=emulator.token,
            VAULT_ADDR=bao.url,
            VAULT_TOKEN=BAO_TOKEN,
            XDG_STATE_HOME=str(Path(scratch) / "state"),
        )
        try:
            with wft.Client(server=emulator.url, token=emulator.token, workspace="dev", timeout=30) as client:
                names = [f"t{i}" for i in range(tokens)]
                for name in names:
                    client.create_workspace_access_token(name)
                targets = [("dev", name) for name in names]
                for destination in ["vault", "github"]:
                    run_id = f"{destination}{time.time_ns() % 10**9}"
                    rotate = timed(client.rotate_workspace_access_tokens, targets, concurrency=CONCURRENCY)
                    secrets = [i.token or "" for i in client.rotate_workspace_access_tokens(targets).rotated]
                    if destination == "vault":
                        raw = timed(raw_vault, bao, secrets, run_id)
                        spec = f"vault:secret/{run_id}/{{workspace}}/{{name}}"
                    else:
                        raw = timed(raw_github, emulator, secrets, run_id)
                        spec = f"github:{run_id}/{{name}}"
                    reports: list[Any] = []

                    def delivered(spec: str = spec, reports: list[Any] = reports) -> None:
                        report = client.rotate_workspace_access_tokens(targets, concurrency=CONCURRENCY, deliver=spec)
                        assert report.ok, [d for d in report.deliveries if not d.ok][:1]
                        reports.append(report)

                    both = timed(delivered)
                    results[destination] = {
                        "rotate": {"wall_s": rotate[0], "cpu_ms_per_token": 1000 * rotate[1] / tokens},
                        "raw_loop": {"wall_s": raw[0], "cpu_ms_per_token": 1000 * raw[1] / tokens},
                        "rotate_and_deliver": {"wall_s": both[0], "cpu_ms_per_token": 1000 * both[1] / tokens},
                        "ratio_to_sum_wall": both[0] / (rotate[0] + raw[0]),
                        "ratio_to_sum_cpu": both[1] / (rotate[1] + raw[1]),
                    }
        finally:
            bao.stop()
            emulator.stop()
    return results


PROFILE = "release"


def render(results: dict[str, Any]) -> str:
    lines = [f"rotate-and-deliver, {results['tokens']} tokens, concurrency {results['concurrency']}"]
    lines.append(f"{'destination':<12}{'run':<20}{'wall s':>9}{'CPU ms/token':>14}")
    for destination in ["vault", "github"]:
        row = results[destination]
        for kind in ["rotate", "raw_loop", "rotate_and_deliver"]:
            lines.append(
                f"{destination:<12}{kind:<20}{row[kind]['wall_s']:>9.2f}{row[kind]['cpu_ms_per_token']:>14.3f}"
            )
        lines.append(
            f"{destination:<12}{'÷ (rotate + raw)':<20}{row['ratio_to_sum_wall']:>9.2f}{row['ratio_to_sum_cpu']:>14.2f}"
        )
    return "\n".join(lines)


def main() -> int:
    global PROFILE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny counts, debug build, nothing written")
    parser.add_argument("--tokens", type=int, default=1000)
    args = parser.parse_args()
    PROFILE = "debug" if args.smoke else "release"
    run.build(release=not args.smoke)
    # Where run.build put the extension (it sets PYTHONPATH for the peers' own processes).
    sys.path.insert(0, str(ROOT / "bindings-python" / "python"))
    results = measure(10 if args.smoke else args.tokens)
    print(render(results))
    if not args.smoke:
        (HERE / "deliver-results.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
