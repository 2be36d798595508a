"""`make bench` / `make bench-smoke`: python -m bench [--smoke]."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bench import stack


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the clinic backend against its physical baselines.")
    parser.add_argument("--smoke", action="store_true", help="every benchmark at a tiny size, in seconds")
    parser.add_argument("--only", default="", help="comma-separated benchmarks to run, e.g. 4b,6 (default: all)")
    parser.add_argument("--scale", default="", help="S, M, L or all: the hot paths on years of history instead")
    args = parser.parse_args()
    scale_sizes = {"all": ["S", "M", "L"], "": []}.get(args.scale, [args.scale])
    if unknown_sizes := [size for size in scale_sizes if size not in ("tiny", "S", "M", "L")]:
        parser.error(f"unknown size {unknown_sizes[0]}; choose S, M, L or all")

    stack.prepare_environment()
    import django

    django.setup()
    from bench import benchmarks, billing, chart, console, dataset, exports, harness, reminders

    settings = benchmarks.SMOKE if args.smoke else benchmarks.FULL
    stack.migrate()
    print("generating the benchmark clinic ...", flush=True)
    data = dataset.build(patients=2000 if args.smoke else 6000)
    if scale_sizes:
        from bench import scale

        sizes = ["tiny"] if args.smoke else scale_sizes
        scale.run(data, sizes, repeats=3 if args.smoke else 40, warmup=2 if args.smoke else 5)
        return 0
    server = stack.Gunicorn(workers=4).start()
    client = stack.Client(server.port, data.token)
    levels: list[dict[str, object]] = []

    def load() -> harness.Result:
        result, found = benchmarks.load(server.port, data, settings)
        levels.extend(found)
        return result

    suite: dict[str, Callable[[], harness.Result]] = {
        "1": lambda: benchmarks.series_booking(client, data, settings),
        "2": load,
        "3": lambda: benchmarks.availability(client, data, settings),
        "4": lambda: benchmarks.appointment_list(client, data, settings),
        "4b": lambda: billing.invoice_list(client, data, settings),
        "5": lambda: reminders.run(data, count=200 if args.smoke else 10_000),
        "6": lambda: billing.receipts(data, count=100 if args.smoke else 10_000),
        "7": lambda: exports.run(data, lines=30_000 if args.smoke else 1_000_000),
        "8": lambda: console.day_board(data, settings),
    }
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(suite)
    if unknown := [name for name in chosen if name not in suite]:
        server.stop()
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(suite)}")
    try:
        results = [suite[name]() for name in chosen]
    finally:
        server.stop()
    path = harness.write(results, smoke=args.smoke, partial=bool(args.only), extra={"gunicorn_workers": server.workers})
    if levels and not args.smoke:
        chart.latency_vs_concurrency(levels)
    print()
    print(harness.table(results))
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
