"""The demo site is real: each service answers as the software it is, on loopback."""
import time
import uuid

import boto3
import jwt
import pytest
import requests


def test_token_for_alice_verifies_against_the_providers_jwks_and_names_alice(site, token):
    raw = token("alice")
    discovery = requests.get(site["oidc"]["issuer"] + "/.well-known/openid-configuration", timeout=10).json()
    assert discovery["issuer"] == site["oidc"]["issuer"]
    key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(raw)
    claims = jwt.decode(raw, key.key, algorithms=["RS256"], audience=site["oidc"]["audience"],
                        issuer=site["oidc"]["issuer"])
    assert claims["preferred_username"] == "alice"
    assert 0 < claims["exp"] - claims["iat"] <= 300

    # A token whose payload was changed no longer verifies against the same key.
    header, payload, signature = raw.split(".")
    forged = jwt.api_jws.base64url_encode(
        jwt.api_jws.base64url_decode(payload).replace(b'"alice"', b'"bob__"')).decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{header}.{forged}.{signature}", key.key, algorithms=["RS256"],
                   audience=site["oidc"]["audience"])


def test_provider_refuses_a_wrong_client_secret(site):
    r = requests.post(site["oidc"]["token_url"], data={
        "grant_type": "client_credentials", "client_id": "alice-client", "client_secret": "wrong"}, timeout=10)
    assert r.status_code in (400, 401)
    assert r.json()["error"] == "invalid_client"


def test_ca_certificate_for_alice_logs_in_as_alice_and_is_refused_as_bob(ssh):
    key = ssh.certificate_for("alice")
    r = ssh.run("alice", "id -un", key=key)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "alice"

    r = ssh.run("bob", "id -un", key=key)
    assert r.returncode == 255
    assert "Permission denied" in r.stderr


def test_a_key_not_signed_by_the_ca_is_refused(ssh, tmp_path):
    import subprocess
    key = tmp_path / "plain"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    r = ssh.run("alice", "true", key=key)
    assert r.returncode == 255


def test_sbatch_over_ssh_runs_as_alice_and_sacct_reports_completed(ssh, site):
    marker = uuid.uuid4().hex
    out = f"{site['users']['alice']['scratch']}/site-test-{marker}.out"
    r = ssh.run("alice", f"sbatch --parsable --account=climate --output={out} --wrap='id -un; echo {marker}'")
    assert r.returncode == 0, r.stderr
    job_id = r.stdout.strip().split(";")[0]
    assert job_id.isdigit()

    state = ""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        r = ssh.run("alice", f"sacct -X -n --parsable2 -j {job_id} -o JobID,User,Account,State,ExitCode")
        rows = [line.split("|") for line in r.stdout.splitlines() if line.startswith(job_id)]
        if rows:
            state = rows[0][3]
            if state not in ("PENDING", "RUNNING", "COMPLETING", "CONFIGURING"):
                break
        time.sleep(0.5)
    assert state == "COMPLETED", r.stdout + r.stderr
    assert rows[0][1:3] == ["alice", "climate"]
    assert rows[0][4] == "0:0"
    r = ssh.run("alice", f"cat {out}")
    assert r.stdout.split() == ["alice", marker]


def test_bob_cannot_charge_alices_second_project(ssh):
    r = ssh.run("bob", "sbatch --parsable --account=genomics --wrap=true")
    assert r.returncode != 0
    assert "Invalid account" in r.stderr or "association" in r.stderr


def slurm_token(site, user, key_bytes=None, lifetime=300):
    now = int(time.time())
    key = key_bytes if key_bytes is not None else open(site["slurm"]["jwt_key"], "rb").read()
    return jwt.encode({"sun": user, "iat": now, "exp": now + lifetime}, key, algorithm="HS256")


def test_slurmrestd_answers_ping_with_a_token_for_alice(site):
    base = f"{site['slurm']['restd_url']}/slurm/{site['slurm']['restd_api_version']}"
    r = requests.get(f"{base}/ping", headers={
        "X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": slurm_token(site, "alice")}, timeout=10)
    assert r.status_code == 200, r.text
    pings = r.json()["pings"]
    assert pings and pings[0]["ping"] == "UP"

    r = requests.get(f"{base}/ping", headers={
        "X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": slurm_token(site, "alice", b"x" * 32)}, timeout=10)
    assert r.status_code in (401, 403, 500)
    assert "pings" not in r.text or not r.json().get("pings")


def test_an_object_put_to_s3_reads_back(site):
    s3 = site["s3"]
    client = boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                          aws_access_key_id=s3["access_key_id"], aws_secret_access_key=s3["secret_access_key"])
    # Its own bucket: the staging bucket is Portico's to create (with its lifecycle rule).
    bucket = f"site-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    key = "object"
    body = bytes(range(256)) * 1000
    client.put_object(Bucket=bucket, Key=key, Body=body)
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    client.delete_object(Bucket=bucket, Key=key)
    client.delete_bucket(Bucket=bucket)
