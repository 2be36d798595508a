"""The latency-vs-concurrency chart of benchmark 2, for docs/performance.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHART = Path(__file__).resolve().parent.parent / "docs" / "performance-load.png"


def latency_vs_concurrency(levels: list[dict[str, Any]], target: Path = CHART) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clients = [level["clients"] for level in levels]
    figure, latency_axis = plt.subplots(figsize=(7, 4), dpi=110)
    for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99")):
        latency_axis.plot(clients, [level[key] for level in levels], marker="o", label=f"{label} latency")
    latency_axis.set_xlabel("concurrent clients")
    latency_axis.set_ylabel("latency (ms)")
    latency_axis.set_xscale("log", base=2)
    latency_axis.set_xticks(clients, [str(c) for c in clients])
    throughput_axis = latency_axis.twinx()
    throughput_axis.plot(clients, [level["throughput_rps"] for level in levels], color="grey", linestyle="--",
                         marker="s", label="throughput")  # fmt: skip
    throughput_axis.set_ylabel("requests per second")
    lines = latency_axis.get_legend_handles_labels()
    more = throughput_axis.get_legend_handles_labels()
    latency_axis.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize=8)
    latency_axis.set_title("Booking load: 75% availability searches, 25% series bookings")
    figure.tight_layout()
    figure.savefig(target)
    plt.close(figure)
    return target
