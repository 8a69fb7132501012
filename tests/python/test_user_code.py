"""Ordinary user code, typed as users write it: `make test-python` checks it
with mypy --strict and pyright, and these tests run it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import wayfinder_tokens as wft
from wayfinder_tokens.testing import Emulator


def names_of_workspaces(client: wft.Client) -> Iterator[str]:
    """A generator, as a user writes one: the library takes any iterable."""
    yield from (w for w in client.list_workspaces() if w in ("dev", "ops"))


def make_or_explain(client: wft.Client, name: str) -> str:
    try:
        return client.create_workspace_access_token(name).to_export()
    except wft.WayfinderError as e:
        if e.code == "ALREADY_EXISTS":  # a Literal: a typo here is a type error
            return f"exists; {e.hint}"
        raise


def oldest(client: wft.Client) -> wft.Inventory:
    inventory = client.inventory(names_of_workspaces(client), names=(n for n in ["a*", "b*"]))
    first_two: wft.Inventory = inventory[:2]
    return first_two


def table_of(tokens: list[wft.AccessToken]) -> str:
    return wft.render_table(t for t in tokens if t.generation >= 1)


async def async_code(client: wft.AsyncClient) -> list[str]:
    tokens = await client.list_workspace_access_tokens()
    return [t.name for t in tokens]


def test_user_code_runs(client: wft.Client, emulator: Emulator) -> None:
    for name in ("a1", "a2", "b1", "c1"):
        client.create_workspace_access_token(name)
    exported = make_or_explain(client, "fresh")
    assert "WAYFINDER_TOKEN=" in exported
    explained = make_or_explain(client, "fresh")
    assert explained.startswith("exists; To issue a new secret") and "reset_token=True" in explained
    two = oldest(client)
    assert isinstance(two, wft.Inventory) and len(two) == 2
    assert [e.name for e in two] == [e.name for e in client.inventory(["dev"], names=["a*", "b*"])][:2]
    assert table_of(client.list_workspace_access_tokens()).count("\n") == 6


async def test_async_user_code(aclient: wft.AsyncClient) -> None:
    await aclient.create_workspace_access_token("async-one")
    assert await async_code(aclient) == ["async-one"]


def test_a_lone_string_is_not_a_list_of_workspaces(client: wft.Client) -> None:
    with pytest.raises(wft.ValidationError) as caught:
        client.inventory("dev")  # a str is an Iterable[str]: refused at run time
    assert caught.value.field_errors[0].field == "workspaces"


def test_an_inventory_slices_as_a_list_does(client: wft.Client) -> None:
    for name in ("a", "b", "c", "d"):
        client.create_workspace_access_token(name)
    inventory = client.inventory(["dev"])
    names = [e.name for e in inventory]
    for piece in (slice(1, 3), slice(None, None, -1), slice(-2, None), slice(0, 4, 2), slice(5, 9)):
        sliced = inventory[piece]
        assert isinstance(sliced, wft.Inventory)
        assert [e.name for e in sliced] == names[piece]
    assert inventory[-1].name == names[-1]
    with pytest.raises(IndexError):
        inventory[4]


async def test_a_list_of_tokens_is_a_list_that_shows_as_a_table(aclient: wft.AsyncClient) -> None:
    issued = await aclient.create_workspace_access_token("listed", description="<b>not bold</b>")
    tokens = await aclient.list_workspace_access_tokens()
    assert isinstance(tokens, wft.AccessTokens) and isinstance(tokens, list)
    assert [t.name for t in tokens] == ["listed"] and tokens == [tokens[0]]
    html = tokens._repr_html_()  # pyright: ignore[reportPrivateUsage] (what Jupyter calls)
    assert html.startswith("<table><caption>1 access tokens</caption>")
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and "<b>" not in html
    assert issued.token is not None and issued.token not in html
