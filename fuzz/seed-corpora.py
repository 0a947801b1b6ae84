#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Seeds are the golden files of src/*/testdata (real output of the site's tools, or the documented
formats for PBS), prefixed with the byte a target reads first to choose its reader, and small
hand-made inputs for what has no golden file. Keys and certificates are made afresh with
ssh-keygen and python3-cryptography (test material only). Only seed-* files are written: the
inputs the fuzzer found (finding-*) are kept as they are. Run it from anywhere:
    /usr/bin/python3 fuzz/seed-corpora.py
"""
import base64
import json
import os
import pathlib
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
TESTDATA = ROOT / "src"
MAX_SEED = 5000  # bytes: seeds stay small, so replaying the corpus takes no time


def golden(path):
    return (TESTDATA / path).read_bytes()


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED:
        raise SystemExit(f"seed {target}/{name} is {len(data)} bytes, over {MAX_SEED}")
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"seed-{name}").write_bytes(data)


def selected(selector, data):
    if isinstance(data, str):
        data = data.encode()
    return bytes([selector]) + data


def http():
    write("http_request", "get", "GET /api/v1/status/resources?limit=5 HTTP/1.1\r\nHost: portico\r\n"
          "X-Request-ID: req-1.a:b_c\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n")
    write("http_request", "post", "POST /compute/hpc/jobs HTTP/1.1\r\nHost: portico\r\nContent-Type: application/json\r\n"
          "Content-Length: 11\r\nAuthorization: Bearer abc.def.ghi\r\n\r\n{\"job\": {}}")
    write("http_request", "chunked", "PUT /filesystem/hpc/ops/chmod HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5\r\nhello\r\n0\r\n\r\n")
    write("http_request", "forwarded", "GET / HTTP/1.1\r\nX-Forwarded-For: 203.0.113.9, 10.1.2.3\r\n"
          "X-Forwarded-For: ::ffff:192.0.2.1\r\nConnection: close\r\n\r\n")
    write("http_request", "pipelined", "GET /status/systems HTTP/1.1\r\n\r\nGET /status/liveness HTTP/1.0\r\n\r\n")
    for name, target in {
        "ls": "/filesystem/hpc/ops/ls?path=%2Fhome%2Falice&showHidden=true&numericUid=1",
        "job": "/compute/hpc/jobs/123/metadata",
        "rest": "/files/hpc/a/b/c",
        "iri": "/api/v1/status/resources?offset=0&limit=10&modified_since=2026-01-01T00:00:00Z&status=up",
        "iri-list": "?capability=a&capability=b&resource_id=0c2f8a6e-7f3b-5d1a-9a3c-2b1e6f4d8c7a&short=true"
                    "&resource_type=urn:doe-iri:resource-type:compute&name=x+y",
        "escapes": "/status/%7Bx%7D/nodes?path=%2&path=%G1&a+b=%20",
    }.items():
        write("http_target", name, target)
    boundary = "----portico1234"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"x\"; "
            f"filename*=UTF-8''%E2%82%AC.bin\r\n\r\n\r\n\r\n--{boundary}--\r\nepilogue")
    write("multipart", "two-parts", selected(0x11, f"multipart/form-data; boundary=\"{boundary}\"\n{body}"))
    write("multipart", "small-headers", selected(0x80, f"multipart/form-data; boundary={boundary}\n{body}"))
    write("multipart", "preamble", selected(0x05, "multipart/form-data;boundary=b\npreamble\r\n--b\r\n"
                                            "content-disposition: form-data; name=a\r\n\r\n--b\r\n--b--"))
    size = (1000).to_bytes(8, "little")
    for name, header in {"span": "bytes=0-99", "open": "bytes=500-", "suffix": "bytes=-200", "past": "bytes=2000-",
                         "several": "bytes=0-1,5-6", "case": " Bytes = 10 - 20 "}.items():
        write("range", name, bytes([1]) + size[1:] + header.encode())
    write("range", "empty-body", bytes(8) + b"bytes=0-0")


def bodies():
    write("firecrest_job", "script", json.dumps({"job": {
        "name": "hello", "workingDirectory": "/home/alice", "script": "#!/bin/bash\necho 'hi' $HOME\n",
        "env": {"A": "1, 2", "B_2": "$(rm -rf /)"}, "standard_output": "out-%j.txt", "partition": "normal"}}))
    write("firecrest_job", "script-path", json.dumps({"job": {
        "working_directory": "/scratch/alice/../alice/run", "scriptPath": "/home/alice/job.sh",
        "account": "climate", "constraints": "gpu&big"}}))
    ops = {
        "mkdir": (0, {"sourcePath": "/home/alice/new", "parent": True}),
        "symlink": (1, {"path": "/home/alice/target", "linkPath": "/scratch/alice/link"}),
        "chmod": (2, {"sourcePath": "/home/alice/f", "mode": "u+rwx,g-w"}),
        "chown": (3, {"path": "/home/alice/f", "owner": "alice", "group": "1002"}),
        "compress": (4, {"sourcePath": "/home/alice/dir", "targetPath": "/home/alice/dir.tar.gz",
                         "matchPattern": ".*\\.txt", "dereference": "true", "compression": "xz"}),
        "extract": (5, {"source_path": "/home/alice/a.tar", "target_path": "/scratch/alice", "compression": "none"}),
        "cp": (6, {"sourcePath": "/home/alice/a", "targetPath": "/home/alice/b", "account": "climate"}),
        "upload": (7, {"path": "/home/alice/up", "transferDirectives": {"transferMethod": "s3", "fileSize": "1048576"}}),
    }
    for name, (op, body) in ops.items():
        write("firecrest_file_body", name, selected(op, json.dumps(body)))
    spec = {"executable": "/bin/echo", "arguments": ["a b", "$HOME", "--x"], "directory": "/home/alice/run",
            "name": "psij", "environment": {"X": "1"}, "stdout_path": "/home/alice/out", "stderr_path": "/dev/null",
            "resources": {"node_count": 2, "processes_per_node": 4, "process_count": 8, "cpu_cores_per_process": 1,
                          "memory": 1073741824, "exclusive_node_use": False},
            "attributes": {"duration": 600, "queue_name": "debug", "account": "climate",
                           "custom_attributes": {"slurm.constraint": "gpu", "pbs.place": "scatter"}},
            "launcher": "srun", "pre_launch": "/home/alice/pre.sh"}
    write("iri_jobspec", "slurm-v1", selected(0, json.dumps(spec)))
    write("iri_jobspec", "pbs-v2", selected(3, json.dumps(dict(spec, launcher="mpirun"))))
    container = {"executable": "python3", "container": {"image": "docker://python:3", "volume_mounts": [
        {"source": "/scratch/alice", "target": "/data", "read_only": False}]}, "attributes": {"account": "genomics"}}
    write("iri_jobspec", "container", selected(1, json.dumps(container)))
    write("iri_jobspec", "update", selected(0, json.dumps({"name": "renamed", "attributes": {"duration": 60}})))


def auth_and_keys():
    header = json.dumps({"alg": "RS256", "kid": "rsa-1", "typ": "JWT"})
    claims = json.dumps({"iss": "https://idp.test", "aud": ["x", "https://portico.test/api"], "sub": "s",
                         "preferred_username": "alice", "iat": 1767225590, "exp": 1767225900, "nbf": 1767225500})
    write("jwt", "rs256", bytes([1]) + f"{header}\n{claims}".encode())
    write("jwt", "es256", bytes([3]) + f'{{"alg":"ES256","kid":"ec-1"}}\n{claims}'.encode())
    write("jwt", "eddsa", bytes([5]) + f'{{"alg":"EdDSA"}}\n{claims}'.encode())
    write("jwt", "none", bytes([0]) + b"eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.")
    write("jwt", "hs256", bytes([0]) + b"eyJhbGciOiJIUzI1NiIsImtpZCI6InJzYS0xIn0.eyJleHAiOjF9.c2ln")

    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    def b64(n, length=None):
        raw = n.to_bytes(length or (n.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    r = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers()
    e = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    d = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    keys = [{"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256", "n": b64(r.n), "e": b64(r.e)},
            {"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": b64(e.x, 32), "y": b64(e.y, 32), "key_ops": ["verify"]},
            {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(d).rstrip(b"=").decode()},
            {"kty": "oct", "k": "c2VjcmV0"}, {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
            {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}]
    write("jwks", "provider", json.dumps({"keys": keys}))
    write("jwks", "empty", '{"keys": []}')

    with tempfile.TemporaryDirectory() as tmp:
        def keygen(name, *args):
            subprocess.run(["ssh-keygen", "-q", "-N", "", "-C", name, "-f", f"{tmp}/{name}", *args], check=True)
            return pathlib.Path(f"{tmp}/{name}")
        ca = keygen("ca", "-t", "ed25519")
        for name, args in {"ed25519": ["-t", "ed25519"], "ecdsa": ["-t", "ecdsa", "-b", "256"],
                           "rsa": ["-t", "rsa", "-b", "1024"]}.items():
            key = keygen(name, *args)
            write("openssh_key", f"key-{name}", selected(0, key.read_bytes()))
            subprocess.run(["ssh-keygen", "-q", "-s", str(ca), "-I", f"request-{name}", "-n", "alice,bob",
                            "-V", "+5m", "-O", "force-command=/bin/true", "-O", "source-address=127.0.0.1",
                            f"{key}.pub"], check=True)
            line = pathlib.Path(f"{key}-cert.pub").read_text().split()
            write("openssh_key", f"cert-{name}", selected(1, base64.b64decode(line[1])))
            write("openssh_key", f"base64-{name}", selected(2, line[1]))
        subprocess.run(["ssh-keygen", "-q", "-N", "secret", "-t", "ed25519", "-f", f"{tmp}/enc"], check=True)
        write("openssh_key", "key-encrypted", selected(0, pathlib.Path(f"{tmp}/enc").read_bytes()))


def filesystem():
    write("ls", "adversarial", golden("filesystem/testdata/ls_adversarial.txt"))
    write("ls", "recursive", golden("filesystem/testdata/ls_recursive_numeric.txt"))
    write("ls", "devices", 'total 0\ncrw-rw-rw-+ 1 root root 1,   3 2026-01-01T00:00:00 "null"\n'
          'lrwxrwxrwx. 1 a b 4 2026-01-01T00:00:00 "l\\033" -> "\\"t\\"\\n"\n?????????? ? ? ? ? ? "gone"\n')
    write("stat", "file", selected(0, golden("filesystem/testdata/stat_file.txt")))
    write("stat", "dir", selected(0, golden("filesystem/testdata/stat_dir.txt")))
    # head/tail: the first byte is 1 modulo 3, its bits from the third on are the request.
    for choice, out in {1: "line 1\nline 2\n", 0: "4096\nlast bytes", 6: "12\n\x00\xff", 8: "99\n0123456789abcdefgh"}.items():
        write("stat", f"head-tail-{choice}", selected(next(b for b in range(4 * choice, 4 * choice + 4) if b % 3 == 1), out))
    write("stat", "size-line", selected(2, "18446744073709551615"))
    write("tool_errors", "missing", bytes([1]) + b"\0ls: cannot access '/home/x': No such file or directory\n")
    write("tool_errors", "tar", bytes([2]) + b"\0tar: This does not look like a tar archive\ntar: Exiting with failure\n")
    write("tool_errors", "sbatch", bytes([1]) + b"\0sbatch: error: Batch job submission failed: Invalid account\n")
    write("tool_errors", "slurmctld", bytes([1]) + b"\0squeue: error: Unable to contact slurm controller\n")
    write("tool_errors", "parsable", bytes([0]) + b"12345;hpc\n")
    write("tool_errors", "timeout", bytes([8 + 3]) + b"partial\0")


def scheduler():
    t = "scheduler/testdata/"
    write("scontrol", "record", selected(0, golden(t + "scontrol_show_node.txt").split(b"\n")[0]))
    for name in ["scontrol_show_node.txt", "scontrol_show_node_several.txt"]:
        write("scontrol", name, selected(1, golden(t + name)))
    write("scontrol", "partitions", selected(2, golden(t + "scontrol_show_partition.txt")))
    write("scontrol", "reservations", selected(3, golden(t + "scontrol_show_reservation.txt")))
    write("scontrol", "reservations-none", selected(3, golden(t + "scontrol_show_reservation_none.txt")))
    write("scontrol", "ping", selected(4, golden(t + "scontrol_ping.txt")))
    write("scontrol", "ping-down", selected(4, golden(t + "scontrol_ping_down.txt")))
    write("scontrol", "version", selected(5, golden(t + "scontrol_version.txt")))
    for name in ["scontrol_show_job_4.txt", "scontrol_show_job_array.txt"]:
        write("scontrol", name, selected(6, golden(t + "jobs/" + name)))

    for name in ["squeue.txt", "squeue_array.txt", "squeue_unlimited.txt", "squeue_ended.txt"]:
        write("squeue", name, selected(0, golden(t + "jobs/" + name)))
    write("squeue", "exit-codes", selected(1, golden(t + "jobs/squeue_exit_codes.txt")))
    write("squeue", "ids", selected(2, golden(t + "jobs/squeue_ids_array.txt")))
    write("squeue", "sacct-ids", selected(2, golden(t + "jobs/sacct_ids_array.txt")))
    write("squeue", "duration", selected(3, "1-02:03:04"))

    write("sacct", "jobs", selected(0, golden(t + "jobs/sacct.txt") + b"\0" + golden(t + "jobs/squeue.txt")))
    write("sacct", "array", selected(0, golden(t + "jobs/sacct_array.txt") + b"\0" + golden(t + "jobs/squeue_array.txt")))
    write("sacct", "running", selected(0, golden(t + "jobs/sacct_array_running.txt")))
    write("sacct", "exit-code", selected(1, "2:15"))

    write("sacctmgr", "user", selected(0, golden(t + "sacctmgr_show_user_withassoc.txt")))
    write("sacctmgr", "allocations", selected(1, golden(t + "accounting/sacctmgr_show_account_withassoc.txt") + b"\0" +
                                              golden(t + "accounting/sacct_node_time.txt")))
    write("sacctmgr", "tres", selected(2, "cpu=10,mem=1G,node=60000"))

    p = t + "pbs/"
    write("qstat", "jobs", selected(0, golden(p + "qstat_f_F_json.txt")))
    write("qstat", "timestamp", selected(1, '{"timestamp": 1764064741, "pbs_version": "23.06.06"}'))
    write("qstat", "metadata", selected(2, golden(p + "qstat_f_F_json.txt")))
    write("qstat", "nodes", selected(3, golden(p + "pbsnodes_a_F_json.txt")))
    write("qstat", "queues", selected(4, golden(p + "qstat_Q_f_F_json.txt")))
    write("qstat", "servers", selected(5, golden(p + "qstat_B_f_F_json.txt")))
    write("qstat", "rstat", selected(6, golden(p + "pbs_rstat_f.txt")))
    write("qstat", "version", selected(7, golden(p + "qstat_version.txt")))
    write("qstat", "qsub", selected(7, golden(p + "qsub.txt")))
    write("qstat", "duration", selected(8, "100:02:03"))
    write("qstat", "time", selected(9, "Tue Nov  4 09:59:01 2025"))

    r = t + "slurmrestd/"
    for selector, name in [(0, "submit_bad_partition.json"), (1, "ping.json"), (2, "ping.json"), (3, "nodes.json"),
                           (4, "partitions.json"), (5, "reservations_one.json"), (6, "associations.json"),
                           (7, "job_pending.json"), (8, "db_job_never_started.json"), (9, "submit.json"),
                           (9, "submit_bad_account.json")]:
        write("slurmrestd", f"{selector}-{name}", selected(selector, golden(r + name)))
    write("slurmrestd", "limits", selected(10, golden(r + "associations.json")[:2048] + b"\0" +
                                           golden(r + "accounts.json")[:1024]))

    write("unix_identity", "lookup", selected(0, b"alice\nalice:x:1001:1002::/home/alice:/bin/bash\n" +
                                               golden(t + "id_alice.txt")))
    write("unix_identity", "lookup-root", selected(0, "root\nroot:x:0:0:root:/root:/bin/bash\n"
                                                    "uid=0(root) gid=0(root) groups=0(root)\n"))
    write("unix_identity", "id", selected(1, golden(t + "id_alice.txt")))
    write("unix_identity", "getent", selected(2, golden(t + "getent_passwd.txt")))
    write("storage_quota", "quota", selected(0, golden("cluster/testdata/quota_home_alice.txt")))
    write("storage_quota", "probe", selected(1, golden("cluster/testdata/storage_probe_alice.txt")))


def s3():
    folder = TESTDATA / "s3/testdata/s3rver"
    for f in sorted(folder.glob("*.xml")):
        write("s3_xml", f.stem, selected(1 if f.stem.startswith("initiate") else 0, f.read_bytes()))
    write("s3_xml", "escape", selected(2, "2~abc&def<ghi>"))


if __name__ == "__main__":
    for part in (http, bodies, auth_and_keys, filesystem, scheduler, s3):
        part()
    for folder in sorted(CORPUS.iterdir()):
        files = list(folder.iterdir())
        print(f"{folder.name}: {len(files)} files, {sum(f.stat().st_size for f in files)} bytes")
