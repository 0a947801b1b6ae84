"""The FirecREST transfer API on the real site: cp, mv, rm, compress and extract as Slurm jobs of
the caller, and uploads and downloads staged through the site's signature-checking S3, driven
with the official client (pyFirecREST 3.8.1 and its CLI) where it has a call for it, with each
scheduler backend."""
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.parse
import uuid

import pytest
import requests

import openapi
from conftest import ROOT, SHARED
from gateway import Gateway

CLIENT_PATH = [str(SHARED / "clients" / "pyfirecrest"), str(SHARED / "clients" / "stubs")]
sys.path[:0] = CLIENT_PATH
import firecrest  # noqa: E402  (the official client, from ../shared/clients)
from firecrest.FirecrestException import TransferJobFailedException  # noqa: E402

BACKENDS = ["slurm", "slurm_rest"]
MiB = 1024 * 1024
PART = 5 * MiB  # the smallest part S3 takes: three parts for an 11 MiB file
# How long a staged upload may take in the module's gateways: long for loopback, short enough
# to watch one being abandoned.
UPLOAD_WAIT = 25
TERMINAL = {"BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY",
            "PREEMPTED", "TIMEOUT"}
# Names that break any job script that splices values into its text.
HOSTILE = ["it's \"q\"", "$(touch pwned)", "`touch pwned`", "-dash", "semi;colon & amp", "new\nline"]


def gateway_env(scheduler, **extra):
    return {"PORTICO_SCHEDULER": scheduler, "PORTICO_TRANSFER_PART_SIZE": "5MiB",
            "PORTICO_UPLOAD_WAIT": f"{UPLOAD_WAIT}s", "PORTICO_S3_POLL_INTERVAL": "500ms", **extra}


@pytest.fixture(scope="module", params=BACKENDS)
def gw(request, tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("transfer-" + request.param), env=gateway_env(request.param)).start()
    g.scheduler = request.param
    yield g
    assert g.stop() == 0
    # No presigned URL's signature, nor any URL of the staging area, ever reaches the log.
    log = g.log.read_text(errors="replace")
    assert "X-Amz-Signature" not in log and "X-Amz-Credential" not in log


def pyfirecrest(gw, site, user):
    u = site["users"][user]
    return firecrest.v2.Firecrest(
        firecrest_url=gw.url,
        authorization=firecrest.ClientCredentialsAuth(u["client_id"], u["client_secret"], site["oidc"]["token_url"]))


@pytest.fixture(scope="module")
def alice(gw, site):
    return pyfirecrest(gw, site, "alice")


class Raw:
    """Plain HTTP as the user, for what the client has no call for (and for bad input)."""

    def __init__(self, gw, token, user):
        self.gw, self.token, self.user = gw, token, user

    def __call__(self, method, path, headers=None, **kw):
        headers = {**(headers or {}), "Authorization": f"Bearer {self.token(self.user)}"}
        return requests.request(method, self.gw.url + path, headers=headers, timeout=120, **kw)

    def job(self, job_id):
        r = self("GET", f"/compute/hpc/jobs/{job_id}")
        assert r.status_code == 200, r.text
        return r.json()["jobs"][0]

    def wait(self, job_id, until=TERMINAL, timeout=180):
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["status"]["state"] in until:
                return job
            assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
            time.sleep(0.5)


@pytest.fixture(scope="module")
def raw(gw, token):
    return Raw(gw, token, "alice")


@pytest.fixture
def workdir(ssh, site):
    """A fresh directory of alice's, removed afterwards."""
    d = f"{site['users']['alice']['home']}/transfer-{uuid.uuid4().hex[:8]}"
    assert ssh.run("alice", f"mkdir {d}").returncode == 0
    yield d
    ssh.run("alice", f"rm -rf {d}")


def s3_client(site):
    import boto3
    s3 = site["s3"]
    return boto3.client("s3", endpoint_url=s3["endpoint"], aws_access_key_id=s3["access_key_id"],
                        aws_secret_access_key=s3["secret_access_key"], region_name=s3["region"])


def object_key(url):
    """The object key of a presigned path-style URL of the staging bucket."""
    path = urllib.parse.urlparse(url).path
    bucket_and_key = urllib.parse.unquote(path.lstrip("/"))
    return bucket_and_key.split("/", 1)[1]


def remote_sha256(ssh, user, path):
    r = ssh.run(user, "sha256sum -- " + sh_quote(path))
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[0]


def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def read_remote(ssh, user, path):
    r = ssh.run(user, "cat -- " + sh_quote(path))
    return r.stdout if r.returncode == 0 else None


def wait_for(what, check, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.25)


def no_job_submitted(gw, r):
    """The audit line of a refused request names no submission."""
    calls = [c["what"] for c in gw.audit_line(r.headers["X-Request-ID"]).get("backend") or []]
    assert not any("sbatch" in c or "job/submit" in c for c in calls), calls


# --------------------------------------------------------------------------- staging with pyFirecREST

def test_a_3_mib_upload_and_download_through_staging(gw, alice, workdir, tmp_path, site):
    data = os.urandom(3 * MiB + 17)
    local = tmp_path / "up.bin"
    local.write_bytes(data)
    upload = alice.upload("hpc", str(local), workdir, "up.bin")
    info = upload.transfer_data
    assert info["transferDirectives"]["transferMethod"] == "s3"
    assert len(info["partsUploadUrls"]) == 1 and info["maxPartSize"] == PART
    assert alice.checksum("hpc", f"{workdir}/up.bin")["checksum"] == hashlib.sha256(data).hexdigest()
    # The staged object is gone once the job has moved it into the file.
    key = object_key(info["partsUploadUrls"][0])
    assert key.startswith("alice/")
    with pytest.raises(Exception) as gone:
        s3_client(site).head_object(Bucket=site["s3"]["bucket"], Key=key)
    assert "404" in str(gone.value)

    down = tmp_path / "down.bin"
    staged = alice.download("hpc", f"{workdir}/up.bin", str(down))
    assert down.read_bytes() == data
    assert "downloadUrl" in staged.transfer_data


def test_a_hostile_file_name_through_staging_both_ways(gw, alice, workdir, tmp_path, ssh):
    name = "it's \"$(touch pwned)\" `id` -x.bin"
    data = os.urandom(MiB + 3)
    local = tmp_path / "hostile.bin"
    local.write_bytes(data)
    alice.upload("hpc", str(local), workdir, name)
    assert remote_sha256(ssh, "alice", f"{workdir}/{name}") == hashlib.sha256(data).hexdigest()
    down = tmp_path / "hostile.down"
    alice.download("hpc", f"{workdir}/{name}", str(down))
    assert down.read_bytes() == data
    assert ssh.run("alice", "test -e ~/pwned").returncode != 0


def test_portico_made_the_staging_bucket_with_its_lifecycle_rule(gw, site):
    rules = s3_client(site).get_bucket_lifecycle_configuration(Bucket=site["s3"]["bucket"])["Rules"]
    assert any(r.get("Expiration", {}).get("Days") == 7 and r["Status"] == "Enabled" and
               r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == 7 for r in rules), rules


def test_a_multipart_upload_of_three_parts_and_its_download(gw, alice, workdir, tmp_path):
    data = os.urandom(2 * PART + 1234)
    local = tmp_path / "three.bin"
    local.write_bytes(data)
    upload = alice.upload("hpc", str(local), workdir, "three.bin")
    assert len(upload.transfer_data["partsUploadUrls"]) == 3
    assert alice.checksum("hpc", f"{workdir}/three.bin")["checksum"] == hashlib.sha256(data).hexdigest()
    down = tmp_path / "three.down"
    staged = alice.download("hpc", f"{workdir}/three.bin", str(down))
    assert hashlib.sha256(down.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    # The download job sent three parts too: its multipart upload had as many as the file needs.
    assert "successfully" in alice.view("hpc", staged.transfer_data["transferJob"]["logs"]["outputLog"])


def test_the_upload_job_waits_held_until_the_object_is_complete(gw, raw, workdir, ssh):
    data = os.urandom(PART + 10)
    r = raw("POST", "/filesystem/hpc/transfer/upload",
            json={"path": f"{workdir}/held.bin", "transferDirectives": {"transferMethod": "s3", "fileSize": len(data)}})
    assert r.status_code == 201, r.text
    openapi.validate(openapi.FIRECREST, r, method="POST")
    info = r.json()
    job_id = info["transferJob"]["jobId"]
    job = raw.job(job_id)
    # Held: no node, no slot, while the client has not sent the data.
    assert job["status"]["state"] == "PENDING" and job["status"]["stateReason"] == "JobHeldUser", job["status"]
    assert not job["nodes"]
    etags = []
    for i, url in enumerate(info["partsUploadUrls"]):
        part = requests.put(url, data=data[i * PART:(i + 1) * PART], timeout=60)
        assert part.status_code == 200, part.text
        etags.append(part.headers["ETag"])
    assert raw.job(job_id)["status"]["state"] == "PENDING"
    xml = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in enumerate(etags, 1)) + \
        "</CompleteMultipartUpload>"
    done = requests.post(info["transferDirectives"]["completeUploadUrl"], data=xml, timeout=60)
    assert done.status_code == 200, done.text
    assert raw.wait(job_id)["status"]["state"] == "COMPLETED"
    assert remote_sha256(ssh, "alice", f"{workdir}/held.bin") == hashlib.sha256(data).hexdigest()
    assert "File was successfully uploaded" in read_remote(ssh, "alice", info["transferJob"]["logs"]["outputLog"])


def test_an_upload_never_completed_is_abandoned_without_ever_running(gw, raw, workdir, ssh, site):
    r = raw("POST", "/filesystem/hpc/transfer/upload",
            json={"path": f"{workdir}/never.bin", "transfer_directives": {"transfer_method": "s3", "file_size": 6 * MiB}})
    assert r.status_code == 201, r.text
    info = r.json()
    job_id = info["transferJob"]["jobId"]
    first = requests.put(info["partsUploadUrls"][0], data=os.urandom(PART), timeout=60)
    assert first.status_code == 200, first.text
    job = raw.wait(job_id, timeout=UPLOAD_WAIT + 60)
    assert job["status"]["state"] == "CANCELLED", job["status"]
    assert not job["nodes"], "the job of an abandoned upload ran"
    err = wait_for("the error log says why", lambda: read_remote(ssh, "alice", info["transferJob"]["logs"]["errorLog"]))
    assert "was not completed within" in err and "cancelled" in err
    assert read_remote(ssh, "alice", f"{workdir}/never.bin") is None
    # The multipart upload was aborted: S3 no longer knows it.
    s3 = s3_client(site)
    key = object_key(info["partsUploadUrls"][0])
    upload_id = urllib.parse.parse_qs(urllib.parse.urlparse(info["partsUploadUrls"][0]).query)["uploadId"][0]
    with pytest.raises(Exception) as aborted:
        s3.list_parts(Bucket=site["s3"]["bucket"], Key=key, UploadId=upload_id)
    assert "NoSuchUpload" in str(aborted.value)
    # Its part URLs lived as long as the wait: now the site's S3 refuses them.
    late = requests.put(info["partsUploadUrls"][1], data=b"x" * 10, timeout=60)
    assert late.status_code == 403 and "expired" in late.text, late.text


def test_a_tampered_url_is_refused_by_the_sites_s3(gw, raw, workdir):
    r = raw("POST", "/filesystem/hpc/transfer/upload",
            json={"path": f"{workdir}/t.bin", "transferDirectives": {"transferMethod": "s3", "fileSize": 10}})
    assert r.status_code == 201, r.text
    url = r.json()["partsUploadUrls"][0]
    sig = url.rindex("X-Amz-Signature=") + len("X-Amz-Signature=")
    tampered = url[:sig] + ("0" if url[sig] != "0" else "1") + url[sig + 1:]
    refused = requests.put(tampered, data=b"0123456789", timeout=60)
    assert refused.status_code == 403 and "SignatureDoesNotMatch" in refused.text, refused.text
    other_key = url.replace("/t.bin?", "/u.bin?")
    assert requests.put(other_key, data=b"0123456789", timeout=60).status_code == 403
    raw("DELETE", f"/compute/hpc/jobs/{r.json()['transferJob']['jobId']}")


def test_a_completion_missing_a_part_is_refused_and_the_job_stays_held(gw, raw, workdir):
    r = raw("POST", "/filesystem/hpc/transfer/upload",
            json={"path": f"{workdir}/gap.bin", "transferDirectives": {"transferMethod": "s3", "fileSize": 2 * PART}})
    info = r.json()
    part = requests.put(info["partsUploadUrls"][0], data=os.urandom(PART), timeout=60)
    xml = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{part.headers['ETag']}</ETag></Part>"
           "<Part><PartNumber>2</PartNumber><ETag>\"0123456789abcdef0123456789abcdef\"</ETag></Part>"
           "</CompleteMultipartUpload>")
    done = requests.post(info["completeUploadUrl"], data=xml, timeout=60)
    assert done.status_code == 400 and "InvalidPart" in done.text, done.text
    job = raw.job(info["transferJob"]["jobId"])
    assert job["status"]["state"] == "PENDING" and job["status"]["stateReason"] == "JobHeldUser"
    raw("DELETE", f"/compute/hpc/jobs/{info['transferJob']['jobId']}")


def test_an_upload_into_a_directory_the_user_cannot_write_fails_in_its_job(gw, alice, raw, tmp_path, ssh):
    local = tmp_path / "denied.bin"
    local.write_bytes(os.urandom(MiB + 1))
    upload = alice.upload("hpc", str(local), "/home/bob", "from-alice.bin", blocking=False)
    upload.upload_file_to_stage()
    info = upload.transfer_data
    job = raw.wait(info["transferJob"]["jobId"])
    assert job["status"]["state"] == "FAILED", job["status"]
    err = read_remote(ssh, "alice", info["transferJob"]["logs"]["errorLog"])
    assert "Could not upload /home/bob/from-alice.bin" in err and "Permission denied" in err, err
    with pytest.raises(TransferJobFailedException):
        upload.wait_for_transfer_job()


# --------------------------------------------------------------------------- transfer jobs

def test_cp_mv_and_their_hostile_names_with_pyfirecrest(gw, alice, workdir, ssh):
    for i, name in enumerate(HOSTILE):
        src = f"{workdir}/{name}"
        r = ssh.run("alice", f"printf %s {sh_quote(name)} > {sh_quote(src)}")
        assert r.returncode == 0, r.stderr
        alice.cp("hpc", src, f"{src}.copy")
        assert read_remote(ssh, "alice", f"{src}.copy") == name
        alice.mv("hpc", f"{src}.copy", f"{workdir}/moved-{i}")
        assert read_remote(ssh, "alice", f"{workdir}/moved-{i}") == name
        assert read_remote(ssh, "alice", f"{src}.copy") is None
    assert ssh.run("alice", "test -e ~/pwned").returncode != 0


def test_cp_of_a_directory_with_dereference(gw, alice, workdir, ssh):
    assert ssh.run("alice", f"mkdir {workdir}/d && echo x > {workdir}/d/f && ln -s f {workdir}/d/l").returncode == 0
    alice.cp("hpc", f"{workdir}/d", f"{workdir}/plain")
    alice.cp("hpc", f"{workdir}/d", f"{workdir}/deref", dereference=True)
    assert ssh.run("alice", f"test -L {workdir}/plain/l && test ! -L {workdir}/deref/l").returncode == 0


def test_rm_compress_and_extract_as_jobs(gw, alice, raw, workdir, ssh):
    name = "arch $(x) 'q'"
    assert ssh.run("alice", f"mkdir {sh_quote(workdir + '/' + name)} && echo a > {sh_quote(workdir + '/' + name + '/a.txt')}"
                   f" && echo b > {sh_quote(workdir + '/' + name + '/b.log')}").returncode == 0
    r = raw("POST", "/filesystem/hpc/transfer/compress",
            json={"sourcePath": f"{workdir}/{name}", "targetPath": f"{workdir}/out.tar.bz2",
                  "matchPattern": ".*\\.txt", "compression": "bzip2"})
    assert r.status_code == 201, r.text
    openapi.validate(openapi.FIRECREST, r, method="POST")
    alice._wait_for_transfer_job(r.json())
    assert ssh.run("alice", f"mkdir {workdir}/into").returncode == 0
    r = raw("POST", "/filesystem/hpc/transfer/extract",
            json={"source_path": f"{workdir}/out.tar.bz2", "target_path": f"{workdir}/into", "compression": "bzip2"})
    assert r.status_code == 201, r.text
    alice._wait_for_transfer_job(r.json())
    assert read_remote(ssh, "alice", f"{workdir}/into/{name}/a.txt") == "a\n"
    assert read_remote(ssh, "alice", f"{workdir}/into/{name}/b.log") is None

    r = raw("DELETE", "/filesystem/hpc/transfer/rm", params={"path": f"{workdir}/{name}"})
    assert r.status_code == 200, r.text
    openapi.validate(openapi.FIRECREST, r, method="DELETE")
    alice._wait_for_transfer_job(r.json())
    assert ssh.run("alice", f"test -e {sh_quote(workdir + '/' + name)}").returncode != 0


def test_a_failing_transfer_job_ends_failed_and_says_why(gw, alice, raw, workdir, ssh):
    # The source exists when asked, and is gone when the job runs: the job's own failure.
    assert ssh.run("alice", f"echo x > {workdir}/f").returncode == 0
    r = raw("POST", "/filesystem/hpc/transfer/cp", json={"sourcePath": f"{workdir}/f", "targetPath": "/home/bob/f"})
    assert r.status_code == 201, r.text
    job = raw.wait(r.json()["transferJob"]["jobId"])
    assert job["status"]["state"] == "FAILED"
    err = read_remote(ssh, "alice", r.json()["transferJob"]["logs"]["errorLog"])
    assert f"Could not copy {workdir}/f to /home/bob/f" in err
    with pytest.raises(TransferJobFailedException):
        alice._wait_for_transfer_job(r.json())


# --------------------------------------------------------------------------- the CLI

def cli(site, gw, user, *args, cwd=None):
    u = site["users"][user]
    env = {**os.environ, "FIRECREST_URL": gw.url, "FIRECREST_CLIENT_ID": u["client_id"],
           "FIRECREST_CLIENT_SECRET": u["client_secret"], "AUTH_TOKEN_URL": site["oidc"]["token_url"],
           "PYTHONPATH": os.pathsep.join(CLIENT_PATH)}
    return subprocess.run(["/usr/bin/python3", "-c", "import sys; from firecrest.cli_script import main; "
                           "sys.argv[0] = 'firecrest'; main()", *args],
                          env=env, capture_output=True, text=True, timeout=300, cwd=cwd)


def test_the_cli_uploads_downloads_copies_and_moves(gw, site, workdir, tmp_path, ssh):
    data = os.urandom(2 * MiB)
    (tmp_path / "cli.bin").write_bytes(data)
    r = cli(site, gw, "alice", "upload", "--system", "hpc", "cli.bin", workdir, "cli.bin", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert remote_sha256(ssh, "alice", f"{workdir}/cli.bin") == hashlib.sha256(data).hexdigest()
    r = cli(site, gw, "alice", "cp", "--system", "hpc", f"{workdir}/cli.bin", f"{workdir}/cli.copy")
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli(site, gw, "alice", "mv", "--system", "hpc", f"{workdir}/cli.copy", f"{workdir}/cli.moved")
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli(site, gw, "alice", "download", "--system", "hpc", f"{workdir}/cli.moved", str(tmp_path / "cli.down"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "cli.down").read_bytes() == data


# --------------------------------------------------------------------------- bad input

def refused(gw, raw, method, path, status, message=None, **kw):
    r = raw(method, path, **kw)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= {"errorType", "message"}, body
    if message:
        assert message in body["message"], body
    no_job_submitted(gw, r)
    return r


def test_bad_upload_requests_are_refused_before_anything_is_created(gw, raw, workdir):
    up = "/filesystem/hpc/transfer/upload"
    target = f"{workdir}/x.bin"
    for size in (-1, "ten", None, 1.5):
        directives = {"transferMethod": "s3"} if size is None else {"transferMethod": "s3", "fileSize": size}
        refused(gw, raw, "POST", up, 400, json={"path": target, "transferDirectives": directives})
    refused(gw, raw, "POST", up, 400, "10000", json={"path": target,
                                                    "transferDirectives": {"transferMethod": "s3", "fileSize": 10001 * PART}})
    for method in ("streamer", "wormhole", "ftp"):
        refused(gw, raw, "POST", up, 400, "Requested transfer method is not available",
                json={"path": target, "transferDirectives": {"transferMethod": method, "fileSize": 10}})
    for bad in ("relative/x.bin", "/etc/x.bin", f"{workdir}/../../../etc/passwd", f"{workdir}/a\u0000b"):
        refused(gw, raw, "POST", up, 400, json={"path": bad, "transferDirectives": {"transferMethod": "s3", "fileSize": 1}})
    refused(gw, raw, "POST", up, 400, json={"path": target})
    refused(gw, raw, "POST", up, 400, data="not json", headers={"Content-Type": "application/json"})


def test_bad_transfer_jobs_are_refused_before_any_job(gw, raw, workdir, ssh):
    assert ssh.run("alice", f"mkdir {workdir}/dir").returncode == 0
    missing = f"{workdir}/missing"
    for op in ("cp", "mv"):
        refused(gw, raw, "POST", f"/filesystem/hpc/transfer/{op}", 404, "No such file",
                json={"sourcePath": missing, "targetPath": f"{workdir}/t"})
        refused(gw, raw, "POST", f"/filesystem/hpc/transfer/{op}", 400,
                json={"sourcePath": f"{workdir}/dir", "targetPath": "/etc/x"})
        refused(gw, raw, "POST", f"/filesystem/hpc/transfer/{op}", 400,
                json={"sourcePath": "relative", "targetPath": f"{workdir}/t"})
        refused(gw, raw, "POST", f"/filesystem/hpc/transfer/{op}", 403,
                json={"sourcePath": "/home/bob/anything", "targetPath": f"{workdir}/t"})
    refused(gw, raw, "DELETE", "/filesystem/hpc/transfer/rm", 404, params={"path": missing})
    refused(gw, raw, "DELETE", "/filesystem/hpc/transfer/rm", 400, params={"path": "/home"})
    down = "/filesystem/hpc/transfer/download"
    refused(gw, raw, "POST", down, 404, "No such file", json={"sourcePath": missing, "transferDirectives": {"transferMethod": "s3"}})
    refused(gw, raw, "POST", down, 400, "Is a directory",
            json={"sourcePath": f"{workdir}/dir", "transferDirectives": {"transferMethod": "s3"}})
    refused(gw, raw, "POST", down, 403, json={"sourcePath": "/home/bob/x", "transferDirectives": {"transferMethod": "s3"}})
    assert ssh.run("alice", f"echo x > {workdir}/unreadable && chmod 000 {workdir}/unreadable").returncode == 0
    refused(gw, raw, "POST", down, 403, "Permission denied",
            json={"sourcePath": f"{workdir}/unreadable", "transferDirectives": {"transferMethod": "s3"}})
    refused(gw, raw, "POST", down, 400, "Requested transfer method is not available",
            json={"sourcePath": f"{workdir}/unreadable", "transferDirectives": {"transferMethod": "streamer"}})
    refused(gw, raw, "POST", "/filesystem/hpc/transfer/cp", 400,
            json={"sourcePath": f"{workdir}/dir", "targetPath": f"{workdir}/t", "account": "a,b"})


def test_status_systems_shows_the_transfer_settings(gw, raw, site):
    r = raw("GET", "/status/systems")
    assert r.status_code == 200
    openapi.validate(openapi.FIRECREST, r)
    data = r.json()["systems"][0]["dataOperation"]
    transfer = data["data_transfer"]
    assert transfer["serviceType"] == "s3" and transfer["name"] == site["s3"]["bucket"]
    assert transfer["multipart"]["max_part_size"] == PART
    assert "--time=00:30:00" in data["datatransfer_jobs_directives"]
    text = r.text
    assert site["s3"]["secret_access_key"] not in text and site["s3"]["access_key_id"] not in text


# --------------------------------------------------------------------------- one gateway each

def test_an_account_is_required_when_the_clusters_directives_need_one(tmp_path, token, site):
    g = Gateway(tmp_path, env=gateway_env("slurm", PORTICO_TRANSFER_ACCOUNT="{account}")).start()
    try:
        raw = Raw(g, token, "alice")
        home = site["users"]["alice"]["home"]
        refused(g, raw, "POST", "/filesystem/hpc/transfer/cp", 400, "Account parameter is required on this system",
                json={"sourcePath": home, "targetPath": f"{home}/never"})
        refused(g, raw, "POST", "/filesystem/hpc/transfer/upload", 400, "Account parameter is required on this system",
                json={"path": f"{home}/never", "transferDirectives": {"transferMethod": "s3", "fileSize": 1}})
        r = raw("POST", "/filesystem/hpc/transfer/mv", json={"sourcePath": f"{home}/nothing-{uuid.uuid4().hex}",
                                                             "targetPath": f"{home}/never", "account": "climate"})
        assert r.status_code == 404, r.text  # past the account rule: the source is looked at
    finally:
        g.stop()


def test_a_pending_upload_survives_a_restart_of_portico(tmp_path, token, site, ssh):
    env = gateway_env("slurm", PORTICO_UPLOAD_WAIT="10m")
    g = Gateway(tmp_path, env=env).start()
    target = f"{site['users']['alice']['home']}/restart-{uuid.uuid4().hex[:8]}.bin"
    try:
        r = Raw(g, token, "alice")("POST", "/filesystem/hpc/transfer/upload",
                                   json={"path": target, "transferDirectives": {"transferMethod": "s3", "fileSize": 100}})
        assert r.status_code == 201, r.text
        info = r.json()
    finally:
        assert g.stop() == 0
    data = os.urandom(100)
    part = requests.put(info["partsUploadUrls"][0], data=data, timeout=60)
    done = requests.post(info["completeUploadUrl"], timeout=60, data=(
        f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{part.headers['ETag']}</ETag></Part>"
        "</CompleteMultipartUpload>"))
    assert done.status_code == 200, done.text
    g = Gateway(tmp_path, env=env, port=g.port)  # the same configuration, so the same store
    g.start()
    try:
        job = Raw(g, token, "alice").wait(info["transferJob"]["jobId"])
        assert job["status"]["state"] == "COMPLETED"
        assert remote_sha256(ssh, "alice", target) == hashlib.sha256(data).hexdigest()
    finally:
        g.stop()
        ssh.run("alice", f"rm -f {target}")
