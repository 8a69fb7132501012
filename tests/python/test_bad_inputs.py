"""tests/vectors/bad_inputs.json: every bad input is a typed error naming its
field; apart from the server answers, none reaches the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import wayfinder_tokens as wft
from support import ADMIN, load_vectors
from wayfinder_tokens import _native
from wayfinder_tokens.testing import Emulator

CASES: list[dict[str, Any]] = load_vectors("bad_inputs.json")["cases"]
CODES = {
    "VALIDATION": wft.ValidationError,
    "CONFIG": wft.ConfigError,
    "SERVER": wft.ServerError,
    "TRANSPORT": wft.TransportError,
    "RATE_LIMITED": wft.RateLimitedError,
    "PERMISSION_DENIED": wft.PermissionDeniedError,
}


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 40


def check(case: dict[str, Any], error: wft.WayfinderError) -> None:
    assert isinstance(error, CODES[case["error"]]), (case["case"], error)
    assert error.code == case["error"]
    if case.get("field"):
        assert error.field_errors[0][0] == case["field"], (case["case"], error.field_errors)
    if "status" in case:
        assert error.status == case["status"], (case["case"], error)
    if case.get("message_contains"):
        assert case["message_contains"] in str(error)
    if "server_field_errors" in case:
        assert [f._asdict() for f in error.field_errors] == case["server_field_errors"]


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] != "answer"], ids=lambda c: c["case"])
def test_client_side(case: dict[str, Any], client: wft.Client, emulator: Emulator, tmp_path: Path) -> None:
    args = case.get("args", {})
    if case["kind"] == "cli":
        config = tmp_path / "admin"
        wft.IssuedToken("admin", emulator.url, ADMIN, workspace="dev").write_config(config)
        argv = case["argv"] + (["--config", str(config)] if case["argv"] else [])
        code, _, err = _native.run_cli(argv)
        assert (code, bool(err)) == (case["exit"], True)
    else:
        with pytest.raises(wft.WayfinderError) as caught:
            if case["kind"] == "create":
                client.create_workspace_access_token(
                    args["name"],
                    workspace=args.get("workspace"),
                    description=args.get("description"),
                    expires_in=args.get("expires_in"),
                )
            elif case["kind"] == "assign_access_role":
                client.assign_access_role(
                    args["token"], args["role"], cluster=args.get("cluster"), namespace=args.get("namespace")
                )
            elif case["kind"] == "client":
                wft.Client(**case["options"])
            elif case["kind"] == "config":
                path = tmp_path / "config"
                path.write_text(case["file"])
                wft.Client(config_path=path)
            else:
                pytest.fail(f"unknown kind {case['kind']}")
        check(case, caught.value)
    assert emulator.stats()["total"] == 0, "a bad input reached the network"


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] == "answer"], ids=lambda c: c["case"])
def test_server_answers(case: dict[str, Any], emulator: Emulator) -> None:
    with wft.Client(server=emulator.url, token=ADMIN, workspace="dev", max_retries=1) as c:
        c.whoami()
        emulator.inject_fault("/resources", **case["fault"])
        with pytest.raises(wft.WayfinderError) as caught:
            c.list_workspace_access_tokens()
        check(case, caught.value)
