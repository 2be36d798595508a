"""Timing: warm up, then measure the subject and its baseline interleaved, so drift hits both alike."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Result:
    name: str
    workload: str
    median_ms: float | None
    p95_ms: float | None
    baseline: str = ""
    baseline_median_ms: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def interleaved(
    subject: Callable[[int], None],
    baseline: Callable[[int], None] | None,
    *,
    repeats: int,
    warmup: int,
    between: Callable[[int], None] | None = None,
) -> tuple[list[float], list[float]]:
    """Run ``subject(i)`` and ``baseline(i)`` alternately; ``between(i)`` (untimed) resets state.

    Returns the two lists of durations in milliseconds, warm-up runs left out.
    """
    subject_times: list[float] = []
    baseline_times: list[float] = []
    for index in range(warmup + repeats):
        for run, sink in ((subject, subject_times), (baseline, baseline_times)):
            if run is None:
                continue
            started = time.perf_counter()
            run(index)
            elapsed = (time.perf_counter() - started) * 1000
            if between is not None:
                between(index)
            if index >= warmup:
                sink.append(elapsed)
    return subject_times, baseline_times


def summarise(
    name: str,
    workload: str,
    subject: list[float],
    baseline: list[float] | None = None,
    *,
    baseline_label: str = "",
    target: str = "",
    met: Callable[[float, float, float | None], bool] | None = None,
    **extra: Any,
) -> Result:
    median = statistics.median(subject)
    p95 = percentile(subject, 0.95)
    base = statistics.median(baseline) if baseline else None
    ratio = median / base if base else None
    return Result(
        name=name, workload=workload, median_ms=round(median, 3), p95_ms=round(p95, 3), baseline=baseline_label,
        baseline_median_ms=round(base, 3) if base is not None else None,
        ratio=round(ratio, 3) if ratio is not None else None, target=target,
        met=met(median, p95, ratio) if met else None, extra=extra,
    )  # fmt: skip


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory_gb, "python": platform.python_version(),
        "platform": platform.platform(), "commit": commit.stdout.strip(),
    }  # fmt: skip


def write(results: list[Result], *, smoke: bool, extra: dict[str, Any], partial: bool = False) -> Path:
    """bench/results/latest.json for a full run; smoke.json, or partial.json for ``--only``, otherwise."""
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / ("partial.json" if partial else "smoke.json" if smoke else "latest.json")
    payload = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "smoke": smoke,
        "machine": {**machine(), **extra},
        "benchmarks": [asdict(result) for result in results],
    }
    target.write_text(json.dumps(payload, indent=2) + "\n")
    return target


def table(results: list[Result]) -> str:
    header = f"{'benchmark':<34} {'workload':<44} {'median':>9} {'p95':>9} {'baseline':>9} {'ratio':>7}  target / met"
    lines = [header, "-" * len(header)]
    for r in results:

        def ms(value: float | None) -> str:
            return f"{value:.1f}ms" if value is not None else "-"

        met = {True: "met", False: "MISSED", None: ""}[r.met]
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        lines.append(
            f"{r.name:<34} {r.workload[:44]:<44} {ms(r.median_ms):>9} {ms(r.p95_ms):>9} "
            f"{ms(r.baseline_median_ms):>9} {ratio:>7}  {r.target} {met}{(' - ' + r.note) if r.note else ''}"
        )
    return "\n".join(lines)
