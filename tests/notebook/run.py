"""Executes a notebook headless (as `make test` does) and fails if any cell fails.

Secrets must not reach the notebook's outputs: every output is checked for
anything that looks like a JWT.
"""

import re
import sys

import nbclient
import nbformat

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.")


def main(path: str) -> int:
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = [str(output) for cell in notebook.cells for output in cell.get("outputs", [])]
    leaked = [o for o in outputs if JWT.search(o)]
    if leaked:
        print(f"{path}: a token-like value reached the outputs", file=sys.stderr)
        return 1
    print(f"{path}: {len(notebook.cells)} cells ran, {len(outputs)} outputs, no secret shown")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
