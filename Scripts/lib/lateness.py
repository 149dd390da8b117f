#!/usr/bin/env python3
"""lateness.py BEFORE AFTER ROUTE — from two /metrics scrapes of one daemon, the quantiles of
faultline_latency_release_lateness_seconds{route=ROUTE} over the observations between them.

Prints "p50_le_us P50 p99_le_us P99 count N": each quantile as the upper bound of the first
bucket that holds it (the histogram cannot say more), in µs; "inf" when it is in +Inf.
"""
import re
import sys

NAME = "faultline_latency_release_lateness_seconds_bucket"


def buckets(path, route):
    found = {}
    for line in open(path):
        if not line.startswith(NAME + "{"):
            continue
        labels, value = line.rsplit(" ", 1)
        pairs = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if pairs.get("route") != route:
            continue
        bound = float("inf") if pairs["le"] == "+Inf" else float(pairs["le"])
        found[bound] = found.get(bound, 0) + float(value)  # one series per worker shard is summed
    return found


def main():
    before, after, route = sys.argv[1:4]
    start, end = buckets(before, route), buckets(after, route)
    bounds = sorted(end)
    cumulative = [(b, end[b] - start.get(b, 0)) for b in bounds]
    total = cumulative[-1][1] if cumulative else 0
    out = []
    for name, q in (("p50_le_us", 0.5), ("p99_le_us", 0.99)):
        value = "NA"
        if total > 0:
            for bound, count in cumulative:
                if count >= q * total:
                    value = "inf" if bound == float("inf") else "{:g}".format(bound * 1e6)
                    break
        out += [name, value]
    out += ["count", "{:.0f}".format(total)]
    print(" ".join(out))


if __name__ == "__main__":
    main()
