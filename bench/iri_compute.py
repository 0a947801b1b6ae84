#!/usr/bin/python3
"""IRI launchJob benchmark (issue 11): sustained PSI/J submissions per second through Portico's
IRI compute API (v2, both Slurm backends), next to raw `sbatch` over an open ControlMaster
connection in the same run, at the same concurrency.
usage: site/site up && /usr/bin/python3 bench/iri_compute.py [SECONDS] [CONCURRENCY]
Prints a Markdown table; docs/benchmarks.md keeps the latest one. Cancels the jobs it made."""
import pathlib
import sys
import tempfile
import threading
import time

import requests

from benchlib import SITE, Gateway, RawSsh, sustained, token

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
CONCURRENCY = int(sys.argv[2]) if len(sys.argv) > 2 else 8




def main():
    scratch = SITE["users"]["alice"]["scratch"]
    with tempfile.TemporaryDirectory() as work:
        gateways = {}
        for backend in ("slurm", "slurm_rest"):
            (pathlib.Path(work) / backend).mkdir()
            gateways[backend] = Gateway(pathlib.Path(work) / backend, env={"PORTICO_SCHEDULER": backend}).start()
        raw = RawSsh(work)
        local = threading.local()
        headers = {"Authorization": f"Bearer {token('alice')}"}
        spec = {"executable": "/bin/true", "name": "iri-bench", "directory": scratch, "stdout_path": "/dev/null",
                "resources": {"exclusive_node_use": False}, "attributes": {"account": "climate", "duration": 60}}
        resources = {}
        for backend, gw in gateways.items():
            listed = requests.get(gw.url + "/api/v2/compute/resources", headers=headers, timeout=30).json()
            resources[backend] = next(r["id"] for r in listed if r["name"] == "hpc")

        def launch(backend):
            gw = gateways[backend]
            s = getattr(local, backend, None) or requests.Session()
            setattr(local, backend, s)
            r = s.post(f"{gw.url}/api/v2/compute/job/{resources[backend]}", json=spec, headers=headers, timeout=60)
            return r.status_code == 200

        def raw_submit():
            r = raw.run(f"cd {scratch} && sbatch --parsable --account=climate --time=1 --job-name=iri-bench "
                        f"--output=/dev/null --wrap=/bin/true")
            return r.returncode == 0

        rates = {}
        try:
            raw_rate = sustained(raw_submit, SECONDS, CONCURRENCY)
            for backend in gateways:
                rates[backend] = sustained(lambda: launch(backend), SECONDS, CONCURRENCY)
        finally:
            raw.run("scancel --state=PENDING --name=iri-bench")
            raw.close()
            for gw in gateways.values():
                gw.stop()

    print(f"## IRI launchJob: {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, {SECONDS}s per run, "
          f"{CONCURRENCY} concurrent clients\n")
    print("| measure | submissions/s | vs raw sbatch |")
    print("|---|---|---|")
    print(f"| raw `sbatch` over ControlMaster | {raw_rate:.1f} | |")
    for backend, rate in rates.items():
        print(f"| Portico IRI v2 launchJob, {backend} backend | {rate:.1f} | {rate / raw_rate:.2f}x |")


if __name__ == "__main__":
    main()
