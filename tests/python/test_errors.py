"""Every exception class, raised by a real server answer or a real bad input."""

from __future__ import annotations

import builtins
import socket
from pathlib import Path
from typing import Callable

import pytest

import wayfinder_tokens as wft
from support import ADMIN
from wayfinder_tokens.testing import Emulator

ALL = [
    wft.ConfigError,
    wft.ValidationError,
    wft.AuthenticationError,
    wft.PermissionDeniedError,
    wft.NotFoundError,
    wft.AlreadyExistsError,
    wft.RateLimitedError,
    wft.ServerError,
    wft.TransportError,
    wft.TimeoutError,
]


def test_hierarchy() -> None:
    for cls in ALL:
        assert issubclass(cls, wft.WayfinderError)
        assert cls.__module__ == "wayfinder_tokens"
        assert cls.__doc__
    assert issubclass(wft.TimeoutError, builtins.TimeoutError)
    assert issubclass(wft.WayfinderError, Exception)


def test_config_error(tmp_path: Path) -> None:
    with pytest.raises(wft.ConfigError) as err:
        wft.Client(config_path=tmp_path / "missing")
    assert str(tmp_path / "missing") in str(err.value)
    assert err.value.code == "CONFIG" and err.value.status is None
    bad = tmp_path / "bad"
    bad.write_text("profiles: [unclosed\n")
    with pytest.raises(wft.ConfigError, match="line"):
        wft.Client(config_path=bad)


def test_validation_errors_name_fields_before_any_request(client: wft.Client, emulator: Emulator) -> None:
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: client.create_workspace_access_token("Not_Valid"), "name"),
        (lambda: client.create_workspace_access_token("ok", workspace="BAD"), "workspace"),
        (lambda: client.create_workspace_access_token("ok", description="x" * 513), "description"),
        (lambda: client.create_workspace_access_token("ok", expires_in="soon"), "expires_in"),
        (lambda: client.create_workspace_access_token("ok", expires_in=-5), "expires_in"),
        (lambda: client.assign_access_role("ok", "BAD ROLE"), "role"),
        (lambda: client.assign_wayfinder_role("-bad", "a.b"), "token"),
    ]
    for call, field in cases:
        with pytest.raises(wft.ValidationError) as err:
            call()
        assert err.value.field_errors[0][0] == field, err.value.field_errors
        assert err.value.status is None
        assert err.value.code == "VALIDATION"
    with pytest.raises(wft.ValidationError) as err:
        wft.Client(server="http://wayfinder.example.com", token="t")
    assert err.value.field_errors[0][0] == "server"
    with pytest.raises(wft.ValidationError):
        wft.Client(server=emulator.url, token="t", timeout=-1)
    assert emulator.stats()["total"] == 0


def test_http_errors(client: wft.Client, emulator: Emulator) -> None:
    client.create_workspace_access_token("dup")
    with pytest.raises(wft.AlreadyExistsError) as exists:
        client.create_workspace_access_token("dup")
    assert exists.value.status == 409 and "reset_token" in str(exists.value)
    with pytest.raises(wft.NotFoundError) as missing:
        client.get_workspace_access_token("nope")
    assert missing.value.status == 404
    with (
        wft.Client(server=emulator.url, token="wrong", workspace="dev") as stranger,
        pytest.raises(wft.AuthenticationError) as unauth,
    ):
        stranger.whoami()
    assert unauth.value.status == 401
    emulator.inject_fault("/api/v2/whoami", status=403)
    with pytest.raises(wft.PermissionDeniedError) as denied:
        client.whoami()
    assert denied.value.status == 403


def test_server_rate_limited_transport_and_timeout(emulator: Emulator) -> None:
    with wft.Client(server=emulator.url, token=ADMIN, workspace="dev", max_retries=1, timeout=0.3) as c:
        c.whoami()
        emulator.inject_fault("/api/v2/whoami", status=429, times=5)
        with pytest.raises(wft.RateLimitedError) as limited:
            c.whoami()
        assert limited.value.status == 429
        emulator.clear_faults()
        emulator.inject_fault("/api/v2/whoami", status=500)
        with pytest.raises(wft.ServerError) as server:
            c.whoami()
        assert server.value.status == 500
        emulator.inject_fault("/api/v2/whoami", delay_ms=2000)
        with pytest.raises(wft.TimeoutError):
            c.whoami()
        with pytest.raises(builtins.TimeoutError):
            emulator.inject_fault("/api/v2/whoami", delay_ms=2000)
            c.whoami()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        wft.Client(server=f"http://127.0.0.1:{port}", token="t", max_retries=0) as c,
        pytest.raises(wft.TransportError) as transport,
    ):
        c.whoami()
    assert transport.value.status is None


def test_hints_and_fields_are_named_as_python_names_them(client: wft.Client) -> None:
    client.create_workspace_access_token("twice")
    with pytest.raises(wft.AlreadyExistsError) as caught:
        client.create_workspace_access_token("twice")
    assert 'use reset_token=True or reset_workspace_access_token("twice")' in str(caught.value)
    assert "resetToken" not in str(caught.value) and "--reset-token" not in str(caught.value)
    with pytest.raises(wft.ValidationError) as invalid:
        wft.Client(server="http://127.0.0.1:1", token="t", max_retries=1.5)  # type: ignore[arg-type]
    assert invalid.value.field_errors[0].field == "max_retries"
    assert str(invalid.value).startswith("max_retries must be a whole number")
    with pytest.raises(wft.ValidationError) as insecure:
        wft.Client(server="http://wayfinder.example.com", token="t")
    assert str(insecure.value).endswith("opt in to plain HTTP with allow_insecure_http")
