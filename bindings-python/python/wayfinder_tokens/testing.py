"""Test helpers: an embedded Wayfinder emulator on loopback.

with Emulator(users=["alice:secret@dev"]) as emulator:
    client = Client(server=emulator.url, token=emulator.admin_token, workspace="dev")

``python -m wayfinder_tokens.testing [--listen ADDR] [--admin-token T] [--user NAME:PW@WS,...]``
runs it as a command beside your own tests, with the same flags and first line
(``listening on URL admin-token=T``) as the ``wayfinder-emulator`` binary.
"""

import sys

from wayfinder_tokens._native import Emulator, run_emulator

__all__ = ["Emulator", "main"]


def main() -> int:
    """Runs the emulator until Ctrl-C or SIGTERM; returns the exit code."""
    try:
        return run_emulator(sys.argv[1:])
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
