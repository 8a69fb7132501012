"""Draws benchmarks/chart.svg from results.json: creates/s and CPU per create for
every peer, HTTP and HTTPS side by side, the raw reqwest floor (multi-thread runtime) marked.

    python benchmarks/chart.py [results.json] [chart.svg]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
LIBRARIES = {"rust_core", "node_lib", "python_lib", "python_blocking"}
COLORS = {"http": "#4878a8", "https": "#e08a3c"}


def draw(results: dict[str, Any], out: Path) -> None:
    # Reproducible output: the same results draw the same file.
    plt.rcParams["svg.hashsalt"] = "wayfinder-tokens"
    plt.rcParams["svg.fonttype"] = "none"
    peers = list(results["bulk_create_per_s"])
    figure, (rate, cpu) = plt.subplots(1, 2, figsize=(13, 5.5), layout="constrained")
    panels = (
        (rate, "bulk_create_per_s", "creates/s (higher is better)"),
        (cpu, "cpu_us_per_create", "client CPU µs per create, log scale (lower is better)"),
    )
    for axis, key, title in panels:
        width = 0.38
        for offset, (transport, figures) in enumerate((("http", results), ("https", results["tls"]))):
            values = [figures[key][p] for p in peers]
            positions = [i + (offset - 0.5) * width for i in range(len(peers))]
            bars = axis.barh(positions, values, height=width, color=COLORS[transport], label=transport.upper())
            axis.bar_label(bars, fmt="%.0f", padding=2, fontsize=7)
            floor = figures[key]["rust_raw"]
            axis.axvline(floor, color=COLORS[transport], linestyle="--", linewidth=1)
        axis.set_yticks(range(len(peers)), [f"{p} ★" if p in LIBRARIES else p for p in peers], fontsize=8)
        axis.invert_yaxis()
        axis.set_title(title, fontsize=10)
        axis.margins(x=0.15)
        axis.grid(axis="x", alpha=0.3)
    # httpx's CPU is 30x the libraries': a log scale keeps the small bars readable.
    cpu.set_xscale("log")
    # Below the panel, where it hides no bar.
    rate.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.06),
        ncols=2,
        fontsize=8,
        title="dashed: raw reqwest, multi-thread runtime (the floor)",
        title_fontsize=7,
    )
    figure.suptitle(
        f"wayfinder-tokens {results['commit']}: {results['counts']['bulk']} creates at concurrency 32 "
        f"after {results['counts'].get('warmup', 0)} to warm up, "
        f"{results['cores']} cores, median (rate) and mean (CPU) of {results['counts']['rounds']} rounds; "
        "★ this project",
        fontsize=10,
    )
    if out.suffix == ".svg":
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    else:
        figure.savefig(out)
    plt.close(figure)


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results.json"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / "chart.svg"
    draw(json.loads(source.read_text()), target)
    print(f"wrote {target}")
