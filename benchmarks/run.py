"""`make bench`: the library beside what users would write instead, in one run
on one emulator, reported as ratios (these machines are shared and noisy).

1. bulk create: 1,000 tokens (object + secret) across 20 workspaces, concurrency 32,
   through the Python AsyncClient, an httpx peer, the Node Client, a fetch peer,
   the Rust core and a raw reqwest loop (the floor);
2. latency of one create (warm client), p50 and p99 over 500 sequential creates;
3. cold start: importing each package beside an empty interpreter and httpx, and one
   `python -m wayfinder_tokens create …` process per token;
4. memory: resident growth of a Python and a Node process over 10,000 creates;
5. the emulator's own rate, from the raw loop.

`--smoke` runs every step with tiny counts on the debug build and writes nothing,
so the harness cannot rot (`make test`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
# Each library runs right after its peer, so both see the emulator in the same state.
PEERS = ["rust_raw", "rust_core", "node_fetch", "node_lib", "python_httpx", "python_lib", "python_blocking"]


def run(cmd: list[str], **kwargs: Any) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, **kwargs)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"{' '.join(cmd[:4])} … failed with {result.returncode}")
    return result.stdout


def target_dir(profile: str) -> Path:
    triple = os.environ.get("CARGO_BUILD_TARGET", "")
    base = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return base / triple / profile if triple else base / profile


def build(release: bool) -> Path:
    profile = ["--release"] if release else []
    print(f"==> building the {'release' if release else 'debug'} emulator and Rust peers", flush=True)
    subprocess.run(
        ["cargo", "build", "--quiet", *profile, "-p", "wayfinder-emulator", "-p", "wayfinder-bench"],
        check=True,
        cwd=ROOT,
    )
    if release:
        print("==> building the release Python extension and Node addon", flush=True)
        env = dict(os.environ, VIRTUAL_ENV=str(Path(sys.executable).parent.parent))
        subprocess.run(
            [str(Path(sys.executable).parent / "maturin"), "develop", "--release", "--quiet"],
            check=True,
            cwd=ROOT,
            env=env,
        )
        subprocess.run(["npm", "run", "--silent", "build:release"], check=True, cwd=ROOT)
    return target_dir("release" if release else "debug")


# Bulk creates spread over this many workspaces.
WORKSPACES = 20


class Emulator:
    """The emulator binary in its own process, so its CPU is not charged to any peer."""

    def __init__(self, binary: Path) -> None:
        self.token = f"bench-{uuid.uuid4().hex}"
        # The workspaces the peers write to (an emulator has only those it is given).
        workspaces = ["dev", "latency", *(f"ws{i}" for i in range(WORKSPACES))]
        flags = [arg for w in workspaces for arg in ("--workspace", w)]
        self.process = subprocess.Popen(
            [str(binary), "--quiet", "--admin-token", self.token, *flags], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        self.url = first.split()[2]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def peer_command(peer: str, bin_dir: Path) -> list[str]:
    language, kind = peer.split("_")
    if language == "python":
        return [sys.executable, str(HERE / "python_peers.py"), "--peer", "httpx" if kind == "httpx" else kind]
    if language == "node":
        return ["node", "--expose-gc", str(HERE / "node_peers.mjs"), "--peer", "lib" if kind == "lib" else "fetch"]
    return [str(bin_dir / "wayfinder-bench"), "--peer", "core" if kind == "core" else "raw"]


def median_ms(cmd: list[str], times: int, env: dict[str, str] | None = None) -> float:
    samples = []
    for i in range(times):
        args = [part.replace("{i}", str(i)) for part in cmd]
        started = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, cwd=ROOT, env=env)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny counts, debug build, nothing written")
    args = parser.parse_args()
    smoke = args.smoke
    counts = (
        dict(rounds=1, bulk=20, latency=5, starts=2, cli=2, memory=200, handoff=50, rotate=20)
        if smoke
        else dict(rounds=3, bulk=1000, latency=500, starts=20, cli=10, memory=10_000, handoff=20_000, rotate=2000)
    )
    bin_dir = build(release=not smoke)
    emulator = Emulator(bin_dir / "wayfinder-emulator")
    run_id = uuid.uuid4().hex[:6]
    common = ["--url", emulator.url, "--token", emulator.token, "--concurrency", "32", "--workspaces", str(WORKSPACES)]
    results: dict[str, Any] = {
        "commit": run(["git", "rev-parse", "--short", "HEAD"]).strip(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cores": os.cpu_count(),
        "counts": counts,
        "bulk_create_per_s": {},
        "latency_ms": {},
    }
    try:
        # Rounds with the peers interleaved, each peer's median kept: a shared machine's load drifts.
        samples: dict[str, list[dict[str, Any]]] = {peer: [] for peer in PEERS}
        for round_ in range(counts["rounds"]):
            for peer in PEERS:
                print(
                    f"==> round {round_ + 1}/{counts['rounds']} {peer}: {counts['bulk']} creates at concurrency 32, "
                    f"then {counts['latency']} one by one",
                    flush=True,
                )
                prefix = f"{peer.replace('_', '-')}-{run_id}-r{round_}"
                extra = ["--prefix", prefix, "--count", str(counts["bulk"]), "--latency", str(counts["latency"])]
                out = run(peer_command(peer, bin_dir) + common + extra)
                samples[peer].append(json.loads(out.strip().splitlines()[-1]))
        for peer, measured in samples.items():
            results["bulk_create_per_s"][peer] = round(statistics.median(m["bulk_per_s"] for m in measured), 1)
            results["latency_ms"][peer] = {
                k: round(statistics.median(m["latency_ms"][k] for m in measured), 3) for k in ("p50", "p99")
            }
        results["bulk_create_per_s_rounds"] = {
            peer: [round(m["bulk_per_s"], 1) for m in measured] for peer, measured in samples.items()
        }

        print(f"==> cold starts (median of {counts['starts']})", flush=True)
        python, node = sys.executable, "node"
        results["import_ms"] = {
            "python_empty": median_ms([python, "-c", "pass"], counts["starts"]),
            "python_lib": median_ms([python, "-c", "import wayfinder_tokens"], counts["starts"]),
            "python_httpx": median_ms([python, "-c", "import httpx"], counts["starts"]),
            "node_empty": median_ms([node, "-e", ""], counts["starts"]),
            "node_lib": median_ms([node, "-e", "require('wayfinder-tokens')"], counts["starts"]),
        }
        env = dict(os.environ, WAYFINDER_SERVER=emulator.url, WAYFINDER_TOKEN=emulator.token, WAYFINDER_WORKSPACE="dev")
        cli = [
            python,
            "-m",
            "wayfinder_tokens",
            "create",
            "workspaceaccesstoken",
            f"cli-{run_id}-{{i}}",
            "-o",
            "export",
        ]
        results["cli_process_ms"] = {"python_m": median_ms(cli, counts["cli"], env)}

        print(f"==> rotate-all of {counts['rotate']} tokens: the batch call vs a loop of single resets", flush=True)
        out = run(
            peer_command("rust_core", bin_dir)
            + common
            + ["--prefix", f"rot-{run_id}", "--rotate", str(counts["rotate"])]
        )
        results["rotate_all"] = json.loads(out.strip().splitlines()[-1])

        print("==> asyncio <-> tokio hand-off", flush=True)
        out = run(
            peer_command("python_lib", bin_dir) + common + ["--prefix", "handoff", "--handoff", str(counts["handoff"])]
        )
        results["python_handoff_us"] = json.loads(out.strip().splitlines()[-1])

        print(f"==> memory over {counts['memory']} creates", flush=True)
        results["memory_growth_mb_per_10k"] = {}
        results["memory_rss_mb"] = {}
        for peer in ("python_lib", "node_lib"):
            out = run(
                peer_command(peer, bin_dir)
                + common
                + ["--prefix", f"mem-{peer.replace('_', '-')}-{run_id}", "--memory", str(counts["memory"])]
            )
            measured = json.loads(out.strip().splitlines()[-1])
            results["memory_growth_mb_per_10k"][peer] = round(measured["growth_mb_per_10k"], 2)
            results["memory_rss_mb"][peer] = measured["rss_mb_checkpoints"]
            # The same growth from the second checkpoint on: whether it flattens once heaps are sized.
            late = measured["rss_mb_checkpoints"]
            results.setdefault("memory_late_growth_mb_per_10k", {})[peer] = round(
                (late[-1] - late[1]) * 10_000 / (counts["memory"] * 8 / 10), 2
            )
    finally:
        emulator.stop()

    bulk = results["bulk_create_per_s"]
    lat = results["latency_ms"]
    results["import_ms"] = {k: round(v, 1) for k, v in results["import_ms"].items()}
    results["cli_process_ms"] = {k: round(v, 1) for k, v in results["cli_process_ms"].items()}
    results["emulator_create_issue_per_s"] = bulk["rust_raw"]
    results["ratios"] = {
        "python_lib/python_httpx": round(bulk["python_lib"] / bulk["python_httpx"], 2),
        "node_lib/node_fetch": round(bulk["node_lib"] / bulk["node_fetch"], 2),
        "rust_core/rust_raw": round(bulk["rust_core"] / bulk["rust_raw"], 3),
    }
    # Two HTTP calls per create; the library's cost beyond the floor, per call.
    results["overhead_us_per_call"] = {
        peer: round((lat[peer]["p50"] - lat["rust_raw"]["p50"]) * 1000 / 2, 1)
        for peer in ("rust_core", "python_lib", "python_blocking", "node_lib")
    }
    results["import_overhead_ms"] = {
        "python_lib": round(results["import_ms"]["python_lib"] - results["import_ms"]["python_empty"], 1),
        "node_lib": round(results["import_ms"]["node_lib"] - results["import_ms"]["node_empty"], 1),
    }
    table = render(results)
    print(table)
    if smoke:
        missing = [peer for peer in PEERS if not bulk.get(peer)]
        assert not missing, missing
        print("smoke run: every step ran; nothing written")
        return 0
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (HERE / "README.md").write_text(readme(results, table))
    print("wrote benchmarks/results.json and benchmarks/README.md")
    return 0


def render(r: dict[str, Any]) -> str:
    lines = [
        "| peer | bulk creates/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for peer in PEERS:
        lat = r["latency_ms"][peer]
        lines.append(f"| {peer} | {r['bulk_create_per_s'][peer]:.0f} | {lat['p50']:.2f} | {lat['p99']:.2f} |")
    lines += [
        "",
        "| ratio (same run) | value |",
        "|---|---:|",
        *(f"| {k} | {v} |" for k, v in r["ratios"].items()),
        "",
        "| cold start, median ms | value |",
        "|---|---:|",
        *(f"| {k} | {v} |" for k, v in r["import_ms"].items()),
        f"| python -m wayfinder_tokens create (whole process) | {r['cli_process_ms']['python_m']} |",
        "",
        "| other | value |",
        "|---|---:|",
        *(f"| import overhead, {k} (ms) | {v} |" for k, v in r["import_overhead_ms"].items()),
        *(f"| asyncio <-> tokio hand-off, {k} | {v} |" for k, v in r.get("python_handoff_us", {}).items()),
        *(
            f"| overhead per call beyond raw reqwest, {k} (µs, p50) | {v} |"
            for k, v in r["overhead_us_per_call"].items()
        ),
        *(f"| memory growth per 10k creates, {k} (MB) | {v} |" for k, v in r["memory_growth_mb_per_10k"].items()),
        *(
            f"| the same, from the second tenth on, {k} (MB) | {v} |"
            for k, v in r["memory_late_growth_mb_per_10k"].items()
        ),
        f"| emulator create + issue per s (raw reqwest) | {r['emulator_create_issue_per_s']:.0f} |",
    ]
    return "\n".join(lines)


def readme(r: dict[str, Any], table: str) -> str:
    return (
        "# Benchmarks\n\n"
        "`make bench` (release builds; about 5 minutes on 2 cores). Every peer makes the same two calls per token "
        "(create the object, issue its secret) with the same static admin token, against one emulator process "
        "on loopback, in three rounds with the peers interleaved (each figure is the peer's median). "
        "Absolute numbers move with the machine's load; compare ratios from one run.\n\n"
        f"Machine: {r['cores']} cores. Commit: `{r['commit']}`. Date: {r['date']}.\n\n"
        f"{table}\n\n"
        "Peers: `python_lib` is `AsyncClient`; `python_httpx` a hand-written `httpx.AsyncClient`; `node_lib` is "
        "`Client`; `node_fetch` the built-in `fetch`; `python_blocking` the blocking `Client` (a 32-thread pool for "
        "the bulk part); `rust_core` the core crate; `rust_raw` a `reqwest` loop with "
        "no library logic (the floor). The raw figures are in `results.json`.\n"
    )


if __name__ == "__main__":
    sys.exit(main())
