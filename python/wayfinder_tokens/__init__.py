"""Create, reset, list, delete and grant roles to Wayfinder access tokens.

A thin layer over a Rust core: ``AsyncClient`` (awaitable methods) and
``Client`` (the same methods, blocking) share one runtime. Results render
themselves for CI (``to_env``, ``to_export``, ``to_github_actions``…) and
never show their secret in ``repr``.
"""

from wayfinder_tokens._native import (
    AccessRole,
    AccessToken,
    AlreadyExistsError,
    AsyncClient,
    AuthenticationError,
    BatchReport,
    Client,
    ConfigError,
    FieldError,
    Inventory,
    InventoryEntry,
    IssuedToken,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    Roles,
    RotationFailure,
    ServerError,
    TimeoutError,
    TransportError,
    ValidationError,
    WayfinderError,
    WhoAmI,
    __version__,
    render_table,
)

__all__ = [
    "AccessRole",
    "AccessToken",
    "AlreadyExistsError",
    "AsyncClient",
    "AuthenticationError",
    "BatchReport",
    "Client",
    "ConfigError",
    "FieldError",
    "Inventory",
    "InventoryEntry",
    "IssuedToken",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "Roles",
    "RotationFailure",
    "ServerError",
    "TimeoutError",
    "TransportError",
    "ValidationError",
    "WayfinderError",
    "WhoAmI",
    "__version__",
    "render_table",
]
