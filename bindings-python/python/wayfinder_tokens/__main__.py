"""``python -m wayfinder_tokens``: the same CLI as ``npx wayfinder-tokens``."""

import logging
import signal
import sys
from typing import NoReturn

from wayfinder_tokens import _native


def main() -> int:
    argv = sys.argv[1:]
    logging.basicConfig(level=_native.cli_log_level(argv), format="%(levelname)s %(name)s: %(message)s")
    _native._reset_log_cache()
    received: list[int] = []

    def interrupt(signum: int, _frame: object) -> NoReturn:
        received.append(signum)
        raise KeyboardInterrupt

    # SIGTERM interrupts like Ctrl-C: a rotation in progress starts nothing new and
    # writes every secret already issued, instead of dying with them in memory.
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    try:
        code = _native.run_cli_stdio(argv)
    except KeyboardInterrupt:
        # A second signal: stopped at once.
        sys.stderr.write("interrupted\n")
        code = 130
    if code == 130 and received:
        return 128 + received[-1]
    return code


if __name__ == "__main__":
    sys.exit(main())
