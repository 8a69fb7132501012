"""``python -m wayfinder_tokens``: the same CLI as ``npx wayfinder-tokens``."""

import logging
import sys

from wayfinder_tokens import _native


def main() -> int:
    argv = sys.argv[1:]
    logging.basicConfig(level=_native.cli_log_level(argv), format="%(levelname)s %(name)s: %(message)s")
    _native._reset_log_cache()
    try:
        code, out, err = _native.run_cli(argv)
    except KeyboardInterrupt:
        # The request was cancelled; exit as a shell expects after Ctrl-C.
        sys.stderr.write("interrupted\n")
        return 130
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


if __name__ == "__main__":
    sys.exit(main())
