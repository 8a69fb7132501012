"""The shared cases in tests/vectors, rendered identically to the Rust core."""

from __future__ import annotations

from typing import Any, Callable

import pytest

import wayfinder_tokens as wft
from support import load_vectors

RENDER = load_vectors("render.json")
NAMES = load_vectors("names.json")

FORMATS: dict[str, Callable[[wft.IssuedToken], str]] = {
    "env": wft.IssuedToken.to_env,
    "export": wft.IssuedToken.to_export,
    "shell": wft.IssuedToken.to_shell,
    "config": wft.IssuedToken.to_config_yaml,
    "json": wft.IssuedToken.to_json,
    "yaml": wft.IssuedToken.to_yaml,
    "token": lambda t: f"{t.token}\n",
}


def issued(data: dict[str, Any]) -> wft.IssuedToken:
    return wft.IssuedToken(
        data["name"], data["server"], data["token"], workspace=data["workspace"], description=data["description"]
    )


@pytest.mark.parametrize("case", RENDER["issued"], ids=lambda c: c["case"])
def test_rendered_outputs(case: dict[str, Any]) -> None:
    token = issued(case["input"])
    assert set(FORMATS) == set(case["expected"])
    for name, render in FORMATS.items():
        assert render(token) == case["expected"][name], name


@pytest.mark.parametrize("case", RENDER["issued_errors"], ids=lambda c: c["case"])
def test_render_errors(case: dict[str, Any]) -> None:
    token = issued(case["input"])
    with pytest.raises(wft.ValidationError) as err:
        FORMATS[case["format"]](token)
    assert err.value.field_errors[0][0] == case["field"]


@pytest.mark.parametrize("case", RENDER["tables"], ids=lambda c: c["case"])
def test_tables(case: dict[str, Any]) -> None:
    tokens = [wft.AccessToken.from_dict(obj) for obj in case["input"]]
    assert wft.render_table(tokens) == case["expected"]["headers"]
    assert wft.render_table(tokens, headers=False) == case["expected"]["no_headers"]
    for token, obj in zip(tokens, case["input"]):
        assert token.to_dict() == obj


@pytest.mark.parametrize("case", NAMES["cases"], ids=lambda c: f"{c['rule']}:{c['value'][:20]!r}")
def test_name_rules(case: dict[str, Any], client: wft.Client) -> None:
    rule, value, error = case["rule"], case["value"], case["error"]
    calls: dict[str, Callable[[], object]] = {
        "name": lambda: client.create_workspace_access_token(value, dry_run=True),
        "workspace": lambda: client.list_workspace_access_tokens(workspace=value),
        "description": lambda: client.create_workspace_access_token("d", description=value, dry_run=True),
        "role": lambda: client.assign_wayfinder_role("missing-token", value),
    }
    if error is None:
        # A valid value passes the client's checks and reaches the server, which
        # knows no such token or workspace (404) or no such role (400).
        try:
            calls[rule]()
        except wft.NotFoundError:
            pass
        except wft.ValidationError as e:
            assert e.status == 400, "the server's answer, not the client's check"
        return
    with pytest.raises(wft.ValidationError) as err:
        calls[rule]()
    assert err.value.field_errors[0][0] == rule
    assert err.value.status is None
