"""Where ``deliver=`` and ``IssuedToken.deliver()`` put a new secret, as typed objects.

Each is its SPEC string (``str(destination)``), the same the CLI's ``--deliver`` takes; the
library checks it, so a bad one raises ``ValidationError`` before anything is created or reset.
``{name}`` and ``{workspace}`` in a path are filled in per token::

    wf.rotate_workspace_access_tokens(expiring, deliver=[Vault("secret/ci/{workspace}/{name}")])
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Union

__all__ = ["AwsSecret", "Command", "Destination", "File", "GithubOrganization", "GithubRepository", "Vault"]


def _options(**options: str) -> str:
    given = "&".join(f"{key}={value}" for key, value in options.items() if value)
    return f"?{given}" if given else ""


@dataclass(frozen=True)
class GithubRepository:
    """A repository's Actions secrets (an environment's with `environment`): the secret as a
    sealed secret, the server and workspace as Actions variables. Needs `GITHUB_TOKEN` or
    `GH_TOKEN`; `GITHUB_API_URL` for GitHub Enterprise Server."""

    repository: str
    """``OWNER/REPO``."""
    environment: str | None = None
    prefix: str = ""
    """Put before each name: ``PROD_`` gives ``PROD_WAYFINDER_TOKEN``."""

    def __str__(self) -> str:
        environment = f"@{self.environment}" if self.environment is not None else ""
        return f"github:{self.repository}{environment}{_options(prefix=self.prefix)}"


@dataclass(frozen=True)
class GithubOrganization:
    """An organisation's Actions secrets and variables, read by its private repositories
    (`visibility="private"`), all of them, or the `repositories` listed."""

    organization: str
    visibility: Literal["private", "all", "selected"] = "private"
    repositories: Sequence[str] = field(default_factory=tuple)
    prefix: str = ""

    def __str__(self) -> str:
        listed = ",".join(self.repositories)
        visibility = "" if self.visibility == "private" and not listed else self.visibility
        options = _options(visibility=visibility, repositories=listed, prefix=self.prefix)
        return f"github-org:{self.organization}{options}"


@dataclass(frozen=True)
class Vault:
    """A Vault or OpenBao KV version 2 secret, ``MOUNT/PATH``, written with check-and-set.
    Needs `VAULT_ADDR` and `VAULT_TOKEN` (or `~/.vault-token`), or their `BAO_` twins."""

    path: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"vault:{self.path}{_options(prefix=self.prefix)}"


@dataclass(frozen=True)
class AwsSecret:
    """An AWS Secrets Manager secret (its name or ARN) holding the three values as JSON:
    created and tagged when missing, else a new version; credentials and region from the
    standard AWS chain (`region` overrides it); `AWS_ENDPOINT_URL` is honoured."""

    secret_id: str
    region: str | None = None
    prefix: str = ""

    def __str__(self) -> str:
        return f"aws:{self.secret_id}{_options(region=self.region or '', prefix=self.prefix)}"


@dataclass(frozen=True)
class Command:
    """A command that stores the secret, read from its standard input (never its arguments
    or environment); run without a shell, its exit status checked."""

    argv: Sequence[str]

    def __str__(self) -> str:
        return f"cmd:{shlex.join(self.argv)}"


@dataclass(frozen=True)
class File:
    """A private file (0600, written atomically): ``KEY=value`` lines, or a Kubernetes Secret
    manifest with `format="kubernetes"`."""

    path: str
    format: Literal["export", "kubernetes"] = "export"
    prefix: str = ""

    def __str__(self) -> str:
        kind = "" if self.format == "export" else self.format
        return f"file:{self.path}{_options(format=kind, prefix=self.prefix)}"


Destination = Union[GithubRepository, GithubOrganization, Vault, AwsSecret, Command, File]
