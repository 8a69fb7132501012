import builtins
import os
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, final

from typing_extensions import Self, TypeAlias

__all__ = [
    "__version__",
    "FieldError",
    "WayfinderError",
    "ConfigError",
    "ValidationError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "AlreadyExistsError",
    "RateLimitedError",
    "ServerError",
    "TransportError",
    "TimeoutError",
    "AsyncClient",
    "Client",
    "IssuedToken",
    "AccessToken",
    "AccessRole",
    "Roles",
    "WhoAmI",
    "Inventory",
    "InventoryEntry",
    "BatchReport",
    "RotationFailure",
    "Emulator",
    "render_table",
    "run_cli",
    "run_emulator",
    "cli_log_level",
    "_reset_log_cache",
    "_handoff",
]

__version__: str

_Path: TypeAlias = str | os.PathLike[str]
_Duration: TypeAlias = timedelta | int | float | str

class FieldError(NamedTuple):
    """A field that failed validation: the field, the rule's code, and a sentence."""

    field: str
    """The field, e.g. ``name``, ``workspace`` or ``metadata.name``."""
    code: str
    """The rule: ``required``, ``pattern``, ``maxLength``, ``invalid``…"""
    message: str
    """A sentence naming the field and the rule."""

class WayfinderError(Exception):
    status: int | None
    """The HTTP status of the answer behind the error, if there was one."""
    code: str | None
    """A stable code: CONFIG, VALIDATION, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND,
    ALREADY_EXISTS, RATE_LIMITED, SERVER, TRANSPORT or TIMEOUT."""
    field_errors: list[FieldError]
    """The fields that failed; filled for ValidationError."""

class ConfigError(WayfinderError): ...
class ValidationError(WayfinderError): ...
class AuthenticationError(WayfinderError): ...
class PermissionDeniedError(WayfinderError): ...
class NotFoundError(WayfinderError): ...
class AlreadyExistsError(WayfinderError): ...
class RateLimitedError(WayfinderError): ...
class ServerError(WayfinderError): ...
class TransportError(WayfinderError): ...
class TimeoutError(WayfinderError, builtins.TimeoutError): ...

@final
class AccessToken:
    @staticmethod
    def from_dict(data: dict[str, Any]) -> AccessToken: ...
    @property
    def name(self) -> str: ...
    @property
    def workspace(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def expiry(self) -> str | None: ...
    @property
    def created(self) -> str | None: ...
    @property
    def generation(self) -> int: ...
    @property
    def last_issued(self) -> str | None: ...
    @property
    def uid(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]: ...
    def _repr_html_(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class IssuedToken:
    def __new__(
        cls,
        name: str,
        server: str,
        token: str | None = None,
        *,
        workspace: str | None = None,
        description: str | None = None,
    ) -> Self: ...
    @property
    def name(self) -> str: ...
    @property
    def workspace(self) -> str | None: ...
    @property
    def server(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def token(self) -> str | None: ...
    @property
    def expires(self) -> int | None: ...
    @property
    def dry_run(self) -> bool: ...
    @property
    def resource(self) -> AccessToken: ...
    def to_env(self) -> str: ...
    def to_export(self) -> str: ...
    def to_shell(self) -> str:
        """``export KEY='value'`` lines, for ``eval "$(...)"`` in a shell."""
    def to_config(self) -> dict[str, Any]: ...
    def to_config_yaml(self) -> str: ...
    def to_json(self) -> str: ...
    def to_yaml(self) -> str: ...
    def to_github_actions(self) -> str: ...
    def export_to_github_actions(self, env_file: _Path | None = None) -> Path:
        """Print ``::add-mask::`` for the token on stdout and append the variables
        to the ``$GITHUB_ENV`` file (or ``env_file``), as ``@actions/core`` does.

        Raises ``ConfigError`` when ``$GITHUB_ENV`` is unset or stdout is that file.
        Returns the file written.
        """
    def to_dict(self, *, include_secret: bool = False) -> dict[str, Any]:
        """The fields of ``to_json`` as a dict, without the secret unless ``include_secret=True``."""
    def write_config(self, path: _Path) -> None: ...
    def save_profile(
        self, config_path: _Path | None = None, profile: str | None = None, make_current: bool = False
    ) -> Path: ...
    def _repr_html_(self) -> str: ...

@final
class AccessRole:
    @property
    def role(self) -> str: ...
    @property
    def cluster(self) -> str | None: ...
    @property
    def namespace(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Roles:
    @property
    def access_roles(self) -> list[AccessRole]: ...
    @property
    def wayfinder_roles(self) -> list[str]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class WhoAmI:
    @property
    def auth_method(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def workspaces(self) -> list[str]: ...
    @property
    def subject_kind(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class InventoryEntry:
    """One access token of an inventory: what ``get`` shows, plus its age, expiry and generation."""

    @property
    def workspace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def age_seconds(self) -> int:
        """Seconds since its current secret was issued."""
    @property
    def expiry(self) -> str | None:
        """When it expires (RFC 3339), or None."""
    @property
    def expires_in_seconds(self) -> int | None:
        """Seconds until it expires (negative: expired), or None."""
    @property
    def generation(self) -> int: ...
    @property
    def object(self) -> AccessToken:
        """The object as the server returned it."""
    def to_dict(self) -> dict[str, Any]:
        """A flat dict (an inventory never holds a secret)."""

@final
class Inventory:
    """The access tokens an inventory found: a sequence of ``InventoryEntry``, shown as a table in notebooks."""

    def __len__(self) -> int: ...
    def __getitem__(self, key: int, /) -> InventoryEntry: ...
    def __iter__(self) -> Iterator[InventoryEntry]: ...
    def to_records(self) -> list[dict[str, Any]]:
        """Flat dicts without any secret, for ``pandas.DataFrame(inventory.to_records())``."""
    def _repr_html_(self) -> str: ...

@final
class RotationFailure:
    """A token that did not rotate: why, whether its old secret still works, and how to recover."""

    @property
    def workspace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def error(self) -> WayfinderError:
        """The error, as the exception it would have raised."""
    @property
    def old_secret_valid(self) -> bool | None:
        """True: the old secret still works; False: it was replaced and the new one lost; None: unknown."""
    @property
    def recovery(self) -> str:
        """The exact call that gets the token a working secret."""

@final
class BatchReport:
    """What a batch rotation did; one token's failure never raises."""

    @property
    def rotated(self) -> list[IssuedToken]:
        """The tokens that got a new secret, with it."""
    @property
    def failed(self) -> list[RotationFailure]: ...
    @property
    def would_rotate(self) -> list[tuple[str, str]]:
        """Dry run: ``(workspace, name)`` of each token that would rotate."""
    @property
    def ok(self) -> bool:
        """True when nothing failed."""
    def write_env_dir(self, path: _Path) -> list[Path]:
        """One 0600 env file per new secret in ``path`` (created 0700); returns the files."""
    def to_jsonl(self) -> str:
        """One JSON object per token and line, the secret under ``token`` for rotated ones."""
    def to_records(self) -> list[dict[str, Any]]:
        """Flat dicts without any secret, for ``pandas.DataFrame(report.to_records())``."""
    def _repr_html_(self) -> str: ...

_Tokens: TypeAlias = Inventory | Iterable[InventoryEntry | tuple[str, str] | dict[str, str]]
_Progress: TypeAlias = Callable[[int, int, tuple[str, str]], object] | bool | None

@final
class AsyncClient:
    def __new__(
        cls,
        *,
        server: str | None = None,
        token: str | None = None,
        workspace: str | None = None,
        profile: str | None = None,
        config_path: _Path | None = None,
        timeout: _Duration | None = None,
        max_retries: int | None = None,
        ca_certificate: str | None = None,
        allow_insecure_http: bool = False,
        api_group_version: str | None = None,
    ) -> Self: ...
    @classmethod
    def from_env(cls, profile: str | None = None, config_path: _Path | None = None) -> AsyncClient: ...
    @property
    def server(self) -> str: ...
    @property
    def workspace(self) -> str | None: ...
    def create_workspace_access_token(
        self,
        name: str,
        *,
        workspace: str | None = None,
        description: str | None = None,
        expires_in: _Duration | None = None,
        reset_token: bool = False,
        dry_run: bool = False,
    ) -> Coroutine[Any, Any, IssuedToken]: ...
    def reset_workspace_access_token(
        self, name: str, *, workspace: str | None = None
    ) -> Coroutine[Any, Any, IssuedToken]: ...
    def get_workspace_access_token(
        self, name: str, *, workspace: str | None = None
    ) -> Coroutine[Any, Any, AccessToken]: ...
    def list_workspace_access_tokens(
        self, *, workspace: str | None = None
    ) -> Coroutine[Any, Any, list[AccessToken]]: ...
    def delete_workspace_access_token(
        self, name: str, *, workspace: str | None = None
    ) -> Coroutine[Any, Any, AccessToken]: ...
    def assign_access_role(
        self,
        token: str,
        role: str,
        *,
        cluster: str | None = None,
        namespace: str | None = None,
        workspace: str | None = None,
    ) -> Coroutine[Any, Any, Roles]: ...
    def assign_wayfinder_role(
        self, token: str, role: str, *, workspace: str | None = None
    ) -> Coroutine[Any, Any, Roles]: ...
    def get_workspace_access_token_roles(
        self, token: str, *, workspace: str | None = None
    ) -> Coroutine[Any, Any, Roles]: ...
    def create_platform_access_token(
        self,
        name: str,
        *,
        description: str | None = None,
        expires_in: _Duration | None = None,
        reset_token: bool = False,
        dry_run: bool = False,
    ) -> Coroutine[Any, Any, IssuedToken]: ...
    def reset_platform_access_token(self, name: str) -> Coroutine[Any, Any, IssuedToken]: ...
    def get_platform_access_token(self, name: str) -> Coroutine[Any, Any, AccessToken]: ...
    def list_platform_access_tokens(self) -> Coroutine[Any, Any, list[AccessToken]]: ...
    def delete_platform_access_token(self, name: str) -> Coroutine[Any, Any, AccessToken]: ...
    def assign_platform_access_role(
        self, token: str, role: str, *, cluster: str | None = None, namespace: str | None = None
    ) -> Coroutine[Any, Any, Roles]: ...
    def assign_platform_wayfinder_role(self, token: str, role: str) -> Coroutine[Any, Any, Roles]: ...
    def get_platform_access_token_roles(self, token: str) -> Coroutine[Any, Any, Roles]: ...
    def list_workspaces(self) -> Coroutine[Any, Any, list[str]]:
        """The workspaces the credentials can see, sorted."""
    def inventory(
        self,
        workspaces: list[str] | None = None,
        *,
        expiring_within: str | float | timedelta | None = None,
        older_than: str | float | timedelta | None = None,
        names: list[str] | None = None,
        concurrency: int | None = None,
    ) -> Coroutine[Any, Any, Inventory]:
        """Every workspace access token in ``workspaces`` (default: all visible), 16 lists at a time, filtered.

        Example: ``await wf.inventory(expiring_within="7d")``
        """
    def rotate_workspace_access_tokens(
        self, tokens: _Tokens, *, concurrency: int | None = None, progress: _Progress = None, dry_run: bool = False
    ) -> Coroutine[Any, Any, BatchReport]:
        """Resets each token's secret, 8 at a time; returns a ``BatchReport`` (one failure never raises).

        Example: ``report = await wf.rotate_workspace_access_tokens(await wf.inventory(older_than="90d"))``
        """
    def whoami(self) -> Coroutine[Any, Any, WhoAmI]: ...
    def aclose(self) -> Awaitable[None]: ...
    def __aenter__(self) -> Awaitable[AsyncClient]: ...
    def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Awaitable[None]: ...

@final
class Client:
    def __new__(
        cls,
        *,
        server: str | None = None,
        token: str | None = None,
        workspace: str | None = None,
        profile: str | None = None,
        config_path: _Path | None = None,
        timeout: _Duration | None = None,
        max_retries: int | None = None,
        ca_certificate: str | None = None,
        allow_insecure_http: bool = False,
        api_group_version: str | None = None,
    ) -> Self: ...
    @classmethod
    def from_env(cls, profile: str | None = None, config_path: _Path | None = None) -> Client: ...
    @property
    def server(self) -> str: ...
    @property
    def workspace(self) -> str | None: ...
    def create_workspace_access_token(
        self,
        name: str,
        *,
        workspace: str | None = None,
        description: str | None = None,
        expires_in: _Duration | None = None,
        reset_token: bool = False,
        dry_run: bool = False,
    ) -> IssuedToken: ...
    def reset_workspace_access_token(self, name: str, *, workspace: str | None = None) -> IssuedToken: ...
    def get_workspace_access_token(self, name: str, *, workspace: str | None = None) -> AccessToken: ...
    def list_workspace_access_tokens(self, *, workspace: str | None = None) -> list[AccessToken]: ...
    def delete_workspace_access_token(self, name: str, *, workspace: str | None = None) -> AccessToken: ...
    def assign_access_role(
        self,
        token: str,
        role: str,
        *,
        cluster: str | None = None,
        namespace: str | None = None,
        workspace: str | None = None,
    ) -> Roles: ...
    def assign_wayfinder_role(self, token: str, role: str, *, workspace: str | None = None) -> Roles: ...
    def get_workspace_access_token_roles(self, token: str, *, workspace: str | None = None) -> Roles: ...
    def create_platform_access_token(
        self,
        name: str,
        *,
        description: str | None = None,
        expires_in: _Duration | None = None,
        reset_token: bool = False,
        dry_run: bool = False,
    ) -> IssuedToken: ...
    def reset_platform_access_token(self, name: str) -> IssuedToken: ...
    def get_platform_access_token(self, name: str) -> AccessToken: ...
    def list_platform_access_tokens(self) -> list[AccessToken]: ...
    def delete_platform_access_token(self, name: str) -> AccessToken: ...
    def assign_platform_access_role(
        self, token: str, role: str, *, cluster: str | None = None, namespace: str | None = None
    ) -> Roles: ...
    def assign_platform_wayfinder_role(self, token: str, role: str) -> Roles: ...
    def get_platform_access_token_roles(self, token: str) -> Roles: ...
    def list_workspaces(self) -> list[str]:
        """The workspaces the credentials can see, sorted."""
    def inventory(
        self,
        workspaces: list[str] | None = None,
        *,
        expiring_within: str | float | timedelta | None = None,
        older_than: str | float | timedelta | None = None,
        names: list[str] | None = None,
        concurrency: int | None = None,
    ) -> Inventory:
        """Every workspace access token in ``workspaces`` (default: all visible), 16 lists at a time, filtered."""
    def rotate_workspace_access_tokens(
        self, tokens: _Tokens, *, concurrency: int | None = None, progress: _Progress = None, dry_run: bool = False
    ) -> BatchReport:
        """Resets each token's secret, 8 at a time; returns a ``BatchReport`` (one failure never raises)."""
    def whoami(self) -> WhoAmI: ...
    def close(self) -> None: ...
    def __enter__(self) -> Client: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

@final
class Emulator:
    def __new__(
        cls,
        admin_token: str | None = None,
        users: list[str] | None = None,
        data: _Path | None = None,
        *,
        api_group_version: str | None = None,
        workspaces: list[str] | None = None,
        known_roles: list[str] | None = None,
    ) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def admin_token(self) -> str: ...
    def inject_fault(
        self,
        path_prefix: str,
        *,
        status: int | None = None,
        times: int | None = None,
        retry_after_s: int | None = None,
        delay_ms: int | None = None,
        drop_connection: bool = False,
        drop_answer: bool = False,
        malformed_body: bool = False,
        body_bytes: int | None = None,
        body: str | None = None,
    ) -> None: ...
    def clear_faults(self) -> None: ...
    def stats(self) -> dict[str, Any]: ...
    def reset_stats(self) -> None: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Emulator: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def __aenter__(self) -> Awaitable[Emulator]: ...
    def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Awaitable[None]: ...

def render_table(tokens: list[AccessToken], headers: bool = True) -> str: ...
def run_cli(argv: list[str]) -> tuple[int, str, str]: ...
def cli_log_level(argv: list[str]) -> int: ...
def _reset_log_cache() -> None: ...
def run_emulator(argv: list[str]) -> int:
    """Runs the emulator command with ``argv`` until Ctrl-C or SIGTERM; returns the exit code."""

def _handoff(as_coroutine: bool) -> Awaitable[None]:
    """For the benchmarks: one asyncio/tokio round trip that does no work."""
