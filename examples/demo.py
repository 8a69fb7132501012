"""`make demo`: start the embedded emulator, run both examples against it, stop it."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from wayfinder_tokens.testing import Emulator

HERE = Path(__file__).resolve().parent


def main() -> int:
    with tempfile.TemporaryDirectory() as home, Emulator() as emulator:
        print(f"==> started the embedded Wayfinder emulator at {emulator.url}", flush=True)
        env = dict(
            os.environ,
            WAYFINDER_SERVER=emulator.url,
            WAYFINDER_TOKEN=emulator.admin_token,
            WAYFINDER_WORKSPACE="dev",
            WAYFINDER_CONFIG=str(Path(home) / "config"),
        )
        for command in ([sys.executable, str(HERE / "create_token.py")], ["node", str(HERE / "create_token.mjs")]):
            print(f"==> {Path(command[0]).name} {Path(command[1]).relative_to(HERE.parent)}", flush=True)
            subprocess.run(command, env=env, check=True)
        print("==> stopping the emulator", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
