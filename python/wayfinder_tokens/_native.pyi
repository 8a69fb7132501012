"""Type stubs of the native module. Import from ``wayfinder_tokens``."""

import builtins
import os
from datetime import timedelta
from types import TracebackType
from typing import Any, Awaitable, Optional, Union, final

from typing_extensions import Self

__all__ = [
    "__version__",
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
    "Emulator",
    "render_table",
    "run_cli",
    "cli_log_level",
    "_reset_log_cache",
]

__version__: str

_Path = Union[str, "os.PathLike[str]"]
_Duration = Union[timedelta, int, float, str]

class WayfinderError(Exception):
    """Base class of every error raised by wayfinder_tokens."""

    status: Optional[int]
    """The HTTP status of the answer behind the error, if there was one."""
    code: Optional[str]
    """A stable code: CONFIG, VALIDATION, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND,
    ALREADY_EXISTS, RATE_LIMITED, SERVER, TRANSPORT or TIMEOUT."""
    field_errors: list[tuple[str, str]]
    """(field, message) pairs; filled for ValidationError."""

class ConfigError(WayfinderError):
    """The config file or the client's settings are unusable."""

class ValidationError(WayfinderError):
    """Bad input, caught before any request, or a server's 400. ``field_errors`` lists (field, message)."""

class AuthenticationError(WayfinderError):
    """401: missing, malformed, expired, reset or deleted credentials."""

class PermissionDeniedError(WayfinderError):
    """403: authenticated but not allowed."""

class NotFoundError(WayfinderError):
    """404: no such access token."""

class AlreadyExistsError(WayfinderError):
    """409: an access token of that name exists."""

class RateLimitedError(WayfinderError):
    """429 after the retries ran out."""

class ServerError(WayfinderError):
    """Any other error answer: 5xx, an unexpected status, an undecodable body."""

class TransportError(WayfinderError):
    """The request could not be sent or its answer not read."""

class TimeoutError(WayfinderError, builtins.TimeoutError):
    """A deadline passed. Also a builtin TimeoutError."""

@final
class AccessToken:
    """An access token object as the server returned it. Never holds a secret."""

    @staticmethod
    def from_dict(data: dict[str, Any]) -> "AccessToken":
        """Reads an object in the API's shape (as ``to_dict`` returns it)."""
    @property
    def name(self) -> str: ...
    @property
    def workspace(self) -> Optional[str]:
        """The workspace; None for platform tokens."""
    @property
    def kind(self) -> str:
        """WorkspaceAccessToken or PlatformAccessToken."""
    @property
    def description(self) -> Optional[str]: ...
    @property
    def expiry(self) -> Optional[str]:
        """RFC 3339 time after which the token stops working; None: never."""
    @property
    def created(self) -> Optional[str]: ...
    @property
    def generation(self) -> int:
        """How many secrets have been issued (each reset adds one)."""
    @property
    def last_issued(self) -> Optional[str]: ...
    @property
    def uid(self) -> Optional[str]: ...
    def to_dict(self) -> dict[str, Any]:
        """The whole object, as the API returned it."""
    def _repr_html_(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class IssuedToken:
    """A token just created or reset. ``token`` is the secret: shown only once."""

    def __new__(
        cls,
        name: str,
        server: str,
        token: Optional[str] = None,
        *,
        workspace: Optional[str] = None,
        description: Optional[str] = None,
    ) -> Self: ...
    @property
    def name(self) -> str: ...
    @property
    def workspace(self) -> Optional[str]:
        """The workspace; None for platform tokens."""
    @property
    def server(self) -> str: ...
    @property
    def description(self) -> Optional[str]: ...
    @property
    def token(self) -> Optional[str]:
        """The secret; None for a dry run. It cannot be retrieved again: store it now."""
    @property
    def expires(self) -> Optional[int]:
        """Unix seconds when the secret stops working, if it expires."""
    @property
    def dry_run(self) -> bool: ...
    @property
    def resource(self) -> AccessToken:
        """The object as the server returned it."""
    def to_env(self) -> str:
        """Comment lines, then WAYFINDER_SERVER, WAYFINDER_TOKEN, WAYFINDER_WORKSPACE, aligned for reading."""
    def to_export(self) -> str:
        """``KEY=value`` lines only, ready for ``> token.env``."""
    def to_config(self) -> dict[str, Any]:
        """A wf config holding this token as a profile named after it."""
    def to_config_yaml(self) -> str:
        """The same config as YAML, loadable by this library and the wf CLI."""
    def to_json(self) -> str:
        """name, workspace, server, description and token as JSON."""
    def to_yaml(self) -> str:
        """The same fields as YAML."""
    def to_github_actions(self) -> str:
        """``::add-mask::`` for the token, then lines for ``$GITHUB_ENV``."""
    def to_dict(self) -> dict[str, Any]:
        """The fields of ``to_json``, as a dict (it holds the secret)."""
    def write_config(self, path: _Path) -> None:
        """Writes a standalone config holding just this token (atomic, mode 0600)."""
    def save_profile(
        self, config_path: Optional[_Path] = None, profile: Optional[str] = None, make_current: bool = False
    ) -> str:
        """Merges this token as a profile into a config file (the user's own by default) under the
        file lock, keeping every other profile and key. Returns the file's path."""
    def _repr_html_(self) -> str: ...

@final
class AccessRole:
    """A cluster access role granted to a token."""

    @property
    def role(self) -> str: ...
    @property
    def cluster(self) -> Optional[str]: ...
    @property
    def namespace(self) -> Optional[str]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Roles:
    """Everything granted to a token."""

    @property
    def access_roles(self) -> list[AccessRole]: ...
    @property
    def wayfinder_roles(self) -> list[str]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class WhoAmI:
    """Who a client is authenticated as."""

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
class AsyncClient:
    """An async client for one Wayfinder server. Every method returns an awaitable.

    Settings, in order of precedence: the keyword arguments; then WAYFINDER_SERVER +
    WAYFINDER_TOKEN (+ WAYFINDER_WORKSPACE); then the wf config file's chosen or
    current profile ($WAYFINDER_CONFIG or ~/.wayfinder/config).
    """

    def __new__(
        cls,
        *,
        server: Optional[str] = None,
        token: Optional[str] = None,
        workspace: Optional[str] = None,
        profile: Optional[str] = None,
        config_path: Optional[_Path] = None,
        timeout: Optional[_Duration] = None,
        max_retries: Optional[int] = None,
        ca_certificate: Optional[str] = None,
        allow_insecure_http: bool = False,
        api_group_version: Optional[str] = None,
    ) -> Self: ...
    @classmethod
    def from_env(cls, profile: Optional[str] = None, config_path: Optional[_Path] = None) -> "AsyncClient":
        """WAYFINDER_SERVER + WAYFINDER_TOKEN, else the config file."""
    @property
    def server(self) -> str: ...
    @property
    def workspace(self) -> Optional[str]:
        """The default workspace of workspace operations."""
    def create_workspace_access_token(
        self,
        name: str,
        *,
        workspace: Optional[str] = None,
        description: Optional[str] = None,
        expires_in: Optional[_Duration] = None,
        reset_token: bool = False,
        dry_run: bool = False,
    ) -> Awaitable[IssuedToken]:
        """Creates a workspace access token and issues its secret. With ``reset_token``, an
        existing token of that name gets a new secret instead (roles kept). With ``dry_run``,
        nothing is created and the result has no secret."""
    def reset_workspace_access_token(self, name: str, *, workspace: Optional[str] = None) -> Awaitable[IssuedToken]:
        """Issues a new secret; every earlier one stops working. Roles are kept."""
    def get_workspace_access_token(self, name: str, *, workspace: Optional[str] = None) -> Awaitable[AccessToken]: ...
    def list_workspace_access_tokens(self, *, workspace: Optional[str] = None) -> Awaitable[list[AccessToken]]: ...
    def delete_workspace_access_token(self, name: str, *, workspace: Optional[str] = None) -> Awaitable[AccessToken]:
        """Deletes the token; its secrets stop working at once."""
    def assign_access_role(
        self,
        token: str,
        role: str,
        *,
        cluster: Optional[str] = None,
        namespace: Optional[str] = None,
        workspace: Optional[str] = None,
    ) -> Awaitable[Roles]:
        """Grants a role in workspace clusters; returns every role the token holds."""
    def assign_wayfinder_role(self, token: str, role: str, *, workspace: Optional[str] = None) -> Awaitable[Roles]:
        """Grants a role in Wayfinder itself; returns every role the token holds."""
    def get_workspace_access_token_roles(self, token: str, *, workspace: Optional[str] = None) -> Awaitable[Roles]: ...
    def create_platform_access_token(
        self,
        name: str,
        *,
        description: Optional[str] = None,
        expires_in: Optional[_Duration] = None,
        reset_token: bool = False,
        dry_run: bool = False,
    ) -> Awaitable[IssuedToken]: ...
    def reset_platform_access_token(self, name: str) -> Awaitable[IssuedToken]: ...
    def get_platform_access_token(self, name: str) -> Awaitable[AccessToken]: ...
    def list_platform_access_tokens(self) -> Awaitable[list[AccessToken]]: ...
    def delete_platform_access_token(self, name: str) -> Awaitable[AccessToken]: ...
    def assign_platform_access_role(
        self, token: str, role: str, *, cluster: Optional[str] = None, namespace: Optional[str] = None
    ) -> Awaitable[Roles]: ...
    def assign_platform_wayfinder_role(self, token: str, role: str) -> Awaitable[Roles]: ...
    def get_platform_access_token_roles(self, token: str) -> Awaitable[Roles]: ...
    def whoami(self) -> Awaitable[WhoAmI]: ...
    def aclose(self) -> Awaitable[None]:
        """Closes the client; later calls raise."""
    def __aenter__(self) -> Awaitable["AsyncClient"]: ...
    def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Awaitable[None]: ...

@final
class Client:
    """A blocking client with the same constructor and methods as AsyncClient. It releases
    the GIL while waiting and works inside a running event loop (a notebook cell)."""

    def __new__(
        cls,
        *,
        server: Optional[str] = None,
        token: Optional[str] = None,
        workspace: Optional[str] = None,
        profile: Optional[str] = None,
        config_path: Optional[_Path] = None,
        timeout: Optional[_Duration] = None,
        max_retries: Optional[int] = None,
        ca_certificate: Optional[str] = None,
        allow_insecure_http: bool = False,
        api_group_version: Optional[str] = None,
    ) -> Self: ...
    @classmethod
    def from_env(cls, profile: Optional[str] = None, config_path: Optional[_Path] = None) -> "Client":
        """WAYFINDER_SERVER + WAYFINDER_TOKEN, else the config file."""
    @property
    def server(self) -> str: ...
    @property
    def workspace(self) -> Optional[str]: ...
    def create_workspace_access_token(
        self,
        name: str,
        *,
        workspace: Optional[str] = None,
        description: Optional[str] = None,
        expires_in: Optional[_Duration] = None,
        reset_token: bool = False,
        dry_run: bool = False,
    ) -> IssuedToken:
        """Creates a workspace access token and issues its secret (see AsyncClient)."""
    def reset_workspace_access_token(self, name: str, *, workspace: Optional[str] = None) -> IssuedToken: ...
    def get_workspace_access_token(self, name: str, *, workspace: Optional[str] = None) -> AccessToken: ...
    def list_workspace_access_tokens(self, *, workspace: Optional[str] = None) -> list[AccessToken]: ...
    def delete_workspace_access_token(self, name: str, *, workspace: Optional[str] = None) -> AccessToken: ...
    def assign_access_role(
        self,
        token: str,
        role: str,
        *,
        cluster: Optional[str] = None,
        namespace: Optional[str] = None,
        workspace: Optional[str] = None,
    ) -> Roles: ...
    def assign_wayfinder_role(self, token: str, role: str, *, workspace: Optional[str] = None) -> Roles: ...
    def get_workspace_access_token_roles(self, token: str, *, workspace: Optional[str] = None) -> Roles: ...
    def create_platform_access_token(
        self,
        name: str,
        *,
        description: Optional[str] = None,
        expires_in: Optional[_Duration] = None,
        reset_token: bool = False,
        dry_run: bool = False,
    ) -> IssuedToken: ...
    def reset_platform_access_token(self, name: str) -> IssuedToken: ...
    def get_platform_access_token(self, name: str) -> AccessToken: ...
    def list_platform_access_tokens(self) -> list[AccessToken]: ...
    def delete_platform_access_token(self, name: str) -> AccessToken: ...
    def assign_platform_access_role(
        self, token: str, role: str, *, cluster: Optional[str] = None, namespace: Optional[str] = None
    ) -> Roles: ...
    def assign_platform_wayfinder_role(self, token: str, role: str) -> Roles: ...
    def get_platform_access_token_roles(self, token: str) -> Roles: ...
    def whoami(self) -> WhoAmI: ...
    def close(self) -> None:
        """Closes the client; later calls raise."""
    def __enter__(self) -> "Client": ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...

@final
class Emulator:
    """A running emulator of the Wayfinder API on loopback, for tests. A context manager
    (sync and async); ``stop()`` ends it.

    ``users`` takes strings like ``"alice:secret@dev,prod"``; ``data`` keeps state in a
    SQLite file so a restart keeps every token.
    """

    def __new__(
        cls,
        admin_token: Optional[str] = None,
        users: Optional[list[str]] = None,
        data: Optional[_Path] = None,
        *,
        api_group_version: Optional[str] = None,
    ) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def admin_token(self) -> str: ...
    def inject_fault(
        self,
        path_prefix: str,
        *,
        status: Optional[int] = None,
        times: int = 1,
        retry_after_s: Optional[int] = None,
        delay_ms: Optional[int] = None,
        drop_connection: bool = False,
        malformed_body: bool = False,
        body_bytes: Optional[int] = None,
    ) -> None:
        """Makes the next ``times`` requests whose path starts with ``path_prefix`` misbehave."""
    def clear_faults(self) -> None: ...
    def stats(self) -> dict[str, Any]:
        """``{"requests": {"METHOD /path": count}, "total": n}``."""
    def reset_stats(self) -> None: ...
    def stop(self) -> None:
        """Stops the server (idempotent)."""
    def __enter__(self) -> "Emulator": ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...
    def __aenter__(self) -> Awaitable["Emulator"]: ...
    def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Awaitable[None]: ...

def render_table(tokens: list[AccessToken], headers: bool = True) -> str:
    """NAME, WORKSPACE, DESCRIPTION, CREATED columns, as the CLI prints them. Never a token."""

def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Runs the CLI; returns (exit code, stdout, stderr)."""

def cli_log_level(argv: list[str]) -> int:
    """The logging level the CLI flags ask for."""

def _reset_log_cache() -> None: ...
