"""A canary token never shows in repr, str, exception text or log records."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import wayfinder_tokens as wft
from support import ADMIN
from wayfinder_tokens.testing import Emulator


def test_canary_never_leaks(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wayfinder_tokens")
    canaries = [ADMIN]
    texts: list[str] = []
    with wft.Client(server=emulator.url, token=ADMIN, workspace="dev", max_retries=1) as c:
        issued = c.create_workspace_access_token("canary", description="d")
        assert issued.token
        canaries.append(issued.token)
        texts += [repr(issued), str(issued), issued._repr_html_(), repr(c), repr(emulator), repr(issued.resource)]
        texts += [repr(c.list_workspace_access_tokens()), repr(c.whoami()), str(issued.to_dict().keys())]
        with wft.Client(server=emulator.url, token=issued.token, workspace="dev") as pipeline:
            pipeline.whoami()
            texts.append(repr(pipeline))
            c.reset_workspace_access_token("canary")
            for call in (pipeline.whoami, lambda: c.create_workspace_access_token("canary")):
                with pytest.raises(wft.WayfinderError) as err:
                    call()
                texts += [str(err.value), repr(err.value)]
        for fault in ({"status": 500}, {"malformed_body": True}, {"drop_connection": True, "times": 5}):
            emulator.clear_faults()
            emulator.inject_fault("/", **fault)
            with pytest.raises(wft.WayfinderError) as err:
                c.list_workspace_access_tokens()
            texts += [str(err.value), repr(err.value)]
    emulator.clear_faults()
    records = [r.getMessage() for r in caplog.records]
    assert any("attempt" in m and "/token" in m for m in records), records
    assert all(r.name.startswith("wayfinder_tokens") for r in caplog.records)
    for canary in canaries:
        for text in texts + records:
            assert canary not in text, text


def test_debug_logs_show_method_path_status_and_attempt(client: wft.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wayfinder_tokens")
    with wft.Client(server=client.server, token=ADMIN, workspace="dev") as c:
        c.whoami()
    assert any(m.getMessage() == "GET /api/v2/whoami -> 200 (attempt 1)" for m in caplog.records), [
        m.getMessage() for m in caplog.records
    ]


def test_group_readable_config_draws_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "config"
    path.write_text(
        "current-profile: a\n"
        "profiles: {a: {server: s, user: u}}\n"
        "servers: {s: {server: 'https://x.example.com'}}\n"
        "users: {u: {token: t}}\n"
    )
    path.chmod(0o644)
    caplog.set_level(logging.WARNING, logger="wayfinder_tokens")
    wft.Client(config_path=path).close()
    assert any("chmod 600" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
