#!/usr/bin/python3
"""Staged transfers (issue: transfers), end to end with pyFirecREST, next to the limits measured
in the same run on the same machine:
  - a SIZE upload with pyFirecREST (`upload`: parts PUT to the site's S3, then the released job
    moves the object into the file) and download (`download`: the job stages the file, then the
    client GETs it), each split into the client's S3 time and the job's time;
  - a direct S3 PUT and GET of the same bytes with boto3, with the same part size, one part at a
    time as pyFirecREST sends them (the physical limit of the staged path);
  - the streamed ops/upload and ops/download of the same file with curl (no staging);
  - Portico's own CPU time (user + system, from /proc) per staged transfer: it signs URLs,
    submits a job and polls S3; no byte passes through it.
usage: site/site up && /usr/bin/python3 bench/staging.py [SIZE_MIB]
Prints a Markdown report; docs/benchmarks.md keeps the latest one. PORTICO_BINARY picks the build."""
import hashlib
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import uuid

from benchlib import ROOT, SITE, Gateway, token

sys.path[:0] = [str(ROOT.parent / "shared" / "clients" / "pyfirecrest"), str(ROOT.parent / "shared" / "clients" / "stubs")]
import boto3  # noqa: E402
from boto3.s3.transfer import TransferConfig  # noqa: E402
import firecrest  # noqa: E402

MIB = 1024 * 1024
SIZE = (int(sys.argv[1]) if len(sys.argv) > 1 else 2048) * MIB
PART = 1024 * MIB  # the default part size of a cluster's transfers


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(fn):
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


def main():
    s3 = SITE["s3"]
    with tempfile.TemporaryDirectory() as work:
        work = pathlib.Path(work)
        src = work / "big.bin"
        subprocess.run(["head", "-c", str(SIZE), "/dev/urandom"], stdout=open(src, "wb"), check=True)
        digest = hashlib.sha256(src.read_bytes()).hexdigest()
        gw = Gateway(work, env={"PORTICO_MAX_UPLOAD_BYTES": f"{SIZE // MIB + 1}MiB"}).start()
        u = SITE["users"]["alice"]
        client = firecrest.v2.Firecrest(firecrest_url=gw.url, authorization=firecrest.ClientCredentialsAuth(
            u["client_id"], u["client_secret"], SITE["oidc"]["token_url"]))
        directory = f"{u['scratch']}/bench-staging-{uuid.uuid4().hex[:8]}"
        client.mkdir("hpc", directory)
        # What the gateway spends doing nothing (health probes every 10 s), per second: taken off
        # the transfers' CPU time, which is then what the transfers themselves cost.
        idle0, t_idle0 = cpu_seconds(gw.proc.pid), time.perf_counter()
        time.sleep(30)
        idle_rate = (cpu_seconds(gw.proc.pid) - idle0) / (time.perf_counter() - t_idle0)
        try:
            # Staged upload: the client's part PUTs, then the job.
            cpu0 = cpu_seconds(gw.proc.pid)
            t0 = time.perf_counter()
            upload = client.upload("hpc", str(src), directory, "staged.bin", blocking=False)
            t_request = time.perf_counter() - t0
            t_parts, _ = timed(upload.upload_file_to_stage)
            t_job, _ = timed(upload.wait_for_transfer_job)
            up_total = time.perf_counter() - t0
            up_cpu = cpu_seconds(gw.proc.pid) - cpu0 - idle_rate * up_total
            assert client.checksum("hpc", f"{directory}/staged.bin")["checksum"] == digest

            # Staged download: the job, then the client's GET.
            down_path = work / "down.bin"
            cpu0 = cpu_seconds(gw.proc.pid)
            t0 = time.perf_counter()
            download = client.download("hpc", f"{directory}/staged.bin", str(down_path), blocking=False)
            download.wait_for_transfer_job()
            t_djob = time.perf_counter() - t0
            t_get, _ = timed(download.download_file_from_stage)
            down_total = time.perf_counter() - t0
            down_cpu = cpu_seconds(gw.proc.pid) - cpu0 - idle_rate * down_total
            assert hashlib.sha256(down_path.read_bytes()).hexdigest() == digest
            down_path.unlink()

            # The same bytes straight to and from S3, the same part size, one part at a time.
            boto = boto3.client("s3", endpoint_url=s3["endpoint"], aws_access_key_id=s3["access_key_id"],
                                aws_secret_access_key=s3["secret_access_key"], region_name=s3["region"])
            config = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=1)
            key = f"bench/{uuid.uuid4().hex}"
            t_s3_put, _ = timed(lambda: boto.upload_file(str(src), s3["bucket"], key, Config=config))
            t_s3_get, _ = timed(lambda: boto.download_file(s3["bucket"], key, str(down_path), Config=config))
            boto.delete_object(Bucket=s3["bucket"], Key=key)
            down_path.unlink()

            # Streamed through Portico, no staging.
            auth = f"Authorization: Bearer {token('alice')}"
            t_ops_up, _ = timed(lambda: subprocess.run(
                ["curl", "-sS", "-f", "-o", "/dev/null", "-H", auth, "-F", f"file=@{src};filename=ops.bin",
                 f"{gw.url}/filesystem/hpc/ops/upload?path={directory}"], check=True))
            t_ops_down, _ = timed(lambda: subprocess.run(
                ["curl", "-sS", "-f", "-o", "/dev/null", "-H", auth,
                 f"{gw.url}/filesystem/hpc/ops/download?path={directory}/ops.bin"], check=True))
        finally:
            client.rm("hpc", directory)
            gw.stop()

    mbps = lambda seconds: SIZE / seconds / 1e6  # noqa: E731
    size = f"{SIZE // MIB} MiB"
    print(f"## Staged transfers: {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}\n")
    print(f"{size} of random bytes, parts of {PART // MIB} MiB, one at a time; the site's S3 is s3rver behind the "
          "signature-checking front, all on this machine.\n")
    print("| measure | time | throughput | vs direct S3 |")
    print("|---|---|---|---|")
    print(f"| direct S3 PUT (boto3) | {t_s3_put:.2f} s | {mbps(t_s3_put):.0f} MB/s | 1.00x |")
    print(f"| staged upload, pyFirecREST, total | {up_total:.2f} s | {mbps(up_total):.0f} MB/s | {up_total / t_s3_put:.2f}x |")
    print(f"| &nbsp; request (sign URLs, submit the held job) | {t_request:.2f} s | | |")
    print(f"| &nbsp; client's part PUTs | {t_parts:.2f} s | {mbps(t_parts):.0f} MB/s | {t_parts / t_s3_put:.2f}x |")
    print(f"| &nbsp; release, job start and its S3 GET into the file | {t_job:.2f} s | | |")
    print(f"| streamed ops/upload (curl) | {t_ops_up:.2f} s | {mbps(t_ops_up):.0f} MB/s | {t_ops_up / t_s3_put:.2f}x |")
    print(f"| direct S3 GET (boto3) | {t_s3_get:.2f} s | {mbps(t_s3_get):.0f} MB/s | 1.00x |")
    print(f"| staged download, pyFirecREST, total | {down_total:.2f} s | {mbps(down_total):.0f} MB/s | "
          f"{down_total / t_s3_get:.2f}x |")
    print(f"| &nbsp; request and job (parts PUT from the file) | {t_djob:.2f} s | | |")
    print(f"| &nbsp; client's GET | {t_get:.2f} s | {mbps(t_get):.0f} MB/s | {t_get / t_s3_get:.2f}x |")
    print(f"| staged download vs direct S3 PUT + GET (the bytes cross S3 twice) | {down_total:.2f} s | | "
          f"{down_total / (t_s3_put + t_s3_get):.2f}x |")
    print(f"| staged upload vs direct S3 PUT + GET | {up_total:.2f} s | | {up_total / (t_s3_put + t_s3_get):.2f}x |")
    print(f"| streamed ops/download (curl) | {t_ops_down:.2f} s | {mbps(t_ops_down):.0f} MB/s | "
          f"{t_ops_down / t_s3_get:.2f}x |")
    print(f"\nPortico's CPU time per staged transfer (user + system, its idle rate of {idle_rate * 1000:.2f} ms/s "
          f"taken off): {up_cpu * 1000:.0f} ms for the upload (S3 polling while the client sent the parts included), "
          f"{down_cpu * 1000:.0f} ms for the download.")


if __name__ == "__main__":
    main()
