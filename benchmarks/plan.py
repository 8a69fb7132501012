"""Tokens as code at fleet scale: plan over 2,000 tokens in 50 workspaces, each delivered to
OpenBao (KV v2) and the emulator's GitHub Actions routes, then an apply with nothing to do.

The emulator and OpenBao run in their own processes. Reported: the first apply (creating and
delivering everything), the plan's wall time and requests per token (counted by the planner and
by the emulator), and the second apply's writes: none on the emulator (Wayfinder and GitHub)
and no new version at any Vault path. The target is a plan under 3 s on a 2-core machine.
Written to benchmarks/plan-results.json; with --smoke, 100 tokens in 5 workspaces on whatever
build is installed, nothing written.

    python benchmarks/plan.py [--smoke] [--tokens 2000] [--workspaces 50]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
sys.path.insert(0, str(HERE))

import run  # noqa: E402  (the benchmark harness: its build and its emulator process)
from deliver import BAO_TOKEN, OpenBao  # noqa: E402

TARGET_PLAN_S = 3.0


def spec_text(tokens: int, workspaces: int, run_id: str) -> str:
    lines = ["apiVersion: wayfinder-tokens/v1", "tokens:"]
    for i in range(tokens):
        lines += [
            f"  - name: svc-{i}",
            f"    workspace: p{i % workspaces}",
            "    roles: {wayfinder: [workspace.viewer]}",
            f"    deliver: ['vault:secret/{run_id}/{{workspace}}/{{name}}', 'github:acme/{{workspace}}@{{name}}']",
            "    rotate: {maxAge: 30d}",
        ]
    return "\n".join(lines) + "\n"


def vault_versions(bao: OpenBao, run_id: str, workspaces: int) -> dict[str, int]:
    """Every path's current version, listed workspace by workspace."""
    versions: dict[str, int] = {}
    headers = {"x-vault-token": BAO_TOKEN}
    with httpx.Client(base_url=bao.url, headers=headers, timeout=30) as http:
        for w in range(workspaces):
            listed = http.request("LIST", f"/v1/secret/metadata/{run_id}/p{w}").json()
            for name in listed.get("data", {}).get("keys", []):
                meta = http.get(f"/v1/secret/metadata/{run_id}/p{w}/{name}").json()
                versions[f"p{w}/{name}"] = meta["data"]["current_version"]
    return versions


def measure(tokens: int, workspaces: int, profile: str) -> dict[str, Any]:
    import wayfinder_tokens as wft

    results: dict[str, Any] = {"tokens": tokens, "workspaces": workspaces, "destinations_per_token": 2}
    run_id = f"plan{time.time_ns() % 10**9}"
    with tempfile.TemporaryDirectory() as scratch:
        names = [f"p{w}" for w in range(workspaces)]
        binary = run.target_dir(profile) / "wayfinder-emulator"
        emulator = run.Emulator(binary, tls=False, scratch=Path(scratch), workspaces=names)
        bao = OpenBao()
        os.environ.update(
            GITHUB_API_URL=f"{emulator.url}/github",
            GITHUB_TOKEN=emulator.token,
            VAULT_ADDR=bao.url,
            VAULT_TOKEN=BAO_TOKEN,
            XDG_STATE_HOME=str(Path(scratch) / "state"),
        )
        spec_path = Path(scratch) / "tokens.yaml"
        spec_path.write_text(spec_text(tokens, workspaces, run_id))
        try:
            with wft.Client(server=emulator.url, token=emulator.token, timeout=30) as client:
                spec = wft.load_spec(spec_path)
                started = time.perf_counter()
                first = client.apply(spec)
                results["first_apply_s"] = time.perf_counter() - started
                first.raise_for_failure()
                before = vault_versions(bao, run_id, workspaces)
                assert len(before) == tokens, len(before)

                emulator.reset_stats()
                started, cpu = time.perf_counter(), time.process_time()
                plan = client.plan(spec)
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu
                served = sum(emulator.requests().values())
                assert not plan.has_changes, plan.lines()[:5]
                counted = plan.requests
                results["plan"] = {
                    "wall_s": wall,
                    "cpu_s": cpu,
                    "under_target": wall < TARGET_PLAN_S,
                    "requests": counted,
                    "requests_per_token": (counted["wayfinder"] + counted["destinations"]) / tokens,
                    "emulator_requests_per_token": served / tokens,
                }

                emulator.reset_stats()
                second = client.apply(spec)
                writes = {k: v for k, v in emulator.requests().items() if not k.startswith("GET ")}
                after = vault_versions(bao, run_id, workspaces)
                results["second_apply"] = {
                    "changes": len(second),
                    "emulator_writes": sum(writes.values()),
                    "vault_new_versions": sum(1 for k, v in after.items() if before.get(k) != v),
                }
                assert len(second) == 0 and not writes and after == before
        finally:
            bao.stop()
            emulator.stop()
    return results


def render(results: dict[str, Any]) -> str:
    plan = results["plan"]
    second = results["second_apply"]
    return "\n".join(
        [
            f"plan: {results['tokens']} tokens in {results['workspaces']} workspaces, "
            f"{results['destinations_per_token']} destinations each (OpenBao, GitHub routes)",
            f"first apply (create, grant, deliver everything): {results['first_apply_s']:.1f} s",
            f"plan: {plan['wall_s']:.2f} s wall (target < {TARGET_PLAN_S:.0f} s), {plan['cpu_s']:.2f} s CPU here; "
            f"{plan['requests_per_token']:.2f} requests per token "
            f"({plan['requests']['wayfinder']} to Wayfinder, {plan['requests']['destinations']} to destinations; "
            f"the emulator served {plan['emulator_requests_per_token']:.2f} per token)",
            f"apply with nothing to do: {second['changes']} changes, {second['emulator_writes']} writes to the "
            f"emulator (Wayfinder, GitHub), {second['vault_new_versions']} new Vault versions",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="100 tokens in 5 workspaces, debug build, nothing written")
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--workspaces", type=int, default=50)
    args = parser.parse_args()
    profile = "debug" if args.smoke else "release"
    run.build(release=not args.smoke)
    sys.path.insert(0, str(ROOT / "bindings-python" / "python"))
    tokens, workspaces = (100, 5) if args.smoke else (args.tokens, args.workspaces)
    results = measure(tokens, workspaces, profile)
    print(render(results))
    if not args.smoke:
        (HERE / "plan-results.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
