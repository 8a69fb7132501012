"""Delivery from Python: `deliver=` on create, reset and the fleet rotation, `IssuedToken.deliver()`
(blocking, or awaitable from the AsyncClient), typed destinations, `deliver_pending()`, and no
secret or credential in reprs or logs."""

from __future__ import annotations

import json
import logging
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import wayfinder_tokens as wft
from support import ADMIN
from wayfinder_tokens.destinations import AwsSecret, Command, File, GithubOrganization, GithubRepository, Vault
from wayfinder_tokens.testing import Emulator


@pytest.fixture
def delivering(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, openbao: tuple[str, str]) -> Path:
    """The process environment a delivery reads: the emulator's GitHub routes, OpenBao, and a
    recovery store under `tmp_path`."""
    monkeypatch.setenv("GITHUB_API_URL", f"{emulator.url}/github")
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    monkeypatch.setenv("VAULT_ADDR", openbao[0])
    monkeypatch.setenv("VAULT_TOKEN", openbao[1])
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


def github(emulator: Emulator) -> Any:
    request = urllib.request.Request(f"{emulator.url}/emulator/github", headers={"authorization": f"Bearer {ADMIN}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def works(emulator: Emulator, secret: str) -> None:
    with wft.Client(server=emulator.url, token=secret, timeout=10) as c:
        c.whoami()


def test_destinations_are_their_spec_strings() -> None:
    assert str(GithubRepository("acme/app")) == "github:acme/app"
    assert str(GithubRepository("acme/app", environment="prod", prefix="PROD_")) == "github:acme/app@prod?prefix=PROD_"
    assert str(GithubOrganization("acme")) == "github-org:acme"
    assert (
        str(GithubOrganization("acme", "selected", ["a", "b"]))
        == "github-org:acme?visibility=selected&repositories=a,b"
    )
    assert str(Vault("secret/ci/{name}")) == "vault:secret/ci/{name}"
    assert str(Command(["gh", "secret", "set", "A B"])) == "cmd:gh secret set 'A B'"
    assert str(AwsSecret("ci/app", region="eu-west-1", prefix="P_")) == "aws:ci/app?region=eu-west-1&prefix=P_"
    assert str(File("out.yaml", format="kubernetes")) == "file:out.yaml?format=kubernetes"


def test_create_delivers_and_reports(client: wft.Client, emulator: Emulator, delivering: Path) -> None:
    issued = client.create_workspace_access_token(
        "app",
        deliver=[GithubRepository("acme/app"), "vault:secret/py/{workspace}/{name}", File(str(delivering / "app.env"))],
    )
    report = issued.delivery
    assert report is not None and report.ok, report
    assert report.delivered == ["github:acme/app", "vault:secret/py/dev/app", f"file:{delivering}/app.env"]
    assert [d for d, _ in report.verified][1] == "vault:secret/py/dev/app"
    assert report.failed == [] and report.recovery is None
    secret = issued.token
    assert secret is not None
    assert github(emulator)["secrets"]["repos/acme/app/actions/WAYFINDER_TOKEN"]["value"] == secret
    assert f"WAYFINDER_TOKEN={secret}" in (delivering / "app.env").read_text()
    assert secret not in repr(report) and secret not in repr(issued)
    works(emulator, secret)

    # Delivering again later, and a reset with delivery.
    again = issued.deliver("github:acme/other@staging")
    assert isinstance(again, wft.DeliveryReport) and again.ok
    reset = client.reset_workspace_access_token("app", deliver=GithubRepository("acme/app"))
    assert reset.delivery is not None and reset.delivery.ok
    assert github(emulator)["secrets"]["repos/acme/app/actions/WAYFINDER_TOKEN"]["value"] == reset.token


async def test_async_results_deliver_with_await(aclient: wft.AsyncClient, emulator: Emulator, delivering: Path) -> None:
    issued = await aclient.create_platform_access_token("bot", deliver=GithubOrganization("acme", "all"))
    assert issued.delivery is not None and issued.delivery.ok
    report = await issued.deliver([Vault("secret/py/platform/{name}")])
    assert report.ok and report.delivered == ["vault:secret/py/platform/bot"]
    with pytest.raises(wft.ValidationError) as e:
        await issued.deliver(["vault:secret/{workspace}/x"])
    assert "no workspace" in str(e.value)


def test_bad_destinations_raise_before_any_request(client: wft.Client, emulator: Emulator, delivering: Path) -> None:
    before = emulator.stats()["total"]
    for bad in ["s3:bucket", GithubRepository("not-a-repo"), Vault("secret/../x"), 42, [Command([])]]:
        with pytest.raises(wft.ValidationError) as e:
            client.create_workspace_access_token("never", deliver=bad)  # type: ignore[arg-type]
        assert e.value.field_errors[0].field == "deliver", e.value
    assert emulator.stats()["total"] == before


def test_a_failed_preflight_resets_nothing(
    client: wft.Client, emulator: Emulator, delivering: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = client.create_workspace_access_token("kept").token
    assert old is not None
    monkeypatch.delenv("GITHUB_TOKEN")
    with pytest.raises(wft.ConfigError) as e:
        client.reset_workspace_access_token("kept", deliver="github:acme/app")
    assert "GITHUB_TOKEN" in str(e.value)
    works(emulator, old)


def test_a_failed_delivery_waits_for_deliver_pending(client: wft.Client, emulator: Emulator, delivering: Path) -> None:
    emulator.inject_fault("/github/repos/acme/down/actions/secrets/WAYFINDER_TOKEN", status=503, times=100)
    issued = client.create_workspace_access_token("half", deliver=["github:acme/up", "github:acme/down"])
    report = issued.delivery
    assert report is not None and not report.ok
    assert report.delivered == ["github:acme/up"]
    [(where, error)] = report.failed
    assert where == "github:acme/down" and isinstance(error, wft.ServerError)
    with pytest.raises(wft.ServerError):
        report.raise_for_failure()
    assert report.recovery is not None and report.recovery.stat().st_mode & 0o777 == 0o600
    [waiting] = client.deliver_pending(list_only=True)
    assert (waiting.name, waiting.waiting_for, waiting.report) == ("half", ["github:acme/down"], None)
    emulator.clear_faults()
    [done] = client.deliver_pending()
    assert done.report is not None and done.report.ok and done.waiting_for == []
    assert client.deliver_pending(list_only=True) == []
    assert github(emulator)["secrets"]["repos/acme/down/actions/WAYFINDER_TOKEN"]["value"] == issued.token


def test_rotate_delivers_per_token(client: wft.Client, emulator: Emulator, delivering: Path) -> None:
    for name in ["a", "b", "c"]:
        client.create_workspace_access_token(name)
    tokens = [("dev", "a"), ("dev", "b"), ("dev", "c")]
    report = client.rotate_workspace_access_tokens(tokens, deliver="github:acme/{name}")
    assert report.ok and sorted(d.name for d in report.deliveries) == ["a", "b", "c"]
    state = github(emulator)["secrets"]
    for issued in report.rotated:
        assert state[f"repos/acme/{issued.name}/actions/WAYFINDER_TOKEN"]["value"] == issued.token

    chosen = client.rotate_workspace_access_tokens(
        tokens, deliver=lambda ws, name: [f"vault:secret/py/{ws}/{name}"] if name != "c" else []
    )
    assert sorted(d.name for d in chosen.deliveries) == ["a", "b"]
    mapped = client.rotate_workspace_access_tokens(tokens, deliver={"dev/b": [GithubRepository("acme/mapped")]})
    assert [d.delivered for d in mapped.deliveries] == [["github:acme/mapped"]]

    # One token's destination failing preflight stops the batch before any reset.
    with pytest.raises(wft.ValidationError):
        client.rotate_workspace_access_tokens(tokens, deliver=lambda ws, name: ["vault:secret/{nope}"])


def test_kubernetes_manifest(client: wft.Client) -> None:
    issued = client.create_workspace_access_token("k8s")
    manifest = issued.to_kubernetes_secret(prefix="APP_")
    assert "kind: Secret" in manifest and f"APP_WAYFINDER_TOKEN: {issued.token}" in manifest
    assert "wayfinder-tokens/token: k8s" in manifest


def test_logs_never_show_a_secret_or_credential(
    client: wft.Client, emulator: Emulator, delivering: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="wayfinder_tokens")
    emulator.inject_fault("/github/repos/acme/slow/actions/secrets/WAYFINDER_TOKEN", status=502, times=1)
    issued = client.create_workspace_access_token("logged", deliver=["github:acme/slow", "vault:secret/py/logged"])
    assert issued.delivery is not None and issued.delivery.ok
    text = caplog.text
    assert issued.token is not None and issued.token not in text
    assert ADMIN not in text
