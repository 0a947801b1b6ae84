#!/usr/bin/python3
"""Slow clients benchmark (issue 12): CONNECTIONS connections (default 2,000) that trickle their
headers or their bodies a byte at a time, or send pipelined requests and never read the replies
(a third each, tests/functional/slow.py), against a gateway with 10 s deadlines started with a
soft limit of 1,024 open files. Measures a normal client's latency (liveness on a new connection
each time, an authenticated userinfo on a keep-alive one) idle and while the slow connections are
all open, how many Portico held at once, how long until it had closed them all, and its memory.
usage: site/site up && /usr/bin/python3 bench/slow_clients.py [CONNECTIONS]
Prints a Markdown report (docs/benchmarks.md keeps the latest). PORTICO_BINARY picks the build."""
import pathlib
import statistics
import sys
import tempfile
import time

import requests

from benchlib import HIGH_RATE_LIMITS, Gateway, token
from slow import Slow, Trickle

CONNECTIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
DEADLINE = 10  # seconds: idle_timeout (headers) and request_timeout (body, writes)
SAMPLES = 100
LIMITS = f"limits:\n  idle_timeout: {DEADLINE}s\n  request_timeout: {DEADLINE}s\n"


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def status_kb(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def open_connections(gw):
    text = requests.get(gw.url + "/metrics", timeout=60).text
    return int(next(l for l in text.splitlines() if l.startswith("portico_http_open_connections ")).split()[1]) - 1


def main():
    with tempfile.TemporaryDirectory() as work:
        gw = Gateway(pathlib.Path(work), server_yaml=LIMITS, extra_yaml=HIGH_RATE_LIMITS,
                     command_prefix=["prlimit", "--nofile=1024:"]).start()
        try:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token('alice')}"

            def normal():
                live, info = [], []
                for _ in range(SAMPLES):
                    start = time.perf_counter()
                    assert requests.get(gw.url + "/status/liveness/", timeout=60).status_code == 200
                    live.append((time.perf_counter() - start) * 1000)
                    start = time.perf_counter()
                    r = session.get(gw.url + "/status/hpc/userinfo", timeout=60)
                    assert r.status_code == 200, r.text
                    info.append((time.perf_counter() - start) * 1000)
                return live, info

            normal()  # warm-up: the pooled SSH connection, the cached accounts
            idle = normal()
            rss_before = status_kb(gw.proc.pid, "VmRSS") / 1024

            kinds = ["header", "body", "reader"]
            opened = time.monotonic()
            conns = [Slow(gw, kinds[i % 3]) for i in range(CONNECTIONS)]
            open_seconds = time.monotonic() - opened
            trickle = Trickle(conns)
            try:
                start = time.perf_counter()
                held = open_connections(gw)  # the first request after them, while the readers' replies go out
                first = time.perf_counter() - start
                fds = len(list(pathlib.Path(f"/proc/{gw.proc.pid}/fd").iterdir()))
                loaded = normal()
                tricklers_closed = None
                while not (trickle.all_closed() and open_connections(gw) == 0):
                    assert time.monotonic() - opened < 20 * DEADLINE, "the slow connections were not all closed"
                    if tricklers_closed is None and trickle.all_closed():
                        tricklers_closed = time.monotonic() - opened
                    time.sleep(0.2)
                closed_after = time.monotonic() - opened
                tricklers_closed = tricklers_closed or closed_after
            finally:
                trickle.close()
            rss_peak = status_kb(gw.proc.pid, "VmHWM") / 1024
            limit = next(l for l in open(f"/proc/{gw.proc.pid}/limits") if l.startswith("Max open files")).split()[3]
            bodies = [c for c in conns if c.kind == "body"]
            answered = sum(c.received.startswith(b"HTTP/1.1 408") for c in bodies)
            document = len(requests.get(gw.url + "/openapi.json", timeout=60).content)
        finally:
            gw.stop()

    print(f"## Slow clients: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {CONNECTIONS} slow connections, "
          f"deadlines {DEADLINE} s, load average {open('/proc/loadavg').read().split()[0]}")
    print()
    print(f"Started with a soft limit of 1024 open files (raised by Portico to {limit}). {CONNECTIONS} connections "
          f"opened in {open_seconds:.1f} s, all held at once ({held} open, {fds} descriptors); each reader pipelines 100 "
          f"GET /openapi.json ({document} bytes each). The first request after them took {first:.1f} s (while the "
          f"readers' replies were written until their windows were full). The tricklers were all closed "
          f"{tricklers_closed:.1f} s after the first connection was opened ({answered} of the {len(bodies)} body "
          f"tricklers got their 408), the readers by {closed_after:.1f} s.")
    print()
    print(f"A normal client, {SAMPLES} calls of each, sequential:")
    print()
    print("| request | idle p50 | idle p99 | with the slow connections p50 | p99 |")
    print("|---|---|---|---|---|")
    for name, a, b in (("GET /status/liveness/ (new connection each)", idle[0], loaded[0]),
                       ("GET /status/hpc/userinfo (keep-alive)", idle[1], loaded[1])):
        print(f"| {name} | {statistics.median(a):.1f} ms | {percentile(a, 0.99):.1f} ms | "
              f"{statistics.median(b):.1f} ms | {percentile(b, 0.99):.1f} ms |")
    print()
    print(f"Portico's resident memory {rss_before:.1f} MB before, peak {rss_peak:.1f} MB.")


if __name__ == "__main__":
    main()
