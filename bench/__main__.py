"""`make bench` / `make bench-smoke`: python -m bench [--smoke]."""

from __future__ import annotations

import argparse
import sys

from bench import stack


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the clinic backend against its physical baselines.")
    parser.add_argument("--smoke", action="store_true", help="every benchmark at a tiny size, in seconds")
    args = parser.parse_args()

    stack.prepare_environment()
    import django

    django.setup()
    from bench import benchmarks, billing, chart, dataset, exports, harness, reminders

    settings = benchmarks.SMOKE if args.smoke else benchmarks.FULL
    stack.migrate()
    print("generating the benchmark clinic ...", flush=True)
    data = dataset.build(patients=2000 if args.smoke else 6000)
    server = stack.Gunicorn(workers=4).start()
    try:
        client = stack.Client(server.port, data.token)
        results = [benchmarks.series_booking(client, data, settings)]
        load_result, levels = benchmarks.load(server.port, data, settings)
        results += [
            load_result,
            benchmarks.availability(client, data, settings),
            benchmarks.appointment_list(client, data, settings),
            billing.invoice_list(client, data, settings.repeats, settings.warmup),
            reminders.run(data, count=200 if args.smoke else 10_000),
            billing.receipts(data, count=100 if args.smoke else 10_000),
            exports.run(data, lines=30_000 if args.smoke else 1_000_000),
        ]
    finally:
        server.stop()
    path = harness.write(results, smoke=args.smoke, extra={"gunicorn_workers": server.workers})
    if not args.smoke:
        chart.latency_vs_concurrency(levels)
    print()
    print(harness.table(results))
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
