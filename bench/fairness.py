#!/usr/bin/python3
"""Fairness benchmark (issue 12): bob's GET ops/ls latency (p50, p99) idle, then while alice runs
CHECKSUMS (default 200) concurrent GET ops/checksum of a SIZE_MIB (default 256) MiB file in her
scratch; the ratio. Each user's SSH channels are bounded by the pool (ssh.max_sessions_per_connection
x ssh.max_connections_per_user), so alice's flood cannot take bob's channels; what is left to
slow bob is the machine. To tell the two apart, the same `ls` run by raw OpenSSH as bob over an
open ControlMaster connection is measured alternately with Portico's in both phases, each of bob's
requests' audit line splits its time into the command on the cluster and the rest (the gateway's),
and the machine's and the gateway's CPU use are read from /proc during the load.
Runs twice: with the demo site's pool (64 x 8 = 512 channels a user, so all of alice's checksums
run at once) and with Portico's default pool (10 x 4 = 40).
usage: site/site up && /usr/bin/python3 bench/fairness.py [CHECKSUMS] [SIZE_MIB]
Prints a Markdown report (docs/benchmarks.md keeps the latest). PORTICO_BINARY picks the build."""
import concurrent.futures
import json
import os
import pathlib
import shlex
import statistics
import sys
import tempfile
import threading
import time
import uuid

import requests

from benchlib import HIGH_RATE_LIMITS, LS, SITE, Gateway, RawSsh, token

CHECKSUMS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
SIZE_MIB = int(sys.argv[2]) if len(sys.argv) > 2 else 256
IDLE_SAMPLES = 50
BOB_DIR = "/home/bob"
POOLS = {"demo site (64 x 8)": (64, 8), "Portico's default (10 x 4)": (10, 4)}
TICK = os.sysconf("SC_CLK_TCK")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def machine_busy():
    """(busy, total) jiffies of all CPUs."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def process_cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime, seconds


def run_queue_wait(pid):
    """Seconds the process's threads have waited for a CPU (schedstat's second field)."""
    return sum(int((t / "schedstat").read_text().split()[1]) for t in pathlib.Path(f"/proc/{pid}/task").iterdir()) / 1e9


def run_pool(work, name, sessions, connections, raw_bob, big):
    gw = Gateway(work, env={"PORTICO_COMMAND_TIMEOUT": "900s"}, extra_yaml=HIGH_RATE_LIMITS)
    text = gw.config.read_text()
    text = text.replace("max_sessions_per_connection: 64", f"max_sessions_per_connection: {sessions}")
    text = text.replace("max_connections_per_user: 8", f"max_connections_per_user: {connections}")
    gw.config.write_text(text)
    gw.start()
    try:
        bob = requests.Session()
        bob.headers["Authorization"] = f"Bearer {token('bob')}"
        alice_auth = {"Authorization": f"Bearer {token('alice')}"}
        command = " ".join(shlex.quote(w) for w in LS + [BOB_DIR])
        ids = []

        def portico():
            rid = f"fair-{uuid.uuid4().hex}"
            start = time.perf_counter()
            r = bob.get(gw.url + "/filesystem/hpc/ops/ls", params={"path": BOB_DIR}, headers={"X-Request-ID": rid},
                        timeout=900)
            assert r.status_code == 200, r.text
            ids.append(rid)
            return (time.perf_counter() - start) * 1000

        def raw():
            start = time.perf_counter()
            assert raw_bob.run(command).returncode == 0
            return (time.perf_counter() - start) * 1000

        def sample(until):
            p, s, mark = [], [], len(ids)
            while not until(len(p)):
                p.append(portico())
                s.append(raw())
            return p, s, ids[mark:]

        for _ in range(3):
            portico()
            raw()
        idle = sample(lambda n: n >= IDLE_SAMPLES)

        # The load: every checksum sent at once, each on its own connection.
        done = threading.Event()
        results = []

        def checksum(_):
            start = time.perf_counter()
            r = requests.get(gw.url + "/filesystem/hpc/ops/checksum", params={"path": big}, headers=alice_auth,
                             timeout=900)
            results.append((r.status_code, time.perf_counter() - start))

        pool = concurrent.futures.ThreadPoolExecutor(CHECKSUMS)
        futures = [pool.submit(checksum, i) for i in range(CHECKSUMS)]
        threading.Thread(target=lambda: (concurrent.futures.wait(futures), done.set()), daemon=True).start()
        busy0, total0 = machine_busy()
        cpu0, wait0, t0 = process_cpu(gw.proc.pid), run_queue_wait(gw.proc.pid), time.monotonic()
        loaded = sample(lambda n: done.is_set() and n >= 10)
        busy1, total1 = machine_busy()
        cpu1, wait1, t1 = process_cpu(gw.proc.pid), run_queue_wait(gw.proc.pid), time.monotonic()
        load_average = open("/proc/loadavg").read().split()[0]
        pool.shutdown()
    finally:
        gw.stop()

    audit = {}
    for line in gw.log_lines():
        if line.startswith("{") and '"fair-' in line:
            a = json.loads(line)
            audit[a["request_id"]] = (a["latency_ms"], sum(c["ms"] for c in a["backend"]))

    def gateway_share(rids):
        return [audit[r][0] - audit[r][1] for r in rids if r in audit]

    return {
        "name": name, "idle": idle, "loaded": loaded,
        "checksums_ok": sum(1 for s, _ in results if s == 200), "checksum_s": [d for _, d in results],
        "machine_busy": (busy1 - busy0) / max(1, total1 - total0),
        "gateway_cpu": (cpu1 - cpu0) / (t1 - t0), "load_seconds": t1 - t0, "load_average": load_average,
        "gateway_waited": wait1 - wait0,
        "gateway_idle": gateway_share(idle[2]), "gateway_loaded": gateway_share(loaded[2]),
        "command_idle": [audit[r][1] for r in idle[2] if r in audit],
        "command_loaded": [audit[r][1] for r in loaded[2] if r in audit],
    }


def row(label, idle, loaded):
    i50, i99, l50, l99 = statistics.median(idle), percentile(idle, 0.99), statistics.median(loaded), percentile(loaded, 0.99)
    return f"| {label} | {i50:.1f} ms | {i99:.1f} ms | {l50:.1f} ms | {l99:.1f} ms | {l50 / i50:.1f}x | {l99 / i99:.1f}x |"


def main():
    load_before = open("/proc/loadavg").read().split()[0]
    with tempfile.TemporaryDirectory() as work:
        work = pathlib.Path(work)
        raw_alice = RawSsh(work, "alice")
        raw_bob = RawSsh(work, "bob")
        big = f"{SITE['users']['alice']['scratch']}/fairness-{uuid.uuid4().hex[:8]}.bin"
        r = raw_alice.run(f"head -c {SIZE_MIB}M /dev/urandom > {big}")
        assert r.returncode == 0, r.stderr
        runs = []
        try:
            for name, (sessions, connections) in POOLS.items():
                (work / str(sessions)).mkdir()
                runs.append(run_pool(work / str(sessions), name, sessions, connections, raw_bob, big))
        finally:
            raw_alice.run(f"rm -f {big}")
            raw_alice.close()
            raw_bob.close()

    print(f"## Fairness: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} CPUs, "
          f"load average before {load_before}")
    print()
    print(f"bob's GET ops/ls of {BOB_DIR} (sequential, alternating with raw OpenSSH as bob running the same `ls` "
          f"over an open ControlMaster connection), idle ({IDLE_SAMPLES} calls each) and while alice runs {CHECKSUMS} "
          f"concurrent GET ops/checksum of a {SIZE_MIB} MiB file (bob's calls continue until every checksum is done).")
    for run in runs:
        print()
        print(f"### Pool: {run['name']}")
        print()
        print("| bob's `ls` | idle p50 | idle p99 | under load p50 | p99 | ratio p50 | ratio p99 |")
        print("|---|---|---|---|---|---|---|")
        print(row("Portico GET ops/ls", run["idle"][0], run["loaded"][0]))
        print(row("raw `ssh` + the same `ls`", run["idle"][1], run["loaded"][1]))
        print(row("the command on the cluster (audit line)", run["command_idle"], run["command_loaded"]))
        print(row("the rest: Portico's own time (audit line)", run["gateway_idle"], run["gateway_loaded"]))
        print()
        cs = run["checksum_s"]
        print(f"alice: {run['checksums_ok']}/{CHECKSUMS} checksums answered 200, each {statistics.median(cs):.0f} s "
              f"median, {max(cs):.0f} s the last; during the {run['load_seconds']:.0f} s of load the machine's CPUs were "
              f"{100 * run['machine_busy']:.0f}% busy (load average {run['load_average']} at its end), Portico used "
              f"{100 * run['gateway_cpu']:.1f}% of one CPU and its threads waited {run['gateway_waited']:.1f} s in all "
              f"for a CPU; {len(run['loaded'][0])} calls of bob's each.")


if __name__ == "__main__":
    main()
