"""How results present themselves: HTML tables for notebooks, flat records for
pandas, and the progress bar of a rotation. Written in Python, beside the
package, so that the native module returns data and decides nothing about
looks; ``install`` attaches these to the native classes at import."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wayfinder_tokens._native import (
        AccessToken,
        ApplyReport,
        BatchReport,
        Inventory,
        InventoryEntry,
        IssuedToken,
        Plan,
    )

# The functions below become methods of the native classes, hence `self`.

# Expiring within this many seconds marks a row of an inventory's table.
SOON_SECONDS = 14 * 86_400
_DAY = 86_400


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _fields(caption: str, rows: list[tuple[str, str]]) -> str:
    body = "".join(f'<tr><th style="text-align:left">{k}</th><td>{_escape(v)}</td></tr>' for k, v in rows)
    return f"<table><caption>{_escape(caption)}</caption>{body}</table>"


def _rows(caption: str, header: list[str], rows: list[tuple[list[str], str | None]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = ""
    for cells, mark in rows:
        style = f' style="background:{mark}"' if mark else ""
        body += f"<tr{style}>" + "".join(f"<td>{_escape(c)}</td>" for c in cells) + "</tr>"
    return f"<table><caption>{_escape(caption)}</caption><tr>{head}</tr>{body}</table>"


def _days(seconds: int) -> str:
    return f"{seconds // _DAY}d"


class AccessTokens(list["AccessToken"]):
    """A list of access tokens (what the list calls return): a plain list
    that shows itself as a table in notebooks."""

    def _repr_html_(self) -> str:
        rows: list[tuple[list[str], str | None]] = [
            ([t.name, t.workspace or "-", t.description or "", t.created or "", t.expiry or "never"], None)
            for t in self
        ]
        return _rows(f"{len(self)} access tokens", ["name", "workspace", "description", "created", "expiry"], rows)


def access_token_html(self: AccessToken) -> str:
    """The object as a two-column table."""
    return _fields(
        f"{self.kind} {self.name}",
        [
            ("workspace", self.workspace or "-"),
            ("description", self.description or ""),
            ("created", self.created or ""),
            ("expiry", self.expiry or "never"),
            ("generation", str(self.generation)),
        ],
    )


def issued_token_html(self: IssuedToken) -> str:
    """The self token as a two-column table; the secret stays hidden."""
    return _fields(
        f"IssuedToken {self.name}",
        [
            ("workspace", self.workspace or "-"),
            ("server", self.server),
            ("description", self.description or ""),
            ("token", "•••••• (use .token)" if not self.dry_run else "none (dry run)"),
        ],
    )


def inventory_entry_record(self: InventoryEntry) -> dict[str, Any]:
    """A flat dict (no secret: an inventory never holds one)."""
    expires_in = self.expires_in_seconds
    return {
        "workspace": self.workspace,
        "name": self.name,
        "description": self.description,
        "age_days": self.age_seconds / _DAY,
        "expiry": self.expiry,
        "expires_in_days": None if expires_in is None else expires_in / _DAY,
        "generation": self.generation,
    }


def inventory_records(self: Inventory) -> list[dict[str, Any]]:
    """Flat dicts without any secret, for ``pandas.DataFrame(self.to_records())``."""
    return [inventory_entry_record(e) for e in self]


def inventory_html(self: Inventory) -> str:
    """One row a token; those expiring within 14 days marked."""
    rows: list[tuple[list[str], str | None]] = []
    for e in self:
        soon = e.expires_in_seconds is not None and e.expires_in_seconds <= SOON_SECONDS
        expires = "never" if e.expires_in_seconds is None else _days(e.expires_in_seconds)
        cells = [e.name, e.workspace, _days(e.age_seconds), expires, str(e.generation), "expiring soon" if soon else ""]
        rows.append((cells, "#fff3cd" if soon else None))
    header = ["name", "workspace", "age", "expires", "generation", "status"]
    return _rows(f"{len(self)} access tokens", header, rows)


def _report_rows(report: BatchReport) -> list[tuple[str, str, str, bool | None, str | None]]:
    # The core lines the tokens up (the Node package shows the same rows).
    rows: list[tuple[str, str, str, bool | None, str | None]] = report._rows()  # type: ignore[attr-defined]
    return rows


def report_records(self: BatchReport) -> list[dict[str, Any]]:
    """Flat dicts without any secret, for ``pandas.DataFrame(self.to_records())``."""
    keys = ("workspace", "name", "status", "old_secret_valid", "error")
    return [dict(zip(keys, row)) for row in _report_rows(self)]


def report_html(self: BatchReport) -> str:
    """One row a token; failures marked, with whether the old secret still works."""
    old_secret = {True: "old secret still valid", False: "old secret dead", None: ""}
    rows: list[tuple[list[str], str | None]] = [
        ([name, workspace, status, old_secret[old], error or ""], "#f8d7da" if status == "failed" else None)
        for workspace, name, status, old, error in _report_rows(self)
    ]
    caption = f"{len(self.rotated)} rotated, {len(self.failed)} failed"
    return _rows(caption, ["name", "workspace", "status", "old secret", "error"], rows)


_PLAN_MARKS = {"+": "#d1e7dd", "~": "#fff3cd", ">": "#cfe2ff", "-": "#e2e3e5", "!": "#f8d7da"}


def plan_records(self: Plan) -> list[dict[str, str]]:
    """Flat dicts (sign, action, subject, detail) without any secret, for pandas."""
    return [dict(zip(("sign", "action", "subject", "detail"), row)) for row in self._rows()]  # type: ignore[attr-defined]


def plan_html(self: Plan) -> str:
    """One row a change, then one a drift, coloured by what they do."""
    rows: list[tuple[list[str], str | None]] = [
        ([sign, action, subject, detail], _PLAN_MARKS.get(sign))
        for sign, action, subject, detail in self._rows()  # type: ignore[attr-defined]
    ]
    return _rows(self.summary, ["", "action", "token", "detail"], rows)


def apply_records(self: ApplyReport) -> list[dict[str, str | None]]:
    """Flat dicts (action, subject, done, error) without any secret, for pandas."""
    return [dict(zip(("action", "subject", "done", "error"), row)) for row in self._rows()]  # type: ignore[attr-defined]


def apply_html(self: ApplyReport) -> str:
    """One row a change; failures marked."""
    rows: list[tuple[list[str], str | None]] = [
        ([action, subject, done or "", error or ""], "#f8d7da" if error else None)
        for action, subject, done, error in self._rows()  # type: ignore[attr-defined]
    ]
    return _rows(self.lines()[-1], ["action", "token", "done", "error"], rows)


class ProgressBar:
    """What ``progress=True`` shows: a ``tqdm`` bar (a widget in Jupyter) when
    tqdm is installed, else a line on stderr rewritten in place."""

    def __init__(self, total: int) -> None:
        self._bar: Any = None
        try:
            tqdm = importlib.import_module("tqdm.auto").tqdm
        except ImportError:
            return
        self._bar = tqdm(total=total, desc="rotating")

    def __call__(self, done: int, total: int, item: tuple[str, str]) -> None:
        if self._bar is not None:
            self._bar.update(1)
        else:
            sys.stderr.write(f"\rrotating {done}/{total}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        else:
            sys.stderr.write("\n")


def install(native: Any) -> None:
    """Attaches the presentation to the native classes."""
    native.AccessToken._repr_html_ = access_token_html
    native.IssuedToken._repr_html_ = issued_token_html
    native.InventoryEntry.to_dict = inventory_entry_record
    native.Inventory.to_records = inventory_records
    native.Inventory._repr_html_ = inventory_html
    native.BatchReport.to_records = report_records
    native.BatchReport._repr_html_ = report_html
    native.Plan.to_records = plan_records
    native.Plan._repr_html_ = plan_html
    native.ApplyReport.to_records = apply_records
    native.ApplyReport._repr_html_ = apply_html
