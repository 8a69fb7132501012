"""Every operation, through both clients, against the embedded emulator."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

import wayfinder_tokens as wft
from support import ADMIN, assert_agree
from wayfinder_tokens.testing import Emulator


async def test_workspace_operations_agree(client: wft.Client, aclient: wft.AsyncClient, emulator: Emulator) -> None:
    s = client.create_workspace_access_token("sync-tok", description="d", expires_in=timedelta(days=30))
    a = await aclient.create_workspace_access_token("async-tok", description="d", expires_in=30 * 86400)
    assert_agree(s, a)
    assert isinstance(s, wft.IssuedToken)
    assert (s.name, s.workspace, s.server, s.description) == ("sync-tok", "dev", emulator.url, "d")
    assert s.token and a.token and s.token != a.token
    assert s.expires is not None and s.resource.expiry is not None
    assert a.expires is not None and a.resource.expiry is not None
    # Both 30 days out, set a moment apart (normalized() leaves expiry out for that reason).
    assert 0 <= a.expires - s.expires <= 5
    assert abs(s.expires - (time.time() + 30 * 86400)) <= 60
    assert not s.dry_run

    assert_agree(
        client.reset_workspace_access_token("sync-tok"), await aclient.reset_workspace_access_token("async-tok")
    )
    got_s = client.get_workspace_access_token("sync-tok")
    got_a = await aclient.get_workspace_access_token("async-tok")
    assert_agree(got_s, got_a)
    assert got_s.generation == 2 and got_s.workspace == "dev" and got_s.kind == "WorkspaceAccessToken"

    listed_s = client.list_workspace_access_tokens()
    listed_a = await aclient.list_workspace_access_tokens()
    assert [t.name for t in listed_s] == [t.name for t in listed_a] == ["async-tok", "sync-tok"]
    assert client.list_workspace_access_tokens(workspace="prod") == []

    roles_s = client.assign_access_role("sync-tok", "cluster.deployer", cluster="c1", namespace="apps")
    roles_a = await aclient.assign_access_role("async-tok", "cluster.deployer", cluster="c1", namespace="apps")
    assert_agree(roles_s, roles_a)
    assert roles_s.access_roles[0].cluster == "c1"
    roles_s = client.assign_wayfinder_role("sync-tok", "workspace.accesstokenmanager")
    roles_a = await aclient.assign_wayfinder_role("async-tok", "workspace.accesstokenmanager")
    assert_agree(roles_s, roles_a)
    assert roles_s.wayfinder_roles == ["workspace.accesstokenmanager"]
    assert_agree(
        client.get_workspace_access_token_roles("sync-tok"), await aclient.get_workspace_access_token_roles("async-tok")
    )

    assert_agree(client.whoami(), await aclient.whoami())
    assert_agree(
        client.delete_workspace_access_token("sync-tok"), await aclient.delete_workspace_access_token("async-tok")
    )
    assert client.list_workspace_access_tokens() == []


async def test_platform_operations_agree(client: wft.Client, aclient: wft.AsyncClient) -> None:
    s = client.create_platform_access_token("p-sync", description="p")
    a = await aclient.create_platform_access_token("p-async", description="p")
    assert_agree(s, a)
    assert s.workspace is None and s.resource.workspace is None
    assert_agree(client.reset_platform_access_token("p-sync"), await aclient.reset_platform_access_token("p-async"))
    assert_agree(client.get_platform_access_token("p-sync"), await aclient.get_platform_access_token("p-async"))
    assert len(client.list_platform_access_tokens()) == len(await aclient.list_platform_access_tokens()) == 2
    assert_agree(
        client.assign_platform_access_role("p-sync", "cluster.viewer", cluster="c1"),
        await aclient.assign_platform_access_role("p-async", "cluster.viewer", cluster="c1"),
    )
    assert_agree(
        client.assign_platform_wayfinder_role("p-sync", "platform.accesstokenmanager"),
        await aclient.assign_platform_wayfinder_role("p-async", "platform.accesstokenmanager"),
    )
    assert_agree(
        client.get_platform_access_token_roles("p-sync"), await aclient.get_platform_access_token_roles("p-async")
    )
    assert_agree(client.delete_platform_access_token("p-sync"), await aclient.delete_platform_access_token("p-async"))


def test_reset_token_and_dry_run(client: wft.Client, emulator: Emulator) -> None:
    first = client.create_workspace_access_token("ci", description="kept")
    second = client.create_workspace_access_token("ci", reset_token=True)
    assert second.token != first.token
    assert second.description == "kept"
    dry = client.create_workspace_access_token("dry", dry_run=True)
    assert dry.dry_run and dry.token is None
    assert dry.resource.name == "dry"
    assert [t.name for t in client.list_workspace_access_tokens()] == ["ci"]


def test_issued_secrets_work_and_resets_revoke_them(client: wft.Client, emulator: Emulator) -> None:
    issued = client.create_workspace_access_token("pipeline")
    with wft.Client(server=emulator.url, token=issued.token, workspace="dev") as pipeline:
        me = pipeline.whoami()
        assert me.subject_kind == "WorkspaceAccessToken" and me.workspaces == ["dev"]
        client.reset_workspace_access_token("pipeline")
        with pytest.raises(wft.AuthenticationError) as err:
            pipeline.whoami()
        assert err.value.status == 401


async def test_five_hundred_concurrent_creates(aclient: wft.AsyncClient, emulator: Emulator) -> None:
    results = await asyncio.gather(
        *(aclient.create_workspace_access_token(f"t{i}", workspace=f"ws{i % 10}") for i in range(500))
    )
    assert len({r.token for r in results}) == 500
    stats = emulator.stats()["requests"]
    assert sum(v for k, v in stats.items() if k.startswith("POST ") and k.endswith("/token")) == 500
    assert stats["GET /apiinfo"] == 1


async def test_blocking_client_inside_a_running_loop(emulator: Emulator) -> None:
    # As in a notebook cell: the loop is running and the blocking client is called directly.
    with wft.Client(server=emulator.url, token=ADMIN, workspace="dev") as c:
        assert c.create_workspace_access_token("in-loop").token
        assert c.whoami().username == "admin"


def test_closed_clients_raise(emulator: Emulator) -> None:
    c = wft.Client(server=emulator.url, token=ADMIN, workspace="dev")
    c.close()
    with pytest.raises(wft.ValidationError, match="closed"):
        c.whoami()
    assert "closed" in repr(c)


def test_users_log_in_with_refresh_tokens(emulator: Emulator) -> None:
    import json
    import urllib.request

    body = json.dumps({"username": "alice", "password": "wonderland"}).encode()
    request = urllib.request.Request(f"{emulator.url}/api/v2/login", data=body, method="POST")
    with urllib.request.urlopen(request) as answer:
        refresh = json.load(answer)["refresh-token"]
    with wft.Client(server=emulator.url, token=refresh, workspace="prod") as alice:
        assert alice.whoami().username == "alice"
        alice.create_workspace_access_token("mine")
        with pytest.raises(wft.PermissionDeniedError):
            alice.create_workspace_access_token("theirs", workspace="ops")
