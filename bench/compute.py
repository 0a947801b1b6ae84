#!/usr/bin/python3
"""Compute benchmarks (issue: compute), each next to raw OpenSSH doing the same work over an open
ControlMaster connection in the same run:
  1. sustained job submissions per second at the same concurrency;
  2. listing jobs (squeue + sacct) with at least 1,000 jobs in accounting.
usage: site/site up && /usr/bin/python3 bench/compute.py [SECONDS] [CONCURRENCY]
Prints a Markdown report; docs/benchmarks.md keeps the latest one. Cancels the jobs it made."""
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import requests

from benchlib import SITE, Gateway, RawSsh, sustained, token

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
CONCURRENCY = int(sys.argv[2]) if len(sys.argv) > 2 else 8
SQUEUE_FORMAT = "%i\x1f%T\x1f%r\x1f%a\x1f%D\x1f%P\x1f%Q\x1f%u\x1f%g\x1f%N\x1f%S\x1f%e\x1f%M\x1f%l\x1f%Z\x1f%j"
SACCT_FORMAT = ("JobID,State,Reason,ExitCode,ElapsedRaw,Start,End,Suspended,TimelimitRaw,Account,NNodes,Cluster,"
                "Group,NodeList,Partition,Priority,UID,User,WorkDir,JobName")




def main():
    with tempfile.TemporaryDirectory() as work:
        gateways = {}
        for backend in ("slurm", "slurm_rest"):
            (pathlib.Path(work) / backend).mkdir()
            gateways[backend] = Gateway(pathlib.Path(work) / backend, env={"PORTICO_SCHEDULER": backend}).start()
        raw = RawSsh(work)
        session_local = __import__("threading").local()
        headers = {"Authorization": f"Bearer {token('alice')}"}
        body = {"job": {"workingDirectory": SITE["users"]["alice"]["scratch"], "account": "climate",
                        "script": "#!/bin/bash\ntrue\n", "standardOutput": "/dev/null"}}

        def portico_submit(gw):
            s = getattr(session_local, gw.url, None) or requests.Session()
            setattr(session_local, gw.url, s)
            return s.post(gw.url + "/compute/hpc/jobs", json=body, headers=headers, timeout=60).status_code == 201

        def raw_submit():
            r = raw.run(f"cd {SITE['users']['alice']['scratch']} && sbatch --parsable --account=climate --output=/dev/null --wrap=true")
            return r.returncode == 0

        def timed(fn, n=7):
            samples = []
            for _ in range(n):
                t = time.perf_counter()
                fn()
                samples.append(time.perf_counter() - t)
            return statistics.median(samples)

        rates, lists, listed = {}, {}, {}
        try:
            # Listing first, with at least 1,000 of alice's jobs recorded in accounting (the
            # issue's condition): after the submission phase thousands more would be in flight
            # between slurmctld and slurmdbd.
            def accounted():
                return int(raw.run("sacct -n -X --starttime=now-1days --format=JobID | wc -l").stdout.strip() or 0)
            for _ in range(max(0, 1000 - accounted())):
                raw.run("sbatch --parsable --account=climate --output=/dev/null --wrap=true")
            deadline = time.monotonic() + 300
            while accounted() < 1000 and time.monotonic() < deadline:
                time.sleep(2)
            count = accounted()
            listing = (f"env SLURM_TIME_FORMAT=%s squeue --noheader --states=all --format=$'{SQUEUE_FORMAT.replace(chr(31), chr(92) + 'x1f')}' --user=alice >/dev/null; "
                       f"env SLURM_TIME_FORMAT=%s sacct --noheader --parsable2 --delimiter=$'\\x1f' --format={SACCT_FORMAT} "
                       f"--starttime=now-1days --user=alice >/dev/null")
            raw_list = timed(lambda: raw.run(listing))
            # Portico runs the two at the same time: the limit for that is both at once.
            both_at_once = listing.replace(">/dev/null; ", ">/dev/null & ", 1) + "; wait"
            raw_parallel = timed(lambda: raw.run(both_at_once))
            for backend, gw in gateways.items():
                lists[backend] = timed(lambda: requests.get(gw.url + "/compute/hpc/jobs", headers=headers, timeout=120).raise_for_status())
                listed[backend] = len(requests.get(gw.url + "/compute/hpc/jobs", headers=headers, timeout=120).json()["jobs"])
            raw_rate = sustained(raw_submit, SECONDS, CONCURRENCY)
            for backend, gw in gateways.items():
                rates[backend] = sustained(lambda: portico_submit(gw), SECONDS, CONCURRENCY)
        finally:
            subprocess.run(["scancel", "--user=alice", "--state=PENDING"], capture_output=True)
            raw.close()
            for gw in gateways.values():
                gw.stop()

    print(f"## Compute: {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, {SECONDS}s per run, {CONCURRENCY} concurrent clients\n")
    print("| measure | portico | raw OpenSSH (ControlMaster) | ratio |")
    print("|---|---|---|---|")
    for backend in gateways:
        print(f"| job submissions per second, {backend} backend | {rates[backend]:.1f} | {raw_rate:.1f} | {rates[backend] / raw_rate:.2f}x |")
    for backend in gateways:
        print(f"| list jobs, {backend} backend ({listed[backend]} jobs returned, {count} in accounting) | "
              f"{lists[backend] * 1000:.0f} ms | {raw_list * 1000:.0f} ms | {lists[backend] / raw_list:.2f}x |")
    for backend in gateways:
        print(f"| list jobs, {backend} backend, against squeue and sacct at the same time | "
              f"{lists[backend] * 1000:.0f} ms | {raw_parallel * 1000:.0f} ms | {lists[backend] / raw_parallel:.2f}x |")


if __name__ == "__main__":
    main()
