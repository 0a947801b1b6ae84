#!/usr/bin/python3
"""IRI filesystem tasks benchmark (issue: IRI part 2).
1. A task round trip: submit `ls` of a 5,300-entry directory (GET /api/v1/filesystem/ls/{id}),
   poll GET /api/v1/task/{id} until it has ended, read the result; next to FirecREST's synchronous
   GET ops/ls of the same directory, calls alternating, in the same run.
2. 1,000 tasks from 100 concurrent clients (10 each: submit, poll until ended): errors, wall time,
   Portico's resident memory before and after.
usage: site/site up && /usr/bin/python3 bench/tasks.py [REPETITIONS]
Prints a Markdown report (docs/benchmarks.md keeps the latest). PORTICO_BINARY picks the build."""
import concurrent.futures
import pathlib
import statistics
import sys
import tempfile
import time
import uuid

import requests

from benchlib import HIGH_RATE_LIMITS, LISTING_ENTRIES, SITE, Gateway, RawSsh, make_listing_dir, token

REPETITIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
ENTRIES = LISTING_ENTRIES
CLIENTS, PER_CLIENT = 100, 10
POLL = 0.005  # seconds between polls of a task that has not ended


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main():
    with tempfile.TemporaryDirectory() as work:
        raw = RawSsh(work)
        directory = f"{SITE['users']['alice']['scratch']}/bench-tasks-{uuid.uuid4().hex[:8]}"
        make_listing_dir(raw, directory)
        gw = Gateway(pathlib.Path(work), extra_yaml="tasks:\n  per_user: 16\n" + HIGH_RATE_LIMITS).start()
        try:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token('alice')}"
            base = gw.url + "/api/v1"
            resource = next(x["id"] for x in session.get(base + "/filesystem/resources", timeout=30).json()
                            if x["name"] == "hpc:/scratch")

            def task_round_trip(s=session):
                r = s.get(f"{base}/filesystem/ls/{resource}", params={"path": directory}, timeout=60)
                assert r.status_code == 200, r.text
                task_id = r.json()["task_id"]
                while True:
                    t = s.get(f"{base}/task/{task_id}", timeout=60)
                    assert t.status_code == 200, t.text
                    body = t.json()
                    if body["status"] in ("completed", "failed", "canceled"):
                        return body
                    time.sleep(POLL)

            def task():
                body = task_round_trip()
                assert body["status"] == "completed" and len(body["result"]["output"]) == ENTRIES

            def firecrest():
                r = session.get(gw.url + "/filesystem/hpc/ops/ls", params={"path": directory}, timeout=60)
                assert r.status_code == 200 and len(r.json()["output"]) == ENTRIES

            for _ in range(3):
                task()
                firecrest()
            times = {"task": [], "firecrest": []}
            for _ in range(REPETITIONS):
                for name, fn in (("task", task), ("firecrest", firecrest)):
                    start = time.perf_counter()
                    fn()
                    times[name].append((time.perf_counter() - start) * 1000)

            # 1,000 concurrent tasks: a small ls each (the directory's parent), 100 clients.
            small = SITE["users"]["alice"]["scratch"]
            rss_before = rss_mb(gw.proc.pid)
            errors = []

            def client(_):
                s = requests.Session()
                s.headers["Authorization"] = session.headers["Authorization"]
                for _ in range(PER_CLIENT):
                    try:
                        r = s.get(f"{base}/filesystem/stat/{resource}", params={"path": small}, timeout=120)
                        if r.status_code != 200:
                            errors.append(r.status_code)
                            continue
                        task_id = r.json()["task_id"]
                        while True:
                            t = s.get(f"{base}/task/{task_id}", timeout=120).json()
                            if t["status"] in ("completed", "failed", "canceled"):
                                break
                            time.sleep(0.02)
                        if t["status"] != "completed":
                            errors.append(t["status"])
                    except requests.RequestException as e:
                        errors.append(type(e).__name__)

            start = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(client, range(CLIENTS)))
            wall = time.perf_counter() - start
            rss_after = rss_mb(gw.proc.pid)
        finally:
            gw.stop()
            raw.run(f"rm -rf {directory}", text=False)
            raw.close()

    t, f = times["task"], times["firecrest"]
    print(f"## IRI filesystem tasks: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load average "
          f"{open('/proc/loadavg').read().split()[0]}")
    print()
    print(f"Round trip of `ls` of {ENTRIES} entries, {REPETITIONS} calls each, alternating, after 3 warm-up calls "
          f"(a task is polled every {POLL * 1000:.0f} ms until it has ended):")
    print()
    print("| path | median | p90 |")
    print("|---|---|---|")
    print(f"| IRI task: submit, poll, read the result | {statistics.median(t):.1f} ms | {percentile(t, 0.9):.1f} ms |")
    print(f"| FirecREST GET ops/ls | {statistics.median(f):.1f} ms | {percentile(f, 0.9):.1f} ms |")
    print()
    print(f"task / FirecREST: median {statistics.median(t) / statistics.median(f):.2f}x (target: within 1.3x)")
    print()
    print(f"{CLIENTS * PER_CLIENT} `stat` tasks from {CLIENTS} concurrent clients ({PER_CLIENT} each, polled every "
          f"20 ms): {wall:.1f} s, {len(errors)} errors{(' ' + str(sorted(set(map(str, errors))))) if errors else ''}; "
          f"Portico's resident memory {rss_before:.1f} MB before, {rss_after:.1f} MB after.")


if __name__ == "__main__":
    main()
