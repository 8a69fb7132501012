"""Create, reset, list, delete and grant roles to Wayfinder access tokens.

A thin layer over a Rust core: ``AsyncClient`` (awaitable methods) and
``Client`` (the same methods, blocking) share one runtime. Results render
themselves for CI (``to_env``, ``to_export``, ``export_to_github_actions``…) and
never show their secret in ``repr``.
"""


def _refuse_subinterpreters() -> None:
    """The native module holds one runtime for the process and is not built for
    subinterpreters: CPython would hand them a copy of the main interpreter's module,
    and destroying one breaks the main interpreter's clients. Refused before it loads."""
    import importlib

    for name in ("_interpreters", "_xxsubinterpreters"):
        try:
            interpreters = importlib.import_module(name)
            current, main = interpreters.get_current(), interpreters.get_main()
        except Exception:  # noqa: BLE001 (private modules: absent or changed, nothing to check)
            continue
        if current != main:
            raise ImportError(
                "wayfinder_tokens cannot be imported in a subinterpreter; "
                "use it from the main interpreter (a thread or process pool works)"
            )
        return


_refuse_subinterpreters()

from wayfinder_tokens import _native, _present  # noqa: E402, I001 (the presentation attaches to the native classes)
from wayfinder_tokens._present import AccessTokens  # noqa: E402
from wayfinder_tokens._native import (  # noqa: E402 (after the subinterpreter check)
    AccessRole,
    AccessToken,
    AlreadyExistsError,
    ApplyReport,
    AsyncClient,
    AuthenticationError,
    BatchReport,
    Client,
    ConfigError,
    DeliveryReport,
    FieldError,
    Inventory,
    InventoryEntry,
    IssuedToken,
    NotFoundError,
    PendingDelivery,
    PermissionDeniedError,
    Plan,
    RateLimitedError,
    Roles,
    RotationDue,
    RotationFailure,
    ServerError,
    TimeoutError,
    TokenSpec,
    TransportError,
    ValidationError,
    WayfinderError,
    WhoAmI,
    __version__,
    load_spec,
    parse_spec,
    render_table,
    spec_schema,
)

_present.install(_native)

from wayfinder_tokens import destinations  # noqa: E402

__all__ = [
    "destinations",
    "AccessRole",
    "AccessToken",
    "AccessTokens",
    "AlreadyExistsError",
    "ApplyReport",
    "AsyncClient",
    "AuthenticationError",
    "BatchReport",
    "Client",
    "ConfigError",
    "DeliveryReport",
    "FieldError",
    "Inventory",
    "InventoryEntry",
    "IssuedToken",
    "NotFoundError",
    "PendingDelivery",
    "PermissionDeniedError",
    "Plan",
    "RateLimitedError",
    "Roles",
    "RotationDue",
    "RotationFailure",
    "ServerError",
    "TimeoutError",
    "TokenSpec",
    "TransportError",
    "ValidationError",
    "WayfinderError",
    "WhoAmI",
    "__version__",
    "load_spec",
    "parse_spec",
    "render_table",
    "spec_schema",
]
