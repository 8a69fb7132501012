import builtins
import os
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, SupportsIndex, final, overload

from typing_extensions import Self, TypeAlias

from wayfinder_tokens._present import AccessTokens
from wayfinder_tokens.destinations import Destination

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
    "DeliveryReport",
    "PendingDelivery",
    "TokenSpec",
    "Plan",
    "ApplyReport",
    "RotationDue",
    "load_spec",
    "parse_spec",
    "spec_schema",
    "Emulator",
    "render_table",
    "run_cli",
    "run_cli_stdio",
    "run_emulator",
    "cli_log_level",
    "_reset_log_cache",
    "_handoff",
]

__version__: str

_Path: TypeAlias = str | os.PathLike[str]
_Duration: TypeAlias = timedelta | int | float | str
_Code: TypeAlias = Literal[
    "CONFIG",
    "VALIDATION",
    "UNAUTHENTICATED",
    "PERMISSION_DENIED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "RATE_LIMITED",
    "SERVER",
    "TRANSPORT",
    "TIMEOUT",
]

class FieldError(NamedTuple):
    """A field that failed validation: the field, the rule's code, and a sentence."""

    field: str
    """The field, e.g. ``name``, ``workspace`` or ``metadata.name``."""
    code: str
    """The rule: ``required``, ``pattern``, ``maxLength``, ``invalidValue``…"""
    message: str
    """A sentence naming the field and the rule."""

class WayfinderError(Exception):
    """Base class of every error raised by wayfinder_tokens."""

    status: int | None
    """The HTTP status of the answer behind the error, if there was one."""
    code: _Code | None
    """A stable code: CONFIG, VALIDATION, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND,
    ALREADY_EXISTS, RATE_LIMITED, SERVER, TRANSPORT or TIMEOUT (None: a bug of the library)."""
    hint: str | None
    """What to do next, when the library knows (also at the end of the message)."""
    field_errors: list[FieldError]
    """The fields that failed; filled for ValidationError."""

class ConfigError(WayfinderError):
    """The config file or the client's settings are unusable."""

    code: Literal["CONFIG"]

class ValidationError(WayfinderError):
    """Bad input, caught before any request, or a server's 400. `field_errors` lists
    FieldError(field, code, message) named tuples; `code` is the rule (required, pattern, maxLength...)."""

    code: Literal["VALIDATION"]

class AuthenticationError(WayfinderError):
    """401: missing, malformed, expired, reset or deleted credentials."""

    code: Literal["UNAUTHENTICATED"]

class PermissionDeniedError(WayfinderError):
    """403: authenticated but not allowed."""

    code: Literal["PERMISSION_DENIED"]

class NotFoundError(WayfinderError):
    """404: no such access token."""

    code: Literal["NOT_FOUND"]

class AlreadyExistsError(WayfinderError):
    """409: an access token of that name exists."""

    code: Literal["ALREADY_EXISTS"]

class RateLimitedError(WayfinderError):
    """429 after the retries ran out."""

    code: Literal["RATE_LIMITED"]

class ServerError(WayfinderError):
    """Any other error answer: 5xx, an unexpected status, an undecodable body."""

    code: Literal["SERVER"]

class TransportError(WayfinderError):
    """The request could not be sent or its answer not read."""

    code: Literal["TRANSPORT"]

class TimeoutError(WayfinderError, builtins.TimeoutError):
    """A deadline passed. Also a builtin TimeoutError."""

    code: Literal["TIMEOUT"]

@final
class AccessToken:
    """An access token object as the server returned it. Never holds a secret."""

    @staticmethod
    def from_dict(data: dict[str, Any]) -> AccessToken:
        """Reads an object in the API's shape (as `to_dict` returns it)."""
    @property
    def name(self) -> str:
        """The token's name."""
    @property
    def workspace(self) -> str | None:
        """Its workspace (None for platform tokens)."""
    @property
    def kind(self) -> str:
        """`WorkspaceAccessToken` or `PlatformAccessToken`."""
    @property
    def description(self) -> str | None:
        """Its description, or None."""
    @property
    def expiry(self) -> str | None:
        """When it expires (RFC 3339), or None."""
    @property
    def created(self) -> str | None:
        """When it was created (RFC 3339)."""
    @property
    def generation(self) -> int:
        """How many secrets it has been issued."""
    @property
    def last_issued(self) -> str | None:
        """When its current secret was issued (RFC 3339), or None."""
    @property
    def uid(self) -> str | None:
        """The object's unique id."""
    def to_dict(self) -> dict[str, Any]:
        """The whole object, as the API returned it."""
    def _repr_html_(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class IssuedToken:
    """A token just created or reset. `token` is the secret (None for a dry run)."""

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
    def name(self) -> str:
        """The token's name."""
    @property
    def workspace(self) -> str | None:
        """Its workspace (None for platform tokens)."""
    @property
    def server(self) -> str:
        """The server's URL."""
    @property
    def description(self) -> str | None:
        """Its description, or None."""
    @property
    def token(self) -> str | None:
        """The secret. Shown only once by the server: store it now."""
    @property
    def expires(self) -> int | None:
        """When the secret expires (Unix seconds), or None."""
    @property
    def dry_run(self) -> bool:
        """True for a dry run: nothing was created and there is no secret."""
    @property
    def resource(self) -> AccessToken:
        """The object as the server returned it."""
    def to_env(self) -> str:
        """The variables with comments, for reading and pasting into a CI's secrets."""
    def to_export(self) -> str:
        """`KEY=value` lines (single-quoted where needed), for `> token.env`."""
    def to_shell(self) -> str:
        """`export KEY='value'` lines, for `eval "$(...)"` in a shell."""
    def to_config(self) -> dict[str, Any]:
        """A wf config file holding the token, as a dict."""
    def to_config_yaml(self) -> str:
        """A wf config file holding the token, as YAML."""
    def to_json(self) -> str:
        """The token as JSON (with its secret: the caller asked for it)."""
    def to_yaml(self) -> str:
        """The token as YAML (with its secret)."""
    def export_to_github_actions(
        self,
        *,
        prefix: str | None = None,
        env: bool = False,
        output_file: _Path | None = None,
        env_file: _Path | None = None,
    ) -> list[Path]:
        """Hands the token to the later steps of a GitHub Actions job: masks it in
        the log and sets this step's outputs (`$GITHUB_OUTPUT`), so later steps keep
        the job's own credentials. `env=True` also sets the variables for every later
        step (`$GITHUB_ENV`): without a `prefix` they then run as this new token.
        Raises `ConfigError` before writing anything when a file is missing or is
        stdout. Returns the files written."""
    def to_dict(self, *, include_secret: bool = False) -> dict[str, Any]:
        """The fields of `to_json` as a dict, without the secret unless `include_secret=True`."""
    def write_config(self, path: _Path) -> None:
        """Writes a standalone wf config holding just this token (atomic, mode 0600)."""
    def save_profile(
        self, config_path: _Path | None = None, profile: str | None = None, make_current: bool = False
    ) -> Path:
        """Merges this token as a profile into a config file (the user's own by default) under its lock,
        keeping every other profile and key. Returns the file's `Path`."""
    @property
    def delivery(self) -> DeliveryReport | None:
        """Where `deliver=` put the secret (a `DeliveryReport`), or None."""
    def deliver(self, destinations: _Deliver) -> Any:
        """Delivers the secret to `destinations` (SPEC strings such as "github:acme/app" or
        "vault:secret/ci/app", or `wayfinder_tokens.destinations` objects), each checked first;
        returns a `DeliveryReport` (awaitable for tokens from an `AsyncClient`). What a
        destination did not take waits, 0600, in the recovery store (`deliver_pending()`)."""
    def to_kubernetes_secret(self, prefix: str = "") -> str:
        """A Kubernetes `Secret` manifest (YAML) holding the three values, labelled with the token's
        name, workspace and generation: for `kubectl apply -f -`."""
    def _repr_html_(self) -> str: ...

@final
class DeliveryReport:
    """Where one secret went: each destination verified, or why not, and where
    the secret waits while a destination lacks it."""

    @property
    def name(self) -> str:
        """The token's name."""
    @property
    def workspace(self) -> str | None:
        """Its workspace (None for platform tokens)."""
    @property
    def ok(self) -> bool:
        """True when every destination verified the secret."""
    @property
    def delivered(self) -> list[str]:
        """The destinations that hold the new secret (their SPECs)."""
    @property
    def failed(self) -> list[tuple[str, WayfinderError]]:
        """The destinations that do not, with the error of each (a `WayfinderError`)."""
    @property
    def verified(self) -> list[tuple[str, str]]:
        """`(destination, what verified it)` for each destination that holds it."""
    @property
    def recovery(self) -> Path | None:
        """The 0600 file holding the secret while a destination lacks it, else None."""
    def raise_for_failure(self) -> None:
        """Raises the first destination's error when any failed."""

@final
class PendingDelivery:
    """A secret that waited in the recovery store: which token, where it still
    waits to go, and (after a delivery) its report."""

    @property
    def name(self) -> str:
        """The token's name."""
    @property
    def workspace(self) -> str | None:
        """Its workspace (None for platform tokens)."""
    @property
    def waiting_for(self) -> list[str]:
        """The destinations that still lack the secret."""
    @property
    def report(self) -> DeliveryReport | None:
        """What delivering it did (None when only listed)."""

@final
class TokenSpec:
    """A tokens spec file (`apiVersion: wayfinder-tokens/v1`), read and checked."""

    @property
    def source(self) -> str:
        """Where it was read from."""
    @property
    def tokens(self) -> list[str]:
        """`workspace/name` of each token, in the file's order (`platform/name` for platform tokens)."""
    def __len__(self) -> int: ...

@final
class Plan:
    """What apply would do: its changes (never a secret), the drift it leaves alone."""

    @property
    def has_changes(self) -> bool:
        """True when apply has something to do."""
    @property
    def changes(self) -> list[dict[str, Any]]:
        """Each change as a dict (`action`, `token`, `workspace`, `target`, and the action's own keys)."""
    @property
    def drift(self) -> list[dict[str, Any]]:
        """Each difference apply leaves alone, as a dict (`drift`: `role`, `unmanaged` or `description`)."""
    @property
    def requests(self) -> dict[str, int]:
        """The requests the plan made: `{"wayfinder": n, "destinations": n}`."""
    def lines(self) -> list[str]:
        """One line per change, one per drift, then the summary."""
    @property
    def summary(self) -> str:
        """The summary line."""
    def to_records(self) -> list[dict[str, str]]:
        """Flat dicts (sign, action, subject, detail) without any secret, for pandas."""
    def _repr_html_(self) -> str: ...
    def __len__(self) -> int: ...
    def __bool__(self) -> bool: ...

@final
class ApplyReport:
    """What apply did: each change with its result, each delivery's report."""

    @property
    def ok(self) -> bool:
        """True when every change was made."""
    @property
    def applied(self) -> list[dict[str, Any]]:
        """Each change as a dict, with `done` (what it did) or `error` (`code`, `message`)."""
    @property
    def drift(self) -> list[dict[str, Any]]:
        """The drift apply left alone (as in `Plan.drift`)."""
    @property
    def deliveries(self) -> list[DeliveryReport]:
        """Each delivery's report."""
    def lines(self) -> list[str]:
        """One line per change, then the summary."""
    def raise_for_failure(self) -> None:
        """Raises the first change's error, if any failed."""
    def to_records(self) -> list[dict[str, str | None]]:
        """Flat dicts (action, subject, done, error) without any secret, for pandas."""
    def _repr_html_(self) -> str: ...
    def __len__(self) -> int: ...

@final
class RotationDue:
    """When one token of a spec is next due to rotate."""

    @property
    def token(self) -> str:
        """The spec's token."""
    @property
    def workspace(self) -> str | None:
        """Its workspace (None for platform tokens)."""
    @property
    def target(self) -> str | None:
        """The Wayfinder token in use (with slots, the newer); None when it does not exist."""
    @property
    def due_at(self) -> str | None:
        """When a rotation is due (RFC 3339); None: never."""
    @property
    def reason(self) -> str:
        """Why then (`maxAge 30d`, `expires …`, `does not exist`)."""
    @property
    def due(self) -> bool:
        """Whether that is within the horizon asked about (or past)."""

@final
class AccessRole:
    """A cluster access role granted to a token."""

    @property
    def role(self) -> str:
        """The role, e.g. namespace.admin."""
    @property
    def cluster(self) -> str | None:
        """The cluster it applies in, or None."""
    @property
    def namespace(self) -> str | None:
        """The namespace it applies in, or None."""
    def to_dict(self) -> dict[str, Any]:
        """The object as a dict, in the API's shape."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class Roles:
    """Everything granted to a token."""

    @property
    def access_roles(self) -> list[AccessRole]:
        """Roles in the workspace's clusters."""
    @property
    def wayfinder_roles(self) -> list[str]:
        """Roles in Wayfinder itself."""
    def to_dict(self) -> dict[str, Any]:
        """The object as a dict, in the API's shape."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class WhoAmI:
    """Who a client is authenticated as."""

    @property
    def auth_method(self) -> str:
        """How the caller authenticated."""
    @property
    def username(self) -> str:
        """Who the caller is."""
    @property
    def workspaces(self) -> list[str]:
        """The workspaces the caller belongs to."""
    @property
    def subject_kind(self) -> str:
        """The kind of caller: User, WorkspaceAccessToken…"""
    def to_dict(self) -> dict[str, Any]:
        """The object as a dict, in the API's shape."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class InventoryEntry:
    """One access token of an inventory: what `get` shows, plus its age, expiry and generation."""

    @property
    def workspace(self) -> str:
        """The token's workspace."""
    @property
    def name(self) -> str:
        """The token's name."""
    @property
    def description(self) -> str | None:
        """Its description, or None."""
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
    def generation(self) -> int:
        """How many secrets it has been issued."""
    @property
    def object(self) -> AccessToken:
        """The object as the server returned it."""
    def to_dict(self) -> dict[str, Any]:
        """A flat dict (no secret: an inventory never holds one)."""

@final
class Inventory:
    """The access tokens an inventory found: a sequence of `InventoryEntry`, shown as a table in notebooks."""

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, key: SupportsIndex, /) -> InventoryEntry: ...
    @overload
    def __getitem__(self, key: slice, /) -> Inventory: ...
    def __iter__(self) -> Iterator[InventoryEntry]: ...
    def to_records(self) -> list[dict[str, Any]]:
        """Flat dicts without any secret, for ``pandas.DataFrame(self.to_records())``."""
    def _repr_html_(self) -> str: ...

@final
class RotationFailure:
    """A token that did not rotate: why, whether its old secret still works,
    and the exact call that recovers it."""

    @property
    def workspace(self) -> str:
        """The token's workspace."""
    @property
    def name(self) -> str:
        """The token's name."""
    @property
    def error(self) -> WayfinderError:
        """The error, as the exception it would have raised."""
    @property
    def old_secret_valid(self) -> bool | None:
        """True: the old secret still works; False: it was replaced and the new one lost; None: unknown."""
    @property
    def recovery(self) -> str:
        """The call that gets the token a working secret."""

@final
class BatchReport:
    """What a batch rotation did; one item's failure never raises."""

    @property
    def rotated(self) -> list[IssuedToken]:
        """The tokens that got a new secret (`IssuedToken`s, with it)."""
    @property
    def failed(self) -> list[RotationFailure]:
        """The tokens that did not rotate: `RotationFailure`s."""
    @property
    def would_rotate(self) -> list[tuple[str, str]]:
        """Dry run: `(workspace, name)` of each token that would rotate."""
    @property
    def not_started(self) -> list[tuple[str, str]]:
        """Interrupted: `(workspace, name)` of each token nothing was sent for."""
    @property
    def undelivered(self) -> list[tuple[str, str, str]]:
        """`(workspace, name, error)` of each rotated token whose secret the
        `output_dir` or `on_rotated` did not take (it is in `rotated`, and only there)."""
    @property
    def ok(self) -> bool:
        """True when every token rotated and its secret was handed over (and delivered, with `deliver=`)."""
    @property
    def deliveries(self) -> list[DeliveryReport]:
        """With `deliver=`: one `DeliveryReport` per rotated token, in the order they rotated."""
    def write_env_dir(self, path: _Path) -> list[Path]:
        """One 0600 env file per new secret in `path` (created 0700); returns the files."""
    def to_jsonl(self) -> str:
        """One JSON object per token and line, the secret under `token` for rotated ones."""
    def to_records(self) -> list[dict[str, Any]]:
        """Flat dicts without any secret, for ``pandas.DataFrame(self.to_records())``."""
    def _repr_html_(self) -> str: ...

_Deliver: TypeAlias = str | Destination | Iterable[str | Destination]
_BatchDeliver: TypeAlias = _Deliver | Mapping[str, _Deliver] | Callable[[str, str], _Deliver]
_Tokens: TypeAlias = Inventory | Iterable[InventoryEntry | tuple[str, str] | dict[str, str]]
_Progress: TypeAlias = Callable[[int, int, tuple[str, str]], object] | bool | None

@final
class AsyncClient:
    """An async client: every method returns a coroutine. Use `async with`."""

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
    def from_env(cls, profile: str | None = None, config_path: _Path | None = None) -> AsyncClient:
        """From `WAYFINDER_SERVER` + `WAYFINDER_TOKEN` (+ `WAYFINDER_WORKSPACE`), else the wf config
        file (`config_path` or `$WAYFINDER_CONFIG` or `~/.wayfinder/config`) and its `profile`.
        Raises `ConfigError` when neither gives a server and a token."""
    @property
    def server(self) -> str:
        """The server's URL."""
    @property
    def workspace(self) -> str | None:
        """The default workspace of workspace operations, or None."""
    def create_workspace_access_token(
        self,
        name: str,
        *,
        workspace: str | None = None,
        description: str | None = None,
        expires_in: _Duration | None = None,
        reset_token: bool = False,
        dry_run: bool = False,
        deliver: _Deliver | None = None,
    ) -> Coroutine[Any, Any, IssuedToken]:
        """Creates a workspace access token and issues its secret (`IssuedToken.token`, shown once).
        `expires_in`: seconds, a `timedelta` or text such as "90d"; `reset_token=True` issues a new
        secret if the name exists (roles kept); `dry_run=True` validates and issues nothing.
        Raises `ValidationError` (before any request), `AlreadyExistsError`, `AuthenticationError`…
        Example: `wf.create_workspace_access_token("ci-deploy", workspace="dev").to_env()`

        `deliver`: SPEC strings ("github:acme/app@prod", "vault:secret/ci/{name}", "file:app.env",
        "cmd:gh secret set …") or `wayfinder_tokens.destinations` objects. Each is checked before
        anything is created or reset; then the new secret is delivered and verified, and the
        result is `IssuedToken.delivery`. What a destination did not take waits, 0600, in the
        recovery store until `deliver_pending()`."""
    def reset_workspace_access_token(
        self, name: str, *, workspace: str | None = None, deliver: _Deliver | None = None
    ) -> Coroutine[Any, Any, IssuedToken]:
        """Issues a new secret for an existing workspace access token; every earlier one stops working
        and its roles are kept. Raises `NotFoundError` if it does not exist.
        Example: `wf.reset_workspace_access_token("ci-deploy").token`
        `deliver`: as in `create_workspace_access_token`, checked before the reset."""
    def get_workspace_access_token(
        self, name: str, *, workspace: str | None = None
    ) -> Coroutine[Any, Any, AccessToken]:
        """Reads a workspace access token (never its secret). Raises `NotFoundError`."""
    def list_workspace_access_tokens(self, *, workspace: str | None = None) -> Coroutine[Any, Any, AccessTokens]:
        """Lists a workspace's access tokens (never their secrets)."""
    def delete_workspace_access_token(
        self, name: str, *, workspace: str | None = None
    ) -> Coroutine[Any, Any, AccessToken]:
        """Deletes a workspace access token; its secrets stop working at once. Raises `NotFoundError`."""
    def assign_access_role(
        self,
        token: str,
        role: str,
        *,
        cluster: str | None = None,
        namespace: str | None = None,
        workspace: str | None = None,
    ) -> Coroutine[Any, Any, Roles]:
        """Grants a workspace access token a role in the workspace's clusters (`cluster` for cluster
        roles, `cluster` and `namespace` for namespace roles); returns all its roles."""
    def assign_wayfinder_role(
        self, token: str, role: str, *, workspace: str | None = None
    ) -> Coroutine[Any, Any, Roles]:
        """Grants a workspace access token a Wayfinder role (e.g. workspace.accesstokenmanager); returns its roles."""
    def get_workspace_access_token_roles(
        self, token: str, *, workspace: str | None = None
    ) -> Coroutine[Any, Any, Roles]:
        """The roles of a workspace access token."""
    def create_platform_access_token(
        self,
        name: str,
        *,
        description: str | None = None,
        expires_in: _Duration | None = None,
        reset_token: bool = False,
        dry_run: bool = False,
        deliver: _Deliver | None = None,
    ) -> Coroutine[Any, Any, IssuedToken]:
        """Creates a platform access token and issues its secret (see `create_workspace_access_token`)."""
    def reset_platform_access_token(
        self, name: str, *, deliver: _Deliver | None = None
    ) -> Coroutine[Any, Any, IssuedToken]:
        """Issues a new secret for a platform access token; every earlier one stops working.
        `deliver`: as in `create_workspace_access_token`, checked before the reset."""
    def deliver_pending(self, *, list_only: bool = False) -> Coroutine[Any, Any, list[PendingDelivery]]:
        """The secrets waiting in the recovery store because a destination did not take them
        (a failure, or a process killed mid-delivery): with `list_only`, listed; otherwise
        delivered again, each destination checked first. A list of `PendingDelivery`."""
    def get_platform_access_token(self, name: str) -> Coroutine[Any, Any, AccessToken]:
        """Reads a platform access token (never its secret). Raises `NotFoundError`."""
    def list_platform_access_tokens(self) -> Coroutine[Any, Any, AccessTokens]:
        """Lists the platform access tokens (never their secrets)."""
    def delete_platform_access_token(self, name: str) -> Coroutine[Any, Any, AccessToken]:
        """Deletes a platform access token; its secrets stop working at once."""
    def assign_platform_access_role(
        self, token: str, role: str, *, cluster: str | None = None, namespace: str | None = None
    ) -> Coroutine[Any, Any, Roles]:
        """Grants a platform access token a role in clusters; returns all its roles."""
    def assign_platform_wayfinder_role(self, token: str, role: str) -> Coroutine[Any, Any, Roles]:
        """Grants a platform access token a Wayfinder role; returns all its roles."""
    def get_platform_access_token_roles(self, token: str) -> Coroutine[Any, Any, Roles]:
        """The roles of a platform access token."""
    def list_workspaces(self) -> Coroutine[Any, Any, list[str]]:
        """The workspaces the credentials can see, sorted."""
    def inventory(
        self,
        workspaces: Iterable[str] | None = None,
        *,
        expiring_within: str | float | timedelta | None = None,
        older_than: str | float | timedelta | None = None,
        names: Iterable[str] | None = None,
        concurrency: int | None = None,
    ) -> Coroutine[Any, Any, Inventory]:
        """Every workspace access token in `workspaces` (default: every workspace the
        credentials can see), fetched `concurrency` lists at a time, filtered by
        `expiring_within` and `older_than` (seconds or text such as "7d") and name
        `names` (glob patterns). Returns an `Inventory`."""
    def rotate_workspace_access_tokens(
        self,
        tokens: _Tokens,
        *,
        concurrency: int | None = None,
        progress: _Progress = None,
        dry_run: bool = False,
        output_dir: _Path | None = None,
        on_rotated: Callable[[IssuedToken], object] | None = None,
        deliver: _BatchDeliver | None = None,
    ) -> Coroutine[Any, Any, BatchReport]:
        """Resets each token's secret, `concurrency` at a time. `tokens`: an
        `Inventory`, `InventoryEntry`s, `(workspace, name)` pairs or dicts.
        `progress`: a callable `(done, total, (workspace, name))`, or True for a bar.
        Returns a `BatchReport`; one token's failure never raises.

        Each new secret goes, as soon as it exists, to an env file in `output_dir`
        (checked, or created 0700, before any reset) and to `on_rotated(issued)`.
        Cancelling the task stops new rotations, lets those in flight finish, and raises
        `CancelledError` with the partial report as its `report` (Python 3.11+; before,
        awaiting a cancelled task raises a new `CancelledError`, so give `output_dir` or
        `on_rotated` there).

        `deliver`: where each new secret goes, checked for every token before the first reset:
        SPECs for all (`{workspace}` and `{name}` filled in per token, as in
        "vault:secret/ci/{workspace}/{name}"), a mapping from "workspace/name" to SPECs, or a
        callable `(workspace, name) -> SPECs`. `BatchReport.deliveries` says where each went."""
    def plan(
        self, spec: TokenSpec | str | os.PathLike[str], *, rotate: Iterable[str] | None = None
    ) -> Coroutine[Any, Any, Plan]:
        """What `apply` would do to make the tokens match `spec` (a `TokenSpec` from `load_spec`, or
        a path): a `Plan` of changes (create, grant, rotate and why, deliver) and the drift it
        leaves alone. Destinations are judged from their metadata, never by reading a secret.
        `rotate`: names of the spec's tokens to rotate whether or not they are due.
        Example: `print(wf.plan(wft.load_spec("tokens.yaml")))`"""
    def apply(
        self, plan_or_spec: Plan | TokenSpec | str | os.PathLike[str], *, rotate: Iterable[str] | None = None
    ) -> Coroutine[Any, Any, ApplyReport]:
        """Makes the tokens match: given a `Plan`, applies it if it still holds (else raises
        `ConfigError`: plan again); given a spec (or a path), plans and applies. Each token's
        destinations are checked before any secret is issued, and each new secret waits in the
        recovery store until every destination verified it. Applying twice writes nothing the
        second time. An `ApplyReport`; `report.raise_for_failure()` raises the first error."""
    def check(
        self, spec: TokenSpec | str | os.PathLike[str], *, within: float | timedelta | str | None = None
    ) -> Coroutine[Any, Any, list[RotationDue]]:
        """When each token of `spec` is next due to rotate (its age against `maxAge`, its expiry
        against `beforeExpiry`), from Wayfinder alone: a list of `RotationDue`, `due` set for those
        due within `within` (default 14 days; seconds, a timedelta or "14d")."""
    def whoami(self) -> Coroutine[Any, Any, WhoAmI]:
        """Who these credentials belong to: user or token, and its workspaces. Raises `AuthenticationError`."""
    def aclose(self) -> Awaitable[None]:
        """Closes the client; later calls raise."""
    def __aenter__(self) -> Awaitable[AsyncClient]: ...
    def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Awaitable[None]: ...

@final
class Client:
    """A blocking client with the same methods as AsyncClient. Use `with`."""

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
    def from_env(cls, profile: str | None = None, config_path: _Path | None = None) -> Client:
        """From `WAYFINDER_SERVER` + `WAYFINDER_TOKEN` (+ `WAYFINDER_WORKSPACE`), else the wf config
        file (`config_path` or `$WAYFINDER_CONFIG` or `~/.wayfinder/config`) and its `profile`.
        Raises `ConfigError` when neither gives a server and a token."""
    @property
    def server(self) -> str:
        """The server's URL."""
    @property
    def workspace(self) -> str | None:
        """The default workspace of workspace operations, or None."""
    def create_workspace_access_token(
        self,
        name: str,
        *,
        workspace: str | None = None,
        description: str | None = None,
        expires_in: _Duration | None = None,
        reset_token: bool = False,
        dry_run: bool = False,
        deliver: _Deliver | None = None,
    ) -> IssuedToken:
        """Creates a workspace access token and issues its secret (`IssuedToken.token`, shown once).
        `expires_in`: seconds, a `timedelta` or text such as "90d"; `reset_token=True` issues a new
        secret if the name exists (roles kept); `dry_run=True` validates and issues nothing.
        Raises `ValidationError` (before any request), `AlreadyExistsError`, `AuthenticationError`…
        Example: `wf.create_workspace_access_token("ci-deploy", workspace="dev").to_env()`

        `deliver`: SPEC strings ("github:acme/app@prod", "vault:secret/ci/{name}", "file:app.env",
        "cmd:gh secret set …") or `wayfinder_tokens.destinations` objects. Each is checked before
        anything is created or reset; then the new secret is delivered and verified, and the
        result is `IssuedToken.delivery`. What a destination did not take waits, 0600, in the
        recovery store until `deliver_pending()`."""
    def reset_workspace_access_token(
        self, name: str, *, workspace: str | None = None, deliver: _Deliver | None = None
    ) -> IssuedToken:
        """Issues a new secret for an existing workspace access token; every earlier one stops working
        and its roles are kept. Raises `NotFoundError` if it does not exist.
        Example: `wf.reset_workspace_access_token("ci-deploy").token`
        `deliver`: as in `create_workspace_access_token`, checked before the reset."""
    def get_workspace_access_token(self, name: str, *, workspace: str | None = None) -> AccessToken:
        """Reads a workspace access token (never its secret). Raises `NotFoundError`."""
    def list_workspace_access_tokens(self, *, workspace: str | None = None) -> AccessTokens:
        """Lists a workspace's access tokens (never their secrets)."""
    def delete_workspace_access_token(self, name: str, *, workspace: str | None = None) -> AccessToken:
        """Deletes a workspace access token; its secrets stop working at once. Raises `NotFoundError`."""
    def assign_access_role(
        self,
        token: str,
        role: str,
        *,
        cluster: str | None = None,
        namespace: str | None = None,
        workspace: str | None = None,
    ) -> Roles:
        """Grants a workspace access token a role in the workspace's clusters (`cluster` for cluster
        roles, `cluster` and `namespace` for namespace roles); returns all its roles."""
    def assign_wayfinder_role(self, token: str, role: str, *, workspace: str | None = None) -> Roles:
        """Grants a workspace access token a Wayfinder role (e.g. workspace.accesstokenmanager); returns its roles."""
    def get_workspace_access_token_roles(self, token: str, *, workspace: str | None = None) -> Roles:
        """The roles of a workspace access token."""
    def create_platform_access_token(
        self,
        name: str,
        *,
        description: str | None = None,
        expires_in: _Duration | None = None,
        reset_token: bool = False,
        dry_run: bool = False,
        deliver: _Deliver | None = None,
    ) -> IssuedToken:
        """Creates a platform access token and issues its secret (see `create_workspace_access_token`)."""
    def reset_platform_access_token(self, name: str, *, deliver: _Deliver | None = None) -> IssuedToken:
        """Issues a new secret for a platform access token; every earlier one stops working.
        `deliver`: as in `create_workspace_access_token`, checked before the reset."""
    def deliver_pending(self, *, list_only: bool = False) -> list[PendingDelivery]:
        """The secrets waiting in the recovery store because a destination did not take them
        (a failure, or a process killed mid-delivery): with `list_only`, listed; otherwise
        delivered again, each destination checked first. A list of `PendingDelivery`."""
    def get_platform_access_token(self, name: str) -> AccessToken:
        """Reads a platform access token (never its secret). Raises `NotFoundError`."""
    def list_platform_access_tokens(self) -> AccessTokens:
        """Lists the platform access tokens (never their secrets)."""
    def delete_platform_access_token(self, name: str) -> AccessToken:
        """Deletes a platform access token; its secrets stop working at once."""
    def assign_platform_access_role(
        self, token: str, role: str, *, cluster: str | None = None, namespace: str | None = None
    ) -> Roles:
        """Grants a platform access token a role in clusters; returns all its roles."""
    def assign_platform_wayfinder_role(self, token: str, role: str) -> Roles:
        """Grants a platform access token a Wayfinder role; returns all its roles."""
    def get_platform_access_token_roles(self, token: str) -> Roles:
        """The roles of a platform access token."""
    def list_workspaces(self) -> list[str]:
        """The workspaces the credentials can see, sorted."""
    def inventory(
        self,
        workspaces: Iterable[str] | None = None,
        *,
        expiring_within: str | float | timedelta | None = None,
        older_than: str | float | timedelta | None = None,
        names: Iterable[str] | None = None,
        concurrency: int | None = None,
    ) -> Inventory:
        """Every workspace access token in `workspaces` (default: every workspace the
        credentials can see), fetched `concurrency` lists at a time, filtered by
        `expiring_within` and `older_than` (seconds or text such as "7d") and name
        `names` (glob patterns). Returns an `Inventory`."""
    def rotate_workspace_access_tokens(
        self,
        tokens: _Tokens,
        *,
        concurrency: int | None = None,
        progress: _Progress = None,
        dry_run: bool = False,
        output_dir: _Path | None = None,
        on_rotated: Callable[[IssuedToken], object] | None = None,
        deliver: _BatchDeliver | None = None,
    ) -> BatchReport:
        """Resets each token's secret, `concurrency` at a time. `tokens`: an
        `Inventory`, `InventoryEntry`s, `(workspace, name)` pairs or dicts.
        `progress`: a callable `(done, total, (workspace, name))`, or True for a bar.
        Returns a `BatchReport`; one token's failure never raises.

        Each new secret goes, as soon as it exists, to an env file in `output_dir`
        (checked, or created 0700, before any reset) and to `on_rotated(issued)`.
        A first Ctrl-C stops new rotations, lets those in flight finish, and raises
        `KeyboardInterrupt` with the partial report as its `report`.

        `deliver`: where each new secret goes, checked for every token before the first reset:
        SPECs for all (`{workspace}` and `{name}` filled in per token, as in
        "vault:secret/ci/{workspace}/{name}"), a mapping from "workspace/name" to SPECs, or a
        callable `(workspace, name) -> SPECs`. `BatchReport.deliveries` says where each went."""
    def plan(self, spec: TokenSpec | str | os.PathLike[str], *, rotate: Iterable[str] | None = None) -> Plan:
        """What `apply` would do to make the tokens match `spec` (a `TokenSpec` from `load_spec`, or
        a path): a `Plan` of changes (create, grant, rotate and why, deliver) and the drift it
        leaves alone. Destinations are judged from their metadata, never by reading a secret.
        `rotate`: names of the spec's tokens to rotate whether or not they are due.
        Example: `print(wf.plan(wft.load_spec("tokens.yaml")))`"""
    def apply(
        self, plan_or_spec: Plan | TokenSpec | str | os.PathLike[str], *, rotate: Iterable[str] | None = None
    ) -> ApplyReport:
        """Makes the tokens match: given a `Plan`, applies it if it still holds (else raises
        `ConfigError`: plan again); given a spec (or a path), plans and applies. Each token's
        destinations are checked before any secret is issued, and each new secret waits in the
        recovery store until every destination verified it. Applying twice writes nothing the
        second time. An `ApplyReport`; `report.raise_for_failure()` raises the first error."""
    def check(
        self, spec: TokenSpec | str | os.PathLike[str], *, within: float | timedelta | str | None = None
    ) -> list[RotationDue]:
        """When each token of `spec` is next due to rotate (its age against `maxAge`, its expiry
        against `beforeExpiry`), from Wayfinder alone: a list of `RotationDue`, `due` set for those
        due within `within` (default 14 days; seconds, a timedelta or "14d")."""
    def whoami(self) -> WhoAmI:
        """Who these credentials belong to: user or token, and its workspaces. Raises `AuthenticationError`."""
    def close(self) -> None:
        """Closes the client; later calls raise."""
    def __enter__(self) -> Client: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

@final
class Emulator:
    """A running emulator of the Wayfinder API on loopback. A context manager
    (sync and async); `stop()` ends it."""

    def __new__(
        cls,
        admin_token: str | None = None,
        users: list[str] | None = None,
        data: _Path | None = None,
        *,
        api_group_version: str | None = None,
        workspaces: Iterable[str] | None = None,
        known_roles: list[str] | None = None,
    ) -> Self: ...
    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:41234`."""
    @property
    def admin_token(self) -> str:
        """The admin's static token."""
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
    ) -> None:
        """Makes the next `times` requests under `path_prefix` misbehave."""
    def clear_faults(self) -> None:
        """Removes every injected fault."""
    def stats(self) -> dict[str, Any]:
        """`{"requests": {"METHOD /path": count}, "total": n}`."""
    def reset_stats(self) -> None:
        """Forgets the requests counted so far."""
    def stop(self) -> None:
        """Stops the server (idempotent)."""
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

def load_spec(path: str | os.PathLike[str]) -> TokenSpec:
    """Reads the spec at `path` and checks it: every problem (unknown keys,
    duplicates, a role of the wrong kind, a bad duration or SPEC) in one
    `ValidationError`, each with its line and column, before any request."""

def parse_spec(text: str, source: str = "<string>") -> TokenSpec:
    """A spec from `text` (YAML); `source` names it in errors."""

def spec_schema() -> str:
    """The spec's JSON Schema, for editors."""

def render_table(tokens: Iterable[AccessToken], headers: bool = True) -> str:
    """NAME, WORKSPACE, DESCRIPTION, CREATED columns, as the CLI prints them."""

def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Runs the CLI (`python -m wayfinder_tokens`); returns (exit code, stdout,
    stderr). Ctrl-C raises `KeyboardInterrupt` and cancels the request."""

def run_cli_stdio(argv: list[str]) -> int:
    """Runs the CLI (`python -m wayfinder_tokens`) on the process's own stdout
    and stderr, each secret written as soon as it exists and every write
    checked; returns the exit code. A first Ctrl-C interrupts (a request in
    flight stops; a batch rotation starts nothing new and writes what is in
    flight); a second raises `KeyboardInterrupt` at once."""

def cli_log_level(argv: list[str]) -> int:
    """The Python logging level the CLI flags ask for."""

def _reset_log_cache() -> None: ...
def run_emulator(argv: list[str]) -> int:
    """Runs the emulator command (`python -m wayfinder_tokens.testing`): the
    same flags and first line as `wayfinder-emulator`; returns the exit code."""

def _handoff(as_coroutine: bool) -> Awaitable[None]:
    """For the benchmarks: one asyncio ↔ tokio round trip that does no work,
    as a coroutine (what every async method returns) or as the bare
    `asyncio.Future` underneath it."""
