#!/usr/bin/python3
"""Transfer benchmarks (issue: filesystem), each next to raw OpenSSH doing the same work over an
open ControlMaster connection as the same user, in the same run, on the same machine:
  1. 1,000 files of 1 KB downloaded, 1,000 uploaded, 1,000 stats and 1,000 mkdirs, each with 10-way
     concurrency (one keep-alive connection per client thread) vs 1,000 `ssh host cat FILE`,
     `cat > FILE`, `stat` and `mkdir` at the same concurrency (an ssh client process per call, as
     a script would run them);
  2. a 1 GiB download and a 1 GiB upload with curl (so the client is not the bottleneck) vs
     `ssh host cat FILE > /dev/null` and `ssh host 'cat > FILE' < FILE`, and the upload also vs
     `cat > FILE && sync FILE` (Portico's upload fsyncs before it renames), with the gateway's
     peak resident memory sampled every 20 ms.
usage: site/site up && /usr/bin/python3 bench/transfer.py [FILES] [CONCURRENCY]
Prints a Markdown report; docs/benchmarks.md keeps the latest one. PORTICO_BINARY picks the build."""
import concurrent.futures
import pathlib
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests

from benchlib import HIGH_RATE_LIMITS, SITE, Gateway, RawSsh, token

FILES = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
CONCURRENCY = int(sys.argv[2]) if len(sys.argv) > 2 else 10
GIB = 1024 ** 3
OPS = "/filesystem/hpc/ops/"


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class PeakRss:
    """Samples a process's resident memory in the background; peak() minus start is the growth."""

    def __init__(self, pid):
        self.pid, self.start, self.max, self.stop_flag = pid, rss_kb(pid), 0, False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop_flag:
            self.max = max(self.max, rss_kb(self.pid))
            time.sleep(0.02)

    def growth_mb(self):
        self.stop_flag = True
        self.thread.join()
        return (self.max - self.start) / 1024


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def many_small(gw, raw, headers, directory):
    """Each small-file operation FILES times at CONCURRENCY: (what, portico seconds, raw seconds)."""
    local = threading.local()
    data = b"x" * 1024

    def session():
        s = getattr(local, "s", None) or requests.Session()
        local.s = s
        return s

    def download(i):
        r = session().get(gw.url + OPS + "download", params={"path": f"{directory}/f{i:04d}"}, headers=headers,
                          timeout=60)
        assert r.status_code == 200 and len(r.content) == 1024, r.text

    def raw_download(i):
        r = subprocess.run(raw.argv(f"cat {directory}/f{i:04d}"), capture_output=True)
        assert r.returncode == 0 and len(r.stdout) == 1024, r.stderr

    def upload(i):
        r = session().post(gw.url + OPS + "upload", params={"path": f"{directory}/up"}, headers=headers,
                           files={"file": (f"u{i:04d}", data)}, timeout=60)
        assert r.status_code == 204, r.text

    def raw_upload(i):
        r = subprocess.run(raw.argv(f"cat > {directory}/rawup/u{i:04d}"), input=data, capture_output=True)
        assert r.returncode == 0, r.stderr

    def stat(i):
        r = session().get(gw.url + OPS + "stat", params={"path": f"{directory}/f{i:04d}"}, headers=headers, timeout=60)
        assert r.status_code == 200 and r.json()["output"]["size"] == 1024, r.text

    def raw_stat(i):
        r = subprocess.run(raw.argv(f"stat -c %s {directory}/f{i:04d}"), capture_output=True)
        assert r.returncode == 0 and r.stdout == b"1024\n", r.stderr

    def mkdir(i):
        r = session().post(gw.url + OPS + "mkdir", json={"path": f"{directory}/dirs/d{i:04d}"}, headers=headers,
                           timeout=60)
        assert r.status_code == 201, r.text

    def raw_mkdir(i):
        r = subprocess.run(raw.argv(f"mkdir {directory}/rawdirs/d{i:04d}"), capture_output=True)
        assert r.returncode == 0, r.stderr

    def run_all(fn):
        with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(fn, range(FILES)))

    r = raw.run(f"mkdir {directory}/up {directory}/rawup {directory}/dirs {directory}/rawdirs")
    assert r.returncode == 0, r.stderr
    run_all(download)  # warm: connections, certificates, the SFTP session
    out = []
    for what, portico_fn, raw_fn in [("downloads of 1 KB", download, raw_download),
                                     ("uploads of 1 KB", upload, raw_upload),
                                     ("stats", stat, raw_stat),
                                     ("mkdirs", mkdir, raw_mkdir)]:
        portico = timed(lambda: run_all(portico_fn))
        raw_time = timed(lambda: run_all(raw_fn))
        out.append((what, portico, raw_time))
    return out


def big(gw, raw, headers, work, directory):
    src = pathlib.Path(work) / "gib.bin"
    subprocess.run(["head", "-c", str(GIB), "/dev/urandom"], stdout=open(src, "wb"), check=True)
    auth = f"Authorization: {headers['Authorization']}"
    remote = f"{directory}/gib.bin"

    # Upload first (the download then reads the uploaded file).
    rss = PeakRss(gw.proc.pid)
    up = timed(lambda: subprocess.run(
        ["curl", "-sS", "-f", "-o", "/dev/null", "-H", auth, "-F", f"file=@{src};filename=gib.bin",
         f"{gw.url}/filesystem/hpc/ops/upload?path={directory}"], check=True))
    up_rss = rss.growth_mb()
    raw_up = timed(lambda: subprocess.run(raw.argv(f"cat > {directory}/raw.bin"), stdin=open(src, "rb"), check=True))
    # With the upload's guarantee: the data on disk (fsync) before the call returns.
    raw_up_sync = timed(lambda: subprocess.run(raw.argv(f"cat > {directory}/raw2.bin && sync {directory}/raw2.bin"),
                                               stdin=open(src, "rb"), check=True))

    rss = PeakRss(gw.proc.pid)
    down = timed(lambda: subprocess.run(
        ["curl", "-sS", "-f", "-o", "/dev/null", "-H", auth,
         f"{gw.url}/filesystem/hpc/ops/download?path={remote}"], check=True))
    down_rss = rss.growth_mb()
    raw_down = timed(lambda: subprocess.run(raw.argv(f"cat {remote}"), stdout=subprocess.DEVNULL, check=True))
    src.unlink()
    return up, raw_up, raw_up_sync, up_rss, down, raw_down, down_rss


def main():
    with tempfile.TemporaryDirectory() as work:
        gw = Gateway(pathlib.Path(work), extra_yaml=HIGH_RATE_LIMITS).start()
        raw = RawSsh(work)
        headers = {"Authorization": f"Bearer {token('alice')}"}
        directory = f"{SITE['users']['alice']['scratch']}/bench-transfer-{uuid.uuid4().hex[:8]}"
        try:
            r = raw.run(f"mkdir -p {directory} && cd {directory} && "
                        f"for i in $(seq -f %04g 0 {FILES - 1}); do head -c 1024 /dev/urandom > f$i; done")
            assert r.returncode == 0, r.stderr
            small = many_small(gw, raw, headers, directory)
            up, raw_up, raw_up_sync, up_rss, down, raw_down, down_rss = big(gw, raw, headers, work, directory)
        finally:
            raw.run(f"rm -rf {directory}")
            raw.close()
            gw.stop()

    mbps = lambda seconds: GIB / seconds / 1e6  # noqa: E731
    print(f"## Transfers: {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}\n")
    print("| measure | portico | raw OpenSSH (ControlMaster) | portico / raw |")
    print("|---|---|---|---|")
    for what, portico, raw_time in small:
        print(f"| {FILES} {what}, {CONCURRENCY} concurrent clients | {portico:.2f} s | {raw_time:.2f} s | "
              f"{raw_time / portico:.2f}x faster |")
    print(f"| 1 GiB download (curl) | {mbps(down):.0f} MB/s | {mbps(raw_down):.0f} MB/s | {raw_down / down:.0%} of raw throughput |")
    print(f"| 1 GiB upload (curl -F) | {mbps(up):.0f} MB/s | {mbps(raw_up):.0f} MB/s | {raw_up / up:.0%} of raw throughput |")
    print(f"| 1 GiB upload, raw with fsync as Portico's (`cat > F && sync F`) | {mbps(up):.0f} MB/s | "
          f"{mbps(raw_up_sync):.0f} MB/s | {raw_up_sync / up:.0%} of raw throughput |")
    print(f"\nGateway peak resident memory growth: {down_rss:.1f} MB during the download, {up_rss:.1f} MB during the upload.")


if __name__ == "__main__":
    main()
