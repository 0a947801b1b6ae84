#!/usr/bin/python3
"""ls benchmark (issue: filesystem ops): GET /filesystem/{system}/ops/ls of a directory with 5,300
entries through Portico, next to raw OpenSSH running the same `ls` as the same user over an open
ControlMaster connection, in the same run, on the same machine.
usage: site/site up && /usr/bin/python3 bench/ls.py [REPETITIONS]
Each side is measured REPETITIONS times (default 50), the two sides alternating call by call, after
3 unmeasured warm-up calls each; prints median and p90 as a Markdown report (docs/benchmarks.md keeps the latest).
PORTICO_BINARY picks the build (default build/portico)."""
import pathlib
import shlex
import statistics
import sys
import tempfile
import time
import uuid

import requests

from benchlib import LISTING_ENTRIES, LS, SITE, Gateway, RawSsh, make_listing_dir, token

REPETITIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 50
ENTRIES = LISTING_ENTRIES


def measure(*fns):
    """Median and p90 in ms of each fn. The calls alternate (a, b, a, b, ...), so both sides see the
    same machine load (the machine is shared; a phase-by-phase run compares two different loads)."""
    for _ in range(3):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for _ in range(REPETITIONS):
        for fn, out in zip(fns, times):
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1000)
    result = []
    for t in times:
        t.sort()
        result += [statistics.median(t), t[min(len(t) - 1, int(round(0.9 * (len(t) - 1))))]]
    return result


def main():
    with tempfile.TemporaryDirectory() as work:
        raw = RawSsh(work)
        directory = f"{SITE['users']['alice']['scratch']}/bench-ls-{uuid.uuid4().hex[:8]}"
        make_listing_dir(raw, directory)
        gw = Gateway(pathlib.Path(work)).start()
        try:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token('alice')}"
            url = gw.url + "/filesystem/hpc/ops/ls"

            first = session.get(url, params={"path": directory}, timeout=60)
            assert first.status_code == 200 and len(first.json()["output"]) == ENTRIES, first.text[:300]

            def portico():  # the reply's bytes are read, not decoded: raw ssh's output is not parsed either
                reply = session.get(url, params={"path": directory}, timeout=60)
                assert reply.status_code == 200 and len(reply.content) == len(first.content)

            command = " ".join(shlex.quote(w) for w in LS + [directory])

            def openssh():
                out = raw.run(command, text=False)
                assert out.returncode == 0 and out.stdout.count(b"\n") == ENTRIES + 1

            size = len(raw.run(command, text=False).stdout)
            p_median, p_p90, r_median, r_p90 = measure(portico, openssh)
            reply_bytes = len(first.content)
        finally:
            gw.stop()
            raw.run(f"rm -rf {directory}", text=False)
            raw.close()

    print(f"## ls of {ENTRIES} entries: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
          f"{REPETITIONS} calls each, alternating, after 3 warm-up calls; "
          f"load average {open('/proc/loadavg').read().split()[0]}")
    print()
    print(f"ls output {size} bytes; Portico's JSON reply {reply_bytes} bytes.")
    print()
    print("| path | median | p90 |")
    print("|---|---|---|")
    print(f"| Portico GET ops/ls (HTTP keep-alive) | {p_median:.1f} ms | {p_p90:.1f} ms |")
    print(f"| raw `ssh` + same `ls -l` over ControlMaster | {r_median:.1f} ms | {r_p90:.1f} ms |")
    print()
    print(f"Portico / raw: median {p_median / r_median:.2f}x, p90 {p_p90 / r_p90:.2f}x (target: within 1.3x)")


if __name__ == "__main__":
    main()
