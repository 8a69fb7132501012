"""Helpers shared by the test modules."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import wayfinder_tokens as wft

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
ADMIN = "admin-canary-5e2b"
# The workspaces the suite uses (an emulator has only those it is given).
WORKSPACES = ["dev", "prod", "ops", "other", "mine", "latency"] + [f"ws{i}" for i in range(10)]


def cli_env(url: str, tmp_path: Path, workspace: str = "dev") -> dict[str, str]:
    """The environment of a CLI run against the emulator at `url` as its admin,
    with its own config path and nothing of the caller's WAYFINDER_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYFINDER_")}
    env.update(
        WAYFINDER_SERVER=url,
        WAYFINDER_TOKEN=ADMIN,
        WAYFINDER_WORKSPACE=workspace,
        WAYFINDER_CONFIG=str(tmp_path / "config"),
        # The recovery store of --deliver: never the user's own.
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    return env


def load_vectors(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


# "expiry" is "now + expires_in" to the second: two calls made a moment apart may straddle a
# second; tests that set one compare the two expiries themselves.
VOLATILE = {"uid", "creationTimestamp", "resourceVersion", "lastIssued", "name", "token", "created", "expiry"}


def normalized(value: Any) -> Any:
    """A result as a dict with names, times and secrets left out, so results
    of the same operation on different tokens compare equal."""
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items() if k not in VOLATILE}
    return value


def assert_agree(sync_result: Any, async_result: Any) -> None:
    """The blocking and async clients gave the same kind of result."""
    assert type(sync_result) is type(async_result)
    assert normalized(sync_result) == normalized(async_result)


async def calls_with_some_cancelled(url: str, prefix: str) -> list[str]:
    """40 creates in flight with every tenth cancelled, then one call alone in flight."""
    async with wft.AsyncClient(server=url, token=ADMIN, workspace="dev", timeout=10) as client:
        calls = [asyncio.ensure_future(client.create_workspace_access_token(f"{prefix}{i}")) for i in range(40)]
        for call in calls[::10]:
            call.cancel()
        done = await asyncio.gather(*calls, return_exceptions=True)
        await client.whoami()
        return [r.name for r in done if isinstance(r, wft.IssuedToken)]


def assert_all_landed(names: list[str], prefix: str) -> None:
    # The 4 cancelled may or may not have finished first.
    assert len(names) >= 36 and all(n.startswith(prefix) for n in names), names
