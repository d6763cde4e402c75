"""How fast the daily check-in reader is: one-time costs, then replies per second.

Run from the repository root: ``python benchmarks/checkin_parse.py [--seconds 3]``.

It times, in a fresh process: compiling the lexicon (first reply), loading jieba's dictionary with
the health and place words (once per process), then parsing every reply of
``tests/data/checkin_replies.tsv`` over and over, single-threaded, for about ``--seconds`` seconds,
and prints replies per second and the per-reply latency percentiles.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "tests" / "data" / "checkin_replies.tsv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to parse for (default 3)")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from dialogs import checkin_text
    from dialogs.parsing.errors import ParseError

    with TABLE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    replies = [row[0] for row in rows if row]

    def parse(text: str) -> None:
        try:
            checkin_text.parse_checkin(text)
        except ParseError:
            pass

    started = time.perf_counter()
    parse("36.5 正常 在家")  # compiles the lexicon; needs no jieba
    first = time.perf_counter() - started
    assert checkin_text.dictionary_load_seconds() is None, "jieba should load only when needed"
    load = checkin_text.load_dictionary()

    for text in replies:  # warm up
        parse(text)
    rounds, latencies = 0, []
    clock = time.perf_counter
    deadline = clock() + args.seconds
    started = clock()
    while clock() < deadline:
        for text in replies:
            t0 = clock()
            parse(text)
            latencies.append(clock() - t0)
        rounds += 1
    elapsed = clock() - started
    parsed = rounds * len(replies)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1e6

    print(f"replies in the table:         {len(replies)}")
    print(f"first reply (lexicon compile): {first * 1000:.1f} ms")
    print(f"jieba dictionary load (once):  {load:.2f} s")
    print(f"parsed:                        {parsed} replies in {elapsed:.2f} s ({rounds} rounds)")
    print(f"throughput:                    {parsed / elapsed:,.0f} replies/s (one thread)")
    print(f"latency per reply:             mean {statistics.fmean(latencies) * 1e6:.0f} µs, "
          f"p50 {pct(0.50):.0f} µs, p99 {pct(0.99):.0f} µs, max {latencies[-1] * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
