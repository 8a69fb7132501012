"""`make bench`: the libraries beside what users would write instead, in one run
on one machine, reported as ratios (these machines are shared and noisy).

1. bulk create: 3,000 tokens (object + secret) across 20 workspaces, concurrency 32,
   through every peer: the Rust core and a raw reqwest loop (the floor; again on a
   single-thread runtime, and through hyper alone on one, for reference); the Node
   Client, `fetch` and undici's `request` over a keep-alive Pool; the Python
   AsyncClient and blocking Client, httpx and aiohttp. Each run first makes 2,000
   untimed creates (fewer for the slow peers: as many as they time) so every peer,
   the JIT-compiled ones above all, is measured warm. Each run also reports the
   process's CPU time per create over the bulk part (getrusage / process.cpuUsage;
   for Node and Python also by thread: main, the library's own threads, the rest)
   and the latency of 300 sequential creates (p50, p99);
2. the same over HTTPS: a second emulator serves TLS with its own CA, every peer
   trusts that CA, and the emulator counts the TLS handshakes each peer makes;
   rounds interleave every peer and both transports, five times;
3. one process per token: the CLI (`python -m wayfinder_tokens create …`,
   `npx wayfinder-tokens create …`) one after another and 8 at a time;
4. cold start: importing each package beside an empty interpreter and httpx;
5. rotate-all (the batch call vs a loop of resets), the asyncio <-> tokio hand-off,
   and resident growth over 10,000 creates.

`--memory` (`make bench-memory`) instead runs 100,000 creates through each library
and adds the steady-state growth per 10,000 to the committed results.json.
`--smoke` runs every step with tiny counts on the debug build and writes nothing,
so the harness cannot rot (`make test`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
sys.path.insert(0, str(HERE))

import chart  # noqa: E402

# Each library runs right after its peers, so all see the emulator in the same state.
PEERS = [
    "rust_raw",
    "rust_raw_current_thread",
    "rust_hyper_current_thread",
    "rust_core",
    "node_fetch",
    "node_undici",
    "node_lib",
    "python_httpx",
    "python_aiohttp",
    "python_lib",
    "python_blocking",
]
# References, not targets: the raw loop with every request on one thread, as a
# JavaScript client runs (`rust_raw` is tokio's multi-thread runtime), and the same
# loop through hyper, the layer under reqwest: what any client over hyper costs at least.
CURRENT_THREAD_REFERENCES = {"rust_raw_current_thread": "raw", "rust_hyper_current_thread": "hyper"}
# The hand-written peers of each language: the strongest of them (by throughput in
# the same run) is what each library is held against.
HAND_WRITTEN = {
    "rust": ["rust_raw"],
    "node": ["node_fetch", "node_undici"],
    "python": ["python_httpx", "python_aiohttp"],
}
LIBRARIES = ["rust_core", "node_lib", "python_lib", "python_blocking"]
# CPU per create, at most this many times the raw reqwest floor's.
CPU_TARGETS = {"rust_core": 1.15, "node_lib": 1.5, "python_lib": 1.5, "python_blocking": 2.0}
# ... and at most this share of the strongest same-language peer's.
CPU_TARGET_VS_PEER = 0.5
# Bulk creates spread over this many workspaces.
WORKSPACES = 20


STARTED = time.monotonic()


def step(message: str) -> None:
    """A progress line with the time since the start, so a slow step shows."""
    elapsed = int(time.monotonic() - STARTED)
    print(f"==> [{elapsed // 60}:{elapsed % 60:02}] {message}", flush=True)


def run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"{' '.join(cmd[:4])} … failed with {result.returncode}")
    return result.stdout


def last_json(out: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return parsed


def target_dir(profile: str) -> Path:
    triple = os.environ.get("CARGO_BUILD_TARGET", "")
    base = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return base / triple / profile if triple else base / profile


def build(release: bool) -> Path:
    """The emulator and Rust peers; for a release run, also the Python extension and
    Node addon, all from one cargo invocation. Cargo unifies features per invocation,
    so separate maturin and napi builds would each compile their own tokio, hyper,
    reqwest and core.
    Each library is then copied where its package loads it from, as maturin and napi
    would: the Python package runs from `bindings-python/python/` (PYTHONPATH), so the benchmark does
    not depend on what `maturin develop` last installed."""
    profile = "release" if release else "debug"
    packages = ["wayfinder-emulator", "wayfinder-bench"]
    env = dict(os.environ)
    if release:
        packages += ["wayfinder-tokens-python", "wayfinder-tokens-node"]
        # What maturin tells pyo3: this interpreter, and no libpython to link.
        env |= {"PYO3_PYTHON": sys.executable, "PYO3_BUILD_EXTENSION_MODULE": "1"}
    step(f"building the {profile} {', '.join(packages)}")
    flags = ["--release"] if release else []
    selected = [arg for package in packages for arg in ("-p", package)]
    subprocess.run(["cargo", "build", "--quiet", *flags, *selected], check=True, cwd=ROOT, env=env)
    out = target_dir(profile)
    if release:
        install_library(
            out / library_file("_native"),
            ROOT / "bindings-python" / "python" / "wayfinder_tokens" / python_extension_name(),
        )
        install_library(out / library_file("wayfinder_tokens_node"), ROOT / "bindings-node" / node_addon_name())
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "bindings-python" / "python"), os.environ.get("PYTHONPATH")])
    )
    return out


def library_file(crate: str) -> str:
    if sys.platform == "win32":
        return f"{crate}.dll"
    return f"lib{crate}.dylib" if sys.platform == "darwin" else f"lib{crate}.so"


def python_extension_name() -> str:
    return "_native.pyd" if sys.platform == "win32" else "_native.abi3.so"


def node_addon_name() -> str:
    """The file napi's loader (bindings-node/index.js) looks for first on this platform."""
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine().lower()]
    if sys.platform == "linux":
        return f"wayfinder-tokens.linux-{arch}-{'gnu' if platform.libc_ver()[0] == 'glibc' else 'musl'}.node"
    if sys.platform == "win32":
        return f"wayfinder-tokens.win32-{arch}-msvc.node"
    return f"wayfinder-tokens.{sys.platform}-{arch}.node"


def install_library(built: Path, destination: Path) -> None:
    # Replaced, never rewritten in place: a process may have the old one mapped.
    staging = destination.with_name(f".{destination.stem}.partial{destination.suffix}")
    shutil.copyfile(built, staging)
    os.replace(staging, destination)


class Emulator:
    """The emulator binary in its own process, so its CPU is not charged to any peer.
    With `tls`, it serves HTTPS with a CA of its own, written to `self.ca`."""

    def __init__(self, binary: Path, tls: bool, scratch: Path, workspaces: list[str] | None = None) -> None:
        self.token = f"bench-{uuid.uuid4().hex}"
        self.ca: str | None = None
        # The workspaces the peers write to (an emulator has only those it is given).
        workspaces = ["dev", "latency", *(f"ws{i}" for i in range(WORKSPACES)), *(workspaces or [])]
        flags = [arg for w in workspaces for arg in ("--workspace", w)]
        if tls:
            self.ca = str(scratch / "emulator-ca.pem")
            flags += ["--tls", "--tls-ca-out", self.ca]
        self.process = subprocess.Popen(
            [str(binary), "--quiet", "--admin-token", self.token, *flags], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().split()[2]
        self.context = ssl.create_default_context(cafile=self.ca) if self.ca else None

    def _stats(self, method: str) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/emulator/stats", method=method, headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, context=self.context) as answer:
            body = answer.read()
        return json.loads(body) if body else {}

    def reset_stats(self) -> None:
        self._stats("DELETE")

    def requests(self) -> dict[str, int]:
        """Requests served since the last reset, by `METHOD path`."""
        return dict(self._stats("GET").get("requests", {}))

    def handshakes(self) -> int:
        return int(self._stats("GET").get("tls_handshakes", 0))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# V8 grows its young generation in steps as objects survive scavenges (up to
# --max-semi-space-size); pinned at 1 MB, what remains is the library's own growth.
PINNED_YOUNG_GENERATION = "node_lib-pinned"
# The same Node harness with no client at all, and the strongest hand-written
# peer: what the runtime grows on its own, beside what a library adds.
MEMORY_BASELINES = ["node_runtime", "node_undici"]


def peer_command(peer: str, bin_dir: Path) -> list[str]:
    if peer in CURRENT_THREAD_REFERENCES:
        return [str(bin_dir / "wayfinder-bench"), "--peer", CURRENT_THREAD_REFERENCES[peer], "--current-thread"]
    if peer == PINNED_YOUNG_GENERATION:
        return ["node", "--expose-gc", "--max-semi-space-size=1", str(HERE / "node_peers.mjs"), "--peer", "lib"]
    language, kind = peer.split("_")
    if language == "python":
        return [sys.executable, str(HERE / "python_peers.py"), "--peer", kind]
    if language == "node":
        return ["node", "--expose-gc", str(HERE / "node_peers.mjs"), "--peer", kind]
    return [str(bin_dir / "wayfinder-bench"), "--peer", kind]


def peer_env(peer: str, emulator: Emulator) -> dict[str, str] | None:
    # Node's fetch takes no CA option; NODE_EXTRA_CA_CERTS is how its users trust one.
    if peer == "node_fetch" and emulator.ca:
        return dict(os.environ, NODE_EXTRA_CA_CERTS=emulator.ca)
    return None


def common_args(emulator: Emulator) -> list[str]:
    args = ["--url", emulator.url, "--token", emulator.token, "--concurrency", "32", "--workspaces", str(WORKSPACES)]
    return args + (["--ca", emulator.ca] if emulator.ca else [])


def median_ms(cmd: list[str], times: int, env: dict[str, str] | None = None) -> float:
    samples = []
    for i in range(times):
        args = [part.replace("{i}", str(i)) for part in cmd]
        started = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, cwd=ROOT, env=env)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


# Peers several times slower than the rest make fewer creates per round (httpx,
# about 180 a second, 300; fetch, about 750 a second, 1,000), which keeps `make
# bench` short; every peer's bulk part still lasts a second or more, since shorter
# windows let a neighbour's load swing CPU per create by 30 %. (`bulk_slow`, the
# count results.json has always recorded, is fetch's; httpx's is `bulk_httpx`.)
SLOW_PEERS = {"python_httpx": "bulk_httpx", "node_fetch": "bulk_slow"}


def bulk_count(peer: str, counts: dict[str, int]) -> int:
    return counts[SLOW_PEERS.get(peer, "bulk")]


def warmup_count(peer: str, counts: dict[str, int]) -> int:
    """Untimed creates before the timed ones. JIT-compiled peers need them most:
    undici's first 1,000 creates cost about five times its steady CPU per create,
    which, left in, would flatter every library compared with it."""
    return min(counts["warmup"], bulk_count(peer, counts))


def bulk_rounds(emulators: dict[str, Emulator], bin_dir: Path, counts: dict[str, int], run_id: str) -> dict[str, Any]:
    """Every peer over every transport, interleaved, `rounds` times: per transport and
    peer, the list of measurements (bulk rate, CPU per create, latency, handshakes)."""
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {t: {p: [] for p in PEERS} for t in emulators}
    for round_ in range(counts["rounds"]):
        for transport, emulator in emulators.items():
            for peer in PEERS:
                bulk, warmup = bulk_count(peer, counts), warmup_count(peer, counts)
                step(
                    f"round {round_ + 1}/{counts['rounds']} {transport} {peer}: {warmup} creates to warm up, "
                    f"{bulk} timed at concurrency 32, then {counts['latency']} one by one"
                )
                prefix = f"{peer.replace('_', '-')}-{run_id}-{transport}-r{round_}"
                extra = ["--prefix", prefix, "--warmup", str(warmup), "--count", str(bulk)]
                extra += ["--latency", str(counts["latency"])]
                emulator.reset_stats()
                measured = last_json(
                    run(peer_command(peer, bin_dir) + common_args(emulator) + extra, peer_env(peer, emulator))
                )
                measured["handshakes"] = emulator.handshakes()
                samples[transport][peer].append(measured)
    return samples


def summarise(samples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians of throughput and latency, the mean of CPU per create, over the rounds."""
    return {
        "bulk_create_per_s": {p: round(statistics.median(m["bulk_per_s"] for m in s), 1) for p, s in samples.items()},
        "latency_ms": {
            p: {k: round(statistics.median(m["latency_ms"][k] for m in s), 3) for k in ("p50", "p99")}
            for p, s in samples.items()
        },
        "cpu_us_per_create": {
            p: round(statistics.mean(m["cpu_us_per_create"] for m in s), 1) for p, s in samples.items()
        },
        # Node and Python: the language's main thread, the library's own threads, the rest.
        "cpu_us_per_create_by_thread": {
            p: {
                part: round(statistics.mean(m["cpu_us_per_create_by_thread"][part] for m in s), 1)
                for part in ("main", "runtime", "other")
            }
            for p, s in samples.items()
            if all(m.get("cpu_us_per_create_by_thread") for m in s)
        },
        "bulk_create_per_s_rounds": {p: [round(m["bulk_per_s"], 1) for m in s] for p, s in samples.items()},
        "cpu_us_per_create_rounds": {p: [round(m["cpu_us_per_create"], 1) for m in s] for p, s in samples.items()},
    }


def strongest_peers(bulk: dict[str, float]) -> dict[str, str]:
    return {language: max(peers, key=lambda p: bulk[p]) for language, peers in HAND_WRITTEN.items()}


def comparisons(figures: dict[str, Any]) -> dict[str, Any]:
    """Each library against the raw floor and the strongest peer of its language,
    throughput and CPU per create, with the CPU targets."""
    bulk, cpu = figures["bulk_create_per_s"], figures["cpu_us_per_create"]
    strongest = strongest_peers(bulk)
    out: dict[str, Any] = {"strongest_peer": strongest}
    for library in LIBRARIES:
        peer = strongest[library.split("_")[0]]
        cpu_vs_raw = cpu[library] / cpu["rust_raw"]
        cpu_vs_peer = cpu[library] / cpu[peer]
        out[library] = {
            "throughput_vs_strongest_peer": round(bulk[library] / bulk[peer], 2),
            "throughput_vs_raw": round(bulk[library] / bulk["rust_raw"], 2),
            "cpu_vs_raw": round(cpu_vs_raw, 2),
            "cpu_vs_raw_target": CPU_TARGETS[library],
            "cpu_vs_strongest_peer": round(cpu_vs_peer, 2),
            "meets_cpu_targets": cpu_vs_raw <= CPU_TARGETS[library]
            and (library == "rust_core" or cpu_vs_peer <= CPU_TARGET_VS_PEER),
        }
    # The least a client over hyper costs (every request on one thread, no library at
    # all), against each language's strongest peer: a binding cannot go below it.
    out["hyper_floor_cpu_vs_strongest_peer"] = {
        language: round(cpu["rust_hyper_current_thread"] / cpu[peer], 2)
        for language, peer in strongest.items()
        if language != "rust"
    }
    return out


def process_per_token(emulator: Emulator, counts: dict[str, int], run_id: str) -> dict[str, float]:
    """Tokens/s when each token costs a CLI process: one after another, and 8 at a time."""
    env = dict(os.environ, WAYFINDER_SERVER=emulator.url, WAYFINDER_TOKEN=emulator.token, WAYFINDER_WORKSPACE="dev")
    tail = ["create", "workspaceaccesstoken", "{name}", "-o", "export"]
    node_bin = str(ROOT / json.loads((ROOT / "package.json").read_text())["bin"]["wayfinder-tokens"])
    clis = {
        "python_cli": [sys.executable, "-m", "wayfinder_tokens", *tail],
        "node_cli": ["npx", "wayfinder-tokens", *tail],
        # The same without npx's own start-up (an npm script or node_modules/.bin).
        "node_bin": ["node", node_bin, *tail],
    }
    out: dict[str, float] = {}
    for label, cli in clis.items():
        for parallel, count in (("sequential", counts["cli"]), ("8_at_a_time", counts["cli"] * 4)):
            step(f"one {label} process per token, {count} tokens, {parallel.replace('_', ' ')}")
            names = [f"{label.replace('_', '-')}-{run_id}-{parallel[0]}{i}" for i in range(count)]

            def one(name: str, cli: list[str] = cli) -> None:
                subprocess.run(
                    [p.replace("{name}", name) for p in cli], check=True, capture_output=True, cwd=ROOT, env=env
                )

            started = time.perf_counter()
            with ThreadPoolExecutor(1 if parallel == "sequential" else 8) as pool:
                list(pool.map(one, names))
            out[f"{label}_{parallel}"] = round(count / (time.perf_counter() - started), 1)
    return out


def steady_growth(checkpoints: list[float]) -> float:
    """MB per 10 steps after the first: checkpoints are taken every tenth of the run."""
    return round((checkpoints[-1] - checkpoints[0]) / (len(checkpoints) - 1), 2)


def memory_runs(emulator: Emulator, bin_dir: Path, creates: int, peers: list[str], run_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"creates": creates, "rss_mb": {}, "growth_mb_per_tenth": {}}
    for peer in peers:
        step(f"memory: {peer} over {creates} creates")
        prefix = f"mem-{peer.replace('_', '-')}-{run_id}"
        emulator.reset_stats()
        measured = last_json(
            run(peer_command(peer, bin_dir) + common_args(emulator) + ["--prefix", prefix, "--memory", str(creates)])
        )
        out["rss_mb"][peer] = measured["rss_mb_checkpoints"]
        out["growth_mb_per_tenth"][peer] = steady_growth(measured["rss_mb_checkpoints"])
        for key in ("heap_total_mb", "heap_used_mb", "external_mb"):
            if key in measured:
                out.setdefault("v8", {}).setdefault(peer, {})[key] = measured[key]
    return out


def bench_memory(bin_dir: Path, smoke: bool) -> int:
    """`make bench-memory`: 100,000 creates per library; the growth per 10,000 after the first."""
    creates = 200 if smoke else 100_000
    with tempfile.TemporaryDirectory() as scratch:
        emulator = Emulator(bin_dir / "wayfinder-emulator", tls=False, scratch=Path(scratch))
        try:
            peers = [*LIBRARIES, PINNED_YOUNG_GENERATION, *MEMORY_BASELINES]
            measured = memory_runs(emulator, bin_dir, creates, peers, uuid.uuid4().hex[:6])
        finally:
            emulator.stop()
    steady = {peer: round(g * 10_000 / (creates / 10), 2) for peer, g in measured["growth_mb_per_tenth"].items()}
    print(json.dumps({"memory_growth_mb_per_10k_steady": steady, "rss_mb": measured["rss_mb"]}, indent=2))
    if smoke:
        return 0
    path = HERE / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results["memory_growth_mb_per_10k_steady"] = steady
    results["memory_steady_rss_mb"] = {"creates": creates, **measured["rss_mb"]}
    results["memory_steady_node_v8_mb"] = measured.get("v8", {})
    results["memory_steady_commit"] = run(["git", "rev-parse", "--short", "HEAD"]).strip()
    path.write_text(json.dumps(results, indent=2) + "\n")
    print("wrote memory_growth_mb_per_10k_steady into benchmarks/results.json")
    if "cpu_us_per_create" in results:
        # The figures page shows the memory rows too; keep it in step with results.json.
        (HERE / "README.md").write_text(readme(results, render(results)))
        print("rewrote benchmarks/README.md")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny counts, debug build, nothing written")
    parser.add_argument("--memory", action="store_true", help="100,000 creates per library (make bench-memory)")
    args = parser.parse_args()
    smoke = args.smoke
    bin_dir = build(release=not smoke)
    if args.memory:
        return bench_memory(bin_dir, smoke)
    counts = (
        dict(
            rounds=1,
            bulk=20,
            warmup=5,
            bulk_slow=10,
            bulk_httpx=10,
            latency=5,
            starts=2,
            cli=2,
            memory=200,
            handoff=50,
            rotate=20,
        )
        if smoke
        else dict(rounds=5, bulk=3000, warmup=2000, bulk_slow=1000, bulk_httpx=300, latency=300, starts=20, cli=6)
        | dict(memory=10_000, handoff=20_000, rotate=2000)
    )
    run_id = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as scratch:
        emulators = {
            "http": Emulator(bin_dir / "wayfinder-emulator", tls=False, scratch=Path(scratch)),
            "https": Emulator(bin_dir / "wayfinder-emulator", tls=True, scratch=Path(scratch)),
        }
        try:
            results = measure(emulators, bin_dir, counts, run_id)
        finally:
            for emulator in emulators.values():
                emulator.stop()
    table = render(results)
    print(table)
    if smoke:
        missing = [
            p
            for p in PEERS
            if not results["bulk_create_per_s"].get(p) or not results["tls"]["bulk_create_per_s"].get(p)
        ]
        assert not missing, missing
        with tempfile.TemporaryDirectory() as scratch:
            chart.draw(results, Path(scratch) / "chart.svg")
        print("smoke run: every step ran, the chart drew; nothing written")
        return 0
    path = HERE / "results.json"
    if path.exists():
        # The 100,000-create memory figures come from `make bench-memory`; keep them.
        previous = json.loads(path.read_text())
        for key in (
            "memory_growth_mb_per_10k_steady",
            "memory_steady_rss_mb",
            "memory_steady_node_v8_mb",
            "memory_steady_commit",
        ):
            if key in previous:
                results[key] = previous[key]
    path.write_text(json.dumps(results, indent=2) + "\n")
    chart.draw(results, HERE / "chart.svg")
    (HERE / "README.md").write_text(readme(results, render(results)))
    print("wrote benchmarks/results.json, benchmarks/chart.svg and benchmarks/README.md")
    return 0


def measure(emulators: dict[str, Emulator], bin_dir: Path, counts: dict[str, int], run_id: str) -> dict[str, Any]:
    http = emulators["http"]
    results: dict[str, Any] = {
        "commit": run(["git", "rev-parse", "--short", "HEAD"]).strip(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cores": os.cpu_count(),
        "counts": counts,
    }
    samples = bulk_rounds(emulators, bin_dir, counts, run_id)
    results.update(summarise(samples["http"]))
    results["tls"] = summarise(samples["https"])
    results["handshakes"] = {
        "per_run": {p: statistics.median(m["handshakes"] for m in s) for p, s in samples["https"].items()},
        "creates_per_run": counts["warmup"] + counts["bulk"] + counts["latency"] + 1,
        "requests_per_run": 2 * (counts["warmup"] + counts["bulk"] + counts["latency"] + 1),
        # httpx and fetch make fewer (SLOW_PEERS).
        "creates_per_run_by_peer": {
            p: warmup_count(p, counts) + bulk_count(p, counts) + counts["latency"] + 1 for p in PEERS
        },
        "concurrency": 32,
    }
    results["cpu_comparison"] = {"http": comparisons(results), "https": comparisons(results["tls"])}
    results["process_per_token_per_s"] = process_per_token(http, counts, run_id)

    step(f"cold starts (median of {counts['starts']})")
    python, node = sys.executable, "node"
    results["import_ms"] = {
        "python_empty": round(median_ms([python, "-c", "pass"], counts["starts"]), 1),
        "python_lib": round(median_ms([python, "-c", "import wayfinder_tokens"], counts["starts"]), 1),
        "python_httpx": round(median_ms([python, "-c", "import httpx"], counts["starts"]), 1),
        "node_empty": round(median_ms([node, "-e", ""], counts["starts"]), 1),
        "node_lib": round(median_ms([node, "-e", "require('wayfinder-tokens')"], counts["starts"]), 1),
    }
    env = dict(os.environ, WAYFINDER_SERVER=http.url, WAYFINDER_TOKEN=http.token, WAYFINDER_WORKSPACE="dev")
    cli = [python, "-m", "wayfinder_tokens", "create", "workspaceaccesstoken", f"cli-{run_id}-{{i}}", "-o", "export"]
    results["cli_process_ms"] = {"python_m": round(median_ms(cli, counts["cli"], env), 1)}

    common = common_args(http)
    step(f"rotate-all of {counts['rotate']} tokens: the batch call vs a loop of single resets")
    rotate = ["--prefix", f"rot-{run_id}", "--rotate", str(counts["rotate"])]
    results["rotate_all"] = last_json(run(peer_command("rust_core", bin_dir) + common + rotate))

    step("asyncio <-> tokio hand-off")
    handoff = ["--prefix", "handoff", "--handoff", str(counts["handoff"])]
    results["python_handoff_us"] = last_json(run(peer_command("python_lib", bin_dir) + common + handoff))

    memory = memory_runs(http, bin_dir, counts["memory"], ["python_lib", "node_lib"], run_id)
    tenth = counts["memory"] / 10
    checkpoints = memory["rss_mb"]
    results["memory_growth_mb_per_10k"] = {
        p: round((c[-1] - c[0]) * 10_000 / (tenth * 9), 2) for p, c in checkpoints.items()
    }
    results["memory_rss_mb"] = checkpoints
    # The same growth from the second checkpoint on: whether it flattens once heaps are sized.
    results["memory_late_growth_mb_per_10k"] = {
        p: round((c[-1] - c[1]) * 10_000 / (tenth * 8), 2) for p, c in checkpoints.items()
    }

    bulk, lat = results["bulk_create_per_s"], results["latency_ms"]
    results["emulator_create_issue_per_s"] = bulk["rust_raw"]
    results["ratios"] = {
        "python_lib/python_httpx": round(bulk["python_lib"] / bulk["python_httpx"], 2),
        "python_lib/python_aiohttp": round(bulk["python_lib"] / bulk["python_aiohttp"], 2),
        "node_lib/node_fetch": round(bulk["node_lib"] / bulk["node_fetch"], 2),
        "node_lib/node_undici": round(bulk["node_lib"] / bulk["node_undici"], 2),
        "rust_core/rust_raw": round(bulk["rust_core"] / bulk["rust_raw"], 3),
    }
    # Two HTTP calls per create; the library's cost beyond the floor, per call.
    results["overhead_us_per_call"] = {
        peer: round((lat[peer]["p50"] - lat["rust_raw"]["p50"]) * 1000 / 2, 1) for peer in LIBRARIES
    }
    results["import_overhead_ms"] = {
        "python_lib": round(results["import_ms"]["python_lib"] - results["import_ms"]["python_empty"], 1),
        "node_lib": round(results["import_ms"]["node_lib"] - results["import_ms"]["node_empty"], 1),
    }
    return results


def render(r: dict[str, Any]) -> str:
    tls = r["tls"]
    lines = [
        "| peer | creates/s HTTP | HTTPS | CPU µs/create HTTP | HTTPS | p50 ms HTTP | HTTPS | p99 ms HTTP | HTTPS "
        "| TLS handshakes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for peer in PEERS:
        lat, tlat = r["latency_ms"][peer], tls["latency_ms"][peer]
        lines.append(
            f"| {peer} | {r['bulk_create_per_s'][peer]:.0f} | {tls['bulk_create_per_s'][peer]:.0f} "
            f"| {r['cpu_us_per_create'][peer]:.0f} | {tls['cpu_us_per_create'][peer]:.0f} "
            f"| {lat['p50']:.2f} | {tlat['p50']:.2f} | {lat['p99']:.2f} | {tlat['p99']:.2f} "
            f"| {r['handshakes']['per_run'][peer]:.0f} |"
        )
    lines += [
        "",
        "| library (same run) | vs strongest peer: throughput | CPU | vs raw reqwest: CPU (target) HTTP | HTTPS |",
        "|---|---:|---:|---:|---:|",
    ]
    for library in LIBRARIES:
        c, t = r["cpu_comparison"]["http"][library], r["cpu_comparison"]["https"][library]
        peer = r["cpu_comparison"]["http"]["strongest_peer"][library.split("_")[0]]
        lines.append(
            f"| {library} (vs {peer}) | {c['throughput_vs_strongest_peer']}× | {c['cpu_vs_strongest_peer']}× "
            f"| {c['cpu_vs_raw']}× (≤ {c['cpu_vs_raw_target']}) | {t['cpu_vs_raw']}× |"
        )
    http, https = r["cpu_comparison"]["http"], r["cpu_comparison"]["https"]
    lines += [
        "",
        "| rust_hyper_current_thread (the least a client over hyper costs): CPU vs strongest peer | HTTP | HTTPS |",
        "|---|---:|---:|",
    ]
    for language, ratio in http["hyper_floor_cpu_vs_strongest_peer"].items():
        peers = " \\| ".join(dict.fromkeys(c["strongest_peer"][language] for c in (http, https)))
        lines.append(
            f"| {language} (vs {peers}) | {ratio}× | {https['hyper_floor_cpu_vs_strongest_peer'][language]}× |"
        )
    threads, tls_threads = r.get("cpu_us_per_create_by_thread", {}), tls.get("cpu_us_per_create_by_thread", {})
    if threads:
        lines += [
            "",
            "| CPU µs per create, HTTP \\| HTTPS | main thread (JS, interpreter) | library threads | other |",
            "|---|---:|---:|---:|",
        ]
        for peer, t in threads.items():
            if peer in tls_threads:
                cells = (f"{t[part]:.0f} \\| {tls_threads[peer][part]:.0f}" for part in ("main", "runtime", "other"))
                lines.append(f"| {peer} | {' | '.join(cells)} |")
    lines += [
        "",
        "| one process per token | tokens/s |",
        "|---|---:|",
        *(f"| {k.replace('_', ' ')} | {v} |" for k, v in r["process_per_token_per_s"].items()),
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
        *(
            f"| memory growth per 10k creates, {k} (MB, first 10k) | {v} |"
            for k, v in r["memory_growth_mb_per_10k"].items()
        ),
        *(
            f"| memory growth per 10k, steady state over 100k, {k} (MB) | {v} |"
            for k, v in r.get("memory_growth_mb_per_10k_steady", {}).items()
        ),
        f"| rotate-all, batch vs loop of resets (tokens/s) | {r['rotate_all']['batch_per_s']:.0f} vs "
        f"{r['rotate_all']['loop_of_resets_per_s']:.0f} |",
        f"| emulator create + issue per s (raw reqwest) | {r['emulator_create_issue_per_s']:.0f} |",
    ]
    return "\n".join(lines)


def readme(r: dict[str, Any], table: str) -> str:
    return (
        "# Benchmarks\n\n"
        "`make bench` (release builds; under 10 minutes on 2 cores, builds included). Every peer makes the same "
        "two calls per token (create the object, issue its secret) with the same static admin token, against one "
        "emulator process on loopback, over HTTP and over HTTPS (the emulator's own CA, trusted by every peer), in "
        "five rounds with every peer and both transports interleaved. Throughput and latency are the peer's median "
        "over the rounds, CPU per create (the client process's user + system time over the bulk part, start-up "
        "excluded) the mean; the bulk part is 3,000 creates at concurrency 32 (1,000 for `fetch` and 300 for "
        "httpx, several times slower, so that each peer's bulk part lasts a second or more), timed after 2,000 "
        "untimed creates (as many as it times for a slow peer) that warm every peer up: a JIT-compiled peer's "
        "first creates cost several times its steady CPU (undici's first 1,000 about five times), and a "
        "long-lived process pays that once. Absolute numbers move with the machine's load; compare ratios from "
        "one run. For the Node and Python peers, CPU per create is also split by thread (each thread's "
        "/proc schedstat): the language's main thread, the library's own threads (`wayfinder-tokens`: tokio's, "
        "and Python's result courier), and the rest (V8's helper threads; the blocking client's 32 calling "
        "threads).\n\n"
        f"Machine: {r['cores']} cores. Commit: `{r['commit']}`. Date: {r['date']}.\n\n"
        "![creates/s and CPU per create, HTTP and HTTPS](chart.svg)\n\n"
        f"{table}\n\n"
        "Peers: `rust_raw` is a `reqwest` loop with no library logic (the floor), on tokio's multi-thread "
        "runtime like `rust_core`, the core crate; `rust_raw_current_thread` the same loop with every request "
        "on one thread, the shape a JavaScript client has, and `rust_hyper_current_thread` that loop through "
        "hyper's own pooled client, the layer under reqwest and so under this project: the least CPU a client "
        "over hyper spends per create "
        "(both references, not targets); "
        "`node_lib` the Node `Client`; `node_fetch` the built-in `fetch`; `node_undici` undici's `request` over a "
        "keep-alive `Pool`; `python_lib` the `AsyncClient`; `python_blocking` the blocking `Client` (32 threads "
        "taking the next token in turn for the bulk part, the shape of the async peers' 32 workers); "
        "`python_httpx` and `python_aiohttp` hand-written clients. TLS handshakes are "
        "counted by the emulator for one HTTPS run (warm-up and bulk at concurrency 32, then one by one). "
        "The emulator runs in its own process on the same 2 cores, so throughput is capped by it: "
        "where a library matches the raw loop, CPU per create is what tells the libraries apart. "
        "`make bench-memory` runs 100,000 creates per library for the steady-state memory figures, "
        "beside two Node baselines under the same 32 workers: "
        "`node_runtime` (no client, one event-loop turn per create) and `node_undici`; `node_lib-pinned` is "
        "`node_lib` with V8's young generation held at 1 MB (`--max-semi-space-size=1`). The raw figures are in "
        "`results.json`.\n"
    )


if __name__ == "__main__":
    sys.exit(main())
