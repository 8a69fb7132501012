"""Config files: written by the library, loaded by new clients; the
WAYFINDER_* variables."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import wayfinder_tokens as wft
from support import ADMIN
from wayfinder_tokens.testing import Emulator


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_config_is_loaded_by_a_new_client(client: wft.Client, tmp_path: Path) -> None:
    issued = client.create_workspace_access_token("ci-deploy", description="d")
    standalone = tmp_path / "ci-deploy.config"
    issued.write_config(standalone)
    assert mode(standalone) == 0o600
    with wft.Client(config_path=standalone) as c:
        assert c.workspace == "dev"
        assert c.whoami().subject_kind == "WorkspaceAccessToken"

    shared = tmp_path / "wf" / "config"
    shared.parent.mkdir()
    shared.write_text("current-profile: other\nprofiles: {other: {server: s, user: u}}\nunknown: kept\n")
    saved = issued.save_profile(shared)
    assert Path(saved) == shared
    assert mode(shared) == 0o600
    text = shared.read_text()
    assert "unknown: kept" in text and "current-profile: other" in text
    with wft.Client(config_path=shared, profile="ci-deploy") as c:
        assert c.whoami().workspaces == ["dev"]
    issued.save_profile(shared, profile="renamed", make_current=True)
    with wft.Client.from_env(config_path=shared) as c:
        assert c.workspace == "dev"


def test_dry_runs_cannot_be_saved(client: wft.Client, tmp_path: Path) -> None:
    dry = client.create_workspace_access_token("dry", dry_run=True)
    with pytest.raises(wft.ValidationError):
        dry.write_config(tmp_path / "x")
    with pytest.raises(wft.ValidationError):
        dry.to_env()


async def test_environment_variables(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WAYFINDER_CONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("WAYFINDER_SERVER", emulator.url)
    monkeypatch.setenv("WAYFINDER_TOKEN", ADMIN)
    monkeypatch.setenv("WAYFINDER_WORKSPACE", "prod")
    async with wft.AsyncClient.from_env() as c:
        assert c.workspace == "prod"
        assert (await c.create_workspace_access_token("from-env")).workspace == "prod"
    assert not (tmp_path / "absent").exists(), "the ephemeral config is never written"
    monkeypatch.delenv("WAYFINDER_TOKEN")
    with pytest.raises(wft.ConfigError):
        wft.Client.from_env()


def test_default_config_path_is_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, client: wft.Client) -> None:
    monkeypatch.delenv("WAYFINDER_CONFIG", raising=False)
    monkeypatch.delenv("WAYFINDER_SERVER", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    issued = client.create_workspace_access_token("home")
    path = Path(issued.save_profile())
    assert path == tmp_path / ".wayfinder" / "config"
    assert mode(path.parent) == 0o700
    with wft.Client() as c:
        assert c.server == client.server
    assert os.environ["HOME"] == str(tmp_path)


def test_a_config_the_vendor_client_wrote_loads_as_it_is(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """tests/vectors/wfclient-config.yaml: its lower-case `apiinfo` cache is used (no request to
    /apiinfo), its 0640 mode draws no warning, and a save leaves one `apiinfo` key."""
    import logging

    from support import VECTORS

    text = (VECTORS / "wfclient-config.yaml").read_text(encoding="utf-8")
    path = tmp_path / "config"
    path.write_text(text.replace("SERVER", emulator.url).replace("TOKEN", ADMIN), encoding="utf-8")
    path.chmod(0o640)
    caplog.set_level(logging.WARNING, logger="wayfinder_tokens")
    wft._native._reset_log_cache()
    client = wft.Client(config_path=path)
    assert client.whoami().username == "admin"
    issued = client.create_workspace_access_token("from-vendor-config")
    assert "GET /apiinfo" not in emulator.stats()["requests"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    issued.save_profile(config_path=path, profile="saved")
    saved = path.read_text(encoding="utf-8")
    assert saved.count("apiinfo:") == 1 and "apiInfo" not in saved, saved
    assert "nonresourceapi: /api/v2" in saved
    assert wft.Client(config_path=path, profile="saved").whoami().subject_kind == "WorkspaceAccessToken"
