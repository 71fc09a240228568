"""``dfx bench [NAME ...] --out DIR``: run registered benchmarks, print their figures and write
``DIR/NAME.json`` for each (and ``DIR/NAME.png`` for those that draw a chart)."""

import json
from pathlib import Path

from ..bench import BENCHMARKS, chart_of, get_benchmark


def _bench(args):
    names = args.names or list(BENCHMARKS)
    runs = [(name, get_benchmark(name)) for name in names]  # unknown names fail before any run
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, run in runs:
        print(f"== {name}", flush=True)
        figures = run(quick=args.quick)
        for line in figures.get("summary", []):
            print(line, flush=True)
        path = out / f"{name}.json"
        path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")
        chart = chart_of(run)
        if chart is not None:
            png = out / f"{name}.png"
            chart(figures, png)
            print(f"wrote {png}")
    return 0


def register(subparsers):
    parser = subparsers.add_parser("bench", help="run benchmarks, write JSON figures")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    parser.add_argument("--out", default="build/bench", help="directory for NAME.json")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes only (a smoke run, e.g. for tests)")
    parser.set_defaults(func=_bench)
