"""The site's S3 endpoint (site/peers/s3-front.mjs before s3rver): it checks SigV4 as S3 does, with
AWS's own signer, so what it accepts says something about a signer. botocore/boto3 (Debian's) are
the clients here: presigned URLs as Portico hands them out, and header-signed calls as boto3 makes
them (over plain http: a hex payload SHA-256, Content-MD5 on PutObject/UploadPart, Expect:
100-continue, no aws-chunked bodies)."""
import base64
import contextlib
import datetime
import hashlib
import http.client
import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import time
import types
import urllib.parse
import uuid

import boto3
import botocore.auth
import pytest
import requests
from boto3.s3.transfer import TransferConfig
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

ROOT = pathlib.Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


# ---------------------------------------------------------------------------------- helpers
def make_client(s3, key_id=None, secret=None, region=None, endpoint=None):
    return boto3.client(
        "s3", endpoint_url=endpoint or s3["endpoint"], region_name=region or s3["region"],
        aws_access_key_id=key_id or s3["access_key_id"],
        aws_secret_access_key=secret or s3["secret_access_key"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      retries={"total_max_attempts": 1}))


@contextlib.contextmanager
def clock(at):
    """botocore signs as if it were AT (a naive UTC datetime)."""
    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return at

    saved = botocore.auth.datetime
    botocore.auth.datetime = types.SimpleNamespace(datetime=Fixed)
    try:
        yield
    finally:
        botocore.auth.datetime = saved


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)


def error_code(r):
    m = re.search(r"<Code>([^<]*)</Code>", r.text)
    return m.group(1) if m else None


def client_error(excinfo):
    e = excinfo.value.response
    return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"]


def with_param(url, name, change):
    """URL with query parameter NAME's raw (encoded) value replaced by change(value)."""
    base, query = url.split("?", 1)
    parts = []
    for p in query.split("&"):
        k, _, v = p.partition("=")
        parts.append(f"{k}={change(v)}" if k == name else p)
    assert any(p.startswith(name + "=") for p in query.split("&")), (name, url)
    return base + "?" + "&".join(parts)


def flip_last_hex(s):
    return s[:-1] + ("0" if s[-1] != "0" else "1")


def wait_for(condition, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def header_signed(s3, method, url, body=b"", signed_body=None, **headers):
    """Headers for URL signed as botocore does (SigV4, hex payload hash of SIGNED_BODY)."""
    req = AWSRequest(method, url, data=body if signed_body is None else signed_body, headers=headers)
    botocore.auth.S3SigV4Auth(Credentials(s3["access_key_id"], s3["secret_access_key"]), "s3",
                              s3["region"]).add_auth(req)
    return dict(req.headers)


def new_bucket_name():
    return f"t-{uuid.uuid4().hex[:20]}"


def delete_bucket(client, name):
    with contextlib.suppress(ClientError):
        for page in client.get_paginator("list_objects").paginate(Bucket=name):
            for o in page.get("Contents", []):
                client.delete_object(Bucket=name, Key=o["Key"])
        client.delete_bucket(Bucket=name)


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def s3(site):
    return site["s3"]


@pytest.fixture(scope="module")
def client(s3):
    return make_client(s3)


@pytest.fixture
def bucket(client):
    name = new_bucket_name()
    client.create_bucket(Bucket=name)
    yield name
    delete_bucket(client, name)


@pytest.fixture
def upload(client, bucket):
    """A pending multipart upload of key 'mp/object' with parts 1 (5 MiB) and 2 (1 KiB)."""
    key = "mp/object"
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    bodies = {1: os.urandom(5 * MiB), 2: os.urandom(1024)}
    etags = {n: client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=b)["ETag"]
             for n, b in bodies.items()}
    return types.SimpleNamespace(bucket=bucket, key=key, id=upload_id, bodies=bodies, etags=etags)


def complete(client, up, parts):
    return client.complete_multipart_upload(
        Bucket=up.bucket, Key=up.key, UploadId=up.id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]})


# ---------------------------------------------------------------------------------- presigned URLs
def test_presigned_put_and_get_work(client, bucket):
    key = "dir/a file+with ~odd(chars)!*'é"
    body = os.urandom(100_000)
    put = client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=600)
    assert "X-Amz-SignedHeaders=host" in put
    r = requests.put(put, data=body, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    get = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=600)
    r = requests.get(get, timeout=30)
    assert r.status_code == 200 and r.content == body


@pytest.fixture
def presigned(client, bucket):
    """A presigned GET of an existing object, and a presigned UploadPart of a pending upload."""
    client.put_object(Bucket=bucket, Key="obj", Body=b"payload")
    get = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "obj"}, ExpiresIn=600)
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part = client.generate_presigned_url("upload_part", ExpiresIn=600, HttpMethod="PUT", Params={
        "Bucket": bucket, "Key": "mp", "UploadId": upload_id, "PartNumber": 1})
    assert requests.get(get, timeout=10).status_code == 200
    return types.SimpleNamespace(get=get, part=part, bucket=bucket)


@pytest.mark.parametrize("tamper, code", [
    (lambda u: with_param(u, "X-Amz-Signature", flip_last_hex), "SignatureDoesNotMatch"),
    (lambda u: u.replace("/obj?", "/obk?"), "SignatureDoesNotMatch"),
    (lambda u: with_param(u, "X-Amz-Expires", lambda v: str(int(v) + 1)), "SignatureDoesNotMatch"),
    (lambda u: with_param(u, "X-Amz-Date", lambda v: v[:-3] + ("00Z" if v[-3:] != "00Z" else "01Z")),
     "SignatureDoesNotMatch"),
    (lambda u: with_param(u, "X-Amz-Credential", lambda v: "AKIAIOSFODNN7EXAMPLE" + v[v.index("%2F"):]),
     "InvalidAccessKeyId"),
    (lambda u: u.split("?")[0], "AccessDenied"),
], ids=["signature-digit", "object-key", "expires", "date", "unknown-key-id", "no-auth"])
def test_a_tampered_presigned_get_is_refused(presigned, tamper, code):
    r = requests.get(tamper(presigned.get), timeout=10)
    assert (r.status_code, error_code(r)) == (403, code), r.text
    assert r.headers["Content-Type"] == "application/xml"


@pytest.mark.parametrize("param, change", [
    ("uploadId", lambda v: v[:-1] + ("0" if v[-1] != "0" else "1")),
    ("partNumber", lambda v: "2"),
])
def test_a_presigned_upload_part_with_another_upload_or_part_is_refused(presigned, param, change):
    r = requests.put(with_param(presigned.part, param, change), data=b"x" * 1000, timeout=10)
    assert (r.status_code, error_code(r)) == (403, "SignatureDoesNotMatch"), r.text
    r = requests.put(presigned.part, data=b"x" * 1000, timeout=10)
    assert r.status_code == 200 and r.headers["ETag"]


def test_a_url_signed_with_a_wrong_secret_is_refused_with_what_s3_computed(s3, bucket, client):
    client.put_object(Bucket=bucket, Key="obj", Body=b"payload")
    other = make_client(s3, secret=s3["secret_access_key"][:-1] + ("A" if s3["secret_access_key"][-1] != "A" else "B"))
    r = requests.get(other.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "obj"}), timeout=10)
    assert (r.status_code, error_code(r)) == (403, "SignatureDoesNotMatch")
    # As S3 does, the answer shows the canonical request this side signed.
    assert f"<CanonicalRequest>GET\n/{bucket}/obj\nX-Amz-Algorithm=AWS4-HMAC-SHA256&amp;" in r.text
    assert "\nhost:127.0.0.1:" in r.text and "\nhost\nUNSIGNED-PAYLOAD</CanonicalRequest>" in r.text
    assert "<StringToSign>AWS4-HMAC-SHA256\n" in r.text


def test_a_sigv2_presigned_url_is_refused(s3, bucket, client):
    """boto3 1.26 presigns with SigV2 unless told signature_version='s3v4'; the site takes V4 only."""
    client.put_object(Bucket=bucket, Key="obj", Body=b"payload")
    v2 = boto3.client("s3", endpoint_url=s3["endpoint"], region_name=s3["region"],
                      aws_access_key_id=s3["access_key_id"], aws_secret_access_key=s3["secret_access_key"])
    url = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "obj"})
    assert "AWSAccessKeyId=" in url
    r = requests.get(url, timeout=10)
    assert (r.status_code, error_code(r)) == (400, "InvalidRequest")


def test_an_expired_url_is_refused_and_an_old_valid_one_is_not(client, bucket):
    client.put_object(Bucket=bucket, Key="obj", Body=b"payload")
    params = {"Bucket": bucket, "Key": "obj"}
    with clock(utcnow() - datetime.timedelta(hours=2)):
        expired = client.generate_presigned_url("get_object", Params=params, ExpiresIn=3600)
        valid = client.generate_presigned_url("get_object", Params=params, ExpiresIn=3 * 3600)
    r = requests.get(expired, timeout=10)
    assert (r.status_code, error_code(r)) == (403, "AccessDenied")
    assert "<Message>Request has expired</Message>" in r.text
    assert requests.get(valid, timeout=10).content == b"payload"
    with clock(utcnow() + datetime.timedelta(hours=1)):
        future = client.generate_presigned_url("get_object", Params=params, ExpiresIn=3600)
    r = requests.get(future, timeout=10)
    assert (r.status_code, error_code(r)) == (403, "AccessDenied")


def test_a_url_expires_after_its_x_amz_expires(client, bucket):
    client.put_object(Bucket=bucket, Key="obj", Body=b"payload")
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "obj"}, ExpiresIn=1)

    def refused():
        r = requests.get(url, timeout=10)
        return [r] if r.status_code != 200 else None  # (a Response of 403 is false)

    [r] = wait_for(refused, "the 1-second URL to expire", timeout=10)
    assert (r.status_code, error_code(r)) == (403, "AccessDenied")
    assert "Request has expired" in r.text


def test_a_refused_upload_is_answered_before_its_body_is_sent(presigned):
    """Expect: 100-continue (boto3, curl -T): the signature is checked on the headers alone."""
    url = urllib.parse.urlsplit(with_param(presigned.part, "X-Amz-Signature", flip_last_hex))
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("PUT", f"{url.path}?{url.query}", skip_accept_encoding=True)
    conn.putheader("Content-Length", str(64 * MiB))
    conn.putheader("Expect", "100-continue")
    conn.endheaders()
    r = conn.getresponse()  # no body was sent: a 100 Continue here would leave this waiting
    text = r.read().decode()
    assert r.status == 403 and "<Code>SignatureDoesNotMatch</Code>" in text
    conn.close()


def test_portico_s_own_calls_work_presigned(client):
    """HEAD/PUT bucket, PUT ?lifecycle (Content-MD5), POST ?uploads, UploadPart, Complete, HEAD,
    GET, DELETE ?uploadId (abort), DELETE object: all as presigned URLs, SignedHeaders=host."""
    name = new_bucket_name()

    def url(op, method, **params):
        return client.generate_presigned_url(op, Params={"Bucket": name, **params}, ExpiresIn=600, HttpMethod=method)

    try:
        assert requests.head(url("head_bucket", "HEAD"), timeout=10).status_code == 404
        assert requests.put(url("create_bucket", "PUT"), timeout=10).status_code == 200
        assert requests.head(url("head_bucket", "HEAD"), timeout=10).status_code == 200
        # Re-creating one's own bucket is 200 in us-east-1.
        assert requests.put(url("create_bucket", "PUT"), timeout=10).status_code == 200

        rules = ("<LifecycleConfiguration><Rule><ID>portico-staging-expiry</ID><Filter><Prefix></Prefix></Filter>"
                 "<Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule></LifecycleConfiguration>")
        lifecycle = url("put_bucket_lifecycle_configuration", "PUT")
        r = requests.put(lifecycle, data=rules, timeout=10)
        assert (r.status_code, error_code(r)) == (400, "InvalidRequest")  # S3 wants Content-MD5 here
        r = requests.put(lifecycle, data=rules, headers={"Content-MD5": md5_b64(b"other")}, timeout=10)
        assert (r.status_code, error_code(r)) == (400, "BadDigest")
        r = requests.put(lifecycle, data=rules, headers={"Content-MD5": md5_b64(rules.encode())}, timeout=10)
        assert r.status_code == 200, r.text
        assert client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"][0]["Expiration"] == {"Days": 7}

        r = requests.post(url("create_multipart_upload", "POST", Key="u/file"), timeout=10)
        assert r.status_code == 200
        upload_id = re.search(r"<UploadId>([^<]+)</UploadId>", r.text).group(1)
        bodies = [os.urandom(5 * MiB), os.urandom(12345)]
        etags = []
        for n, body in enumerate(bodies, 1):
            r = requests.put(url("upload_part", "PUT", Key="u/file", UploadId=upload_id, PartNumber=n),
                             data=body, timeout=30)
            assert r.status_code == 200, r.text
            assert r.headers["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'  # pyFirecREST reads it
            etags.append(r.headers["ETag"])
        xml = "<CompleteMultipartUpload>" + "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in enumerate(etags, 1)
        ) + "</CompleteMultipartUpload>"
        r = requests.post(url("complete_multipart_upload", "POST", Key="u/file", UploadId=upload_id), data=xml, timeout=30)
        assert r.status_code == 200 and "<CompleteMultipartUploadResult" in r.text, r.text

        r = requests.head(url("head_object", "HEAD", Key="u/file"), timeout=10)
        assert r.status_code == 200 and int(r.headers["Content-Length"]) == sum(map(len, bodies))
        assert requests.get(url("get_object", "GET", Key="u/file"), timeout=30).content == b"".join(bodies)

        other = client.create_multipart_upload(Bucket=name, Key="u/other")["UploadId"]
        r = requests.delete(url("abort_multipart_upload", "DELETE", Key="u/other", UploadId=other), timeout=10)
        assert r.status_code == 204
        with pytest.raises(ClientError) as e:
            client.list_parts(Bucket=name, Key="u/other", UploadId=other)
        assert client_error(e) == (404, "NoSuchUpload")

        assert requests.delete(url("delete_object", "DELETE", Key="u/file"), timeout=10).status_code == 204
        assert requests.head(url("head_object", "HEAD", Key="u/file"), timeout=10).status_code == 404
    finally:
        delete_bucket(client, name)


# ---------------------------------------------------------------------------------- header-signed (boto3)
def test_boto3_put_get_and_multipart_transfers(client, bucket, tmp_path):
    key = "a b+c/ü~(x)!"
    client.put_object(Bucket=bucket, Key=key, Body=b"hello")
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"hello"
    assert client.head_object(Bucket=bucket, Key=key)["ContentLength"] == 5

    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(11 * MiB + 17))
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    client.upload_file(str(src), bucket, "big.bin", Config=config)
    head = client.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == src.stat().st_size
    dst = tmp_path / "dst.bin"
    client.download_file(bucket, "big.bin", str(dst), Config=config)  # ranged GETs
    assert dst.read_bytes() == src.read_bytes()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == sorted([key, "big.bin"])


def test_upload_part_answers_carry_the_etag(client, upload):
    for n, body in upload.bodies.items():
        assert upload.etags[n] == f'"{hashlib.md5(body).hexdigest()}"'
    parts = client.list_parts(Bucket=upload.bucket, Key=upload.key, UploadId=upload.id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [
        (n, upload.etags[n], len(b)) for n, b in upload.bodies.items()]


@pytest.mark.parametrize("who, status, code", [
    ("wrong-secret", 403, "SignatureDoesNotMatch"),
    ("unknown-key", 403, "InvalidAccessKeyId"),
])
def test_header_signed_calls_with_wrong_credentials_are_refused(s3, bucket, client, who, status, code):
    client.put_object(Bucket=bucket, Key="obj", Body=b"payload")
    other = make_client(s3, **{
        "wrong-secret": {"secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
        "unknown-key": {"key_id": "AKIAIOSFODNN7EXAMPLE"},
    }[who])
    for call in (lambda: other.get_object(Bucket=bucket, Key="obj"),
                 lambda: other.put_object(Bucket=bucket, Key="obj", Body=b"changed")):
        with pytest.raises(ClientError) as e:
            call()
        assert client_error(e) == (status, code)
    assert client.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"payload"


def test_a_request_signed_for_another_region_is_refused_with_the_right_one(s3, client, bucket):
    client.put_object(Bucket=bucket, Key="obj", Body=b"payload")
    other = make_client(s3, region="eu-west-1")
    with pytest.raises(ClientError) as e:
        other.list_buckets()
    assert client_error(e) == (400, "AuthorizationHeaderMalformed")
    assert e.value.response["Error"]["Region"] == "us-east-1"
    # For a bucket, botocore reads <Region> and signs again for it, as against AWS.
    assert other.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"payload"


def test_a_request_signed_too_long_ago_is_refused(client, bucket):
    with clock(utcnow() - datetime.timedelta(minutes=20)), pytest.raises(ClientError) as e:
        client.head_bucket(Bucket=bucket)
    assert client_error(e)[0] == 403  # HEAD: no body, no code
    with clock(utcnow() - datetime.timedelta(minutes=20)), pytest.raises(ClientError) as e:
        client.list_objects_v2(Bucket=bucket)
    assert client_error(e) == (403, "RequestTimeTooSkewed")


def test_a_request_without_any_signature_is_refused(s3, bucket, client):
    client.put_object(Bucket=bucket, Key="obj", Body=b"payload")
    for method, path in [("GET", "/"), ("GET", f"/{bucket}"), ("GET", f"/{bucket}/obj"), ("PUT", f"/{bucket}/obj"),
                         ("DELETE", f"/{bucket}/obj")]:
        r = requests.request(method, s3["endpoint"] + path, data=b"x" if method == "PUT" else None, timeout=10)
        assert (r.status_code, error_code(r)) == (403, "AccessDenied"), (method, path)
    assert client.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"payload"


@pytest.mark.parametrize("size", [10, 3 * MiB])
def test_a_body_that_does_not_match_its_signed_hash_is_refused_and_not_stored(s3, client, bucket, size):
    client.put_object(Bucket=bucket, Key="obj", Body=b"original")
    url = f"{s3['endpoint']}/{bucket}/obj"
    body = os.urandom(size)
    headers = header_signed(s3, "PUT", url, signed_body=os.urandom(size))
    r = requests.put(url, data=body, headers=headers, timeout=30)
    assert (r.status_code, error_code(r)) == (400, "XAmzContentSHA256Mismatch"), r.text
    r = requests.put(url, data=body, headers=header_signed(s3, "PUT", url, body, **{"Content-MD5": md5_b64(b"x")}),
                     timeout=30)
    assert (r.status_code, error_code(r)) == (400, "BadDigest"), r.text
    got = client.get_object(Bucket=bucket, Key="obj")
    assert got["Body"].read() == b"original" and got["ETag"] == f'"{hashlib.md5(b"original").hexdigest()}"'


# ---------------------------------------------------------------------------------- multipart rules
def test_abort_removes_the_upload(client, upload):
    client.abort_multipart_upload(Bucket=upload.bucket, Key=upload.key, UploadId=upload.id)
    for call in (
        lambda: client.list_parts(Bucket=upload.bucket, Key=upload.key, UploadId=upload.id),
        lambda: complete(client, upload, upload.etags.items()),
        lambda: client.upload_part(Bucket=upload.bucket, Key=upload.key, UploadId=upload.id, PartNumber=3, Body=b"x"),
        lambda: client.abort_multipart_upload(Bucket=upload.bucket, Key=upload.key, UploadId=upload.id),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert client_error(e) == (404, "NoSuchUpload")
    with pytest.raises(ClientError) as e:
        client.head_object(Bucket=upload.bucket, Key=upload.key)
    assert client_error(e)[0] == 404


def test_an_upload_id_belongs_to_its_key(client, upload):
    with pytest.raises(ClientError) as e:
        client.list_parts(Bucket=upload.bucket, Key="another/key", UploadId=upload.id)
    assert client_error(e) == (404, "NoSuchUpload")


@pytest.mark.parametrize("parts, code", [
    (lambda e: [(1, e[1]), (3, e[2])], "InvalidPart"),              # part 3 was never uploaded
    (lambda e: [(1, e[2]), (2, e[2])], "InvalidPart"),              # part 1 with part 2's ETag
    (lambda e: [(1, '"' + "0" * 32 + '"'), (2, e[2])], "InvalidPart"),
    (lambda e: [(2, e[2]), (1, e[1])], "InvalidPartOrder"),
    (lambda e: [(2, e[2]), (2, e[2])], "InvalidPartOrder"),
])
def test_complete_refuses_a_wrong_part_list_and_the_upload_stays(client, upload, parts, code):
    with pytest.raises(ClientError) as e:
        complete(client, upload, parts(upload.etags))
    assert client_error(e) == (400, code)
    assert len(client.list_parts(Bucket=upload.bucket, Key=upload.key, UploadId=upload.id)["Parts"]) == 2
    complete(client, upload, upload.etags.items())
    got = client.get_object(Bucket=upload.bucket, Key=upload.key)["Body"].read()
    assert got == upload.bodies[1] + upload.bodies[2]
    with pytest.raises(ClientError) as e:
        client.list_parts(Bucket=upload.bucket, Key=upload.key, UploadId=upload.id)
    assert client_error(e) == (404, "NoSuchUpload")


def test_complete_refuses_parts_under_5_mib_but_the_last(client, bucket):
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    etags = [client.upload_part(Bucket=bucket, Key="small", UploadId=upload_id, PartNumber=n, Body=b"x" * 1000)["ETag"]
             for n in (1, 2)]
    up = types.SimpleNamespace(bucket=bucket, key="small", id=upload_id)
    with pytest.raises(ClientError) as e:
        complete(client, up, [(1, etags[0]), (2, etags[1])])
    assert client_error(e) == (400, "EntityTooSmall")
    complete(client, up, [(2, etags[1])])  # a single (last) part may be small
    assert client.get_object(Bucket=bucket, Key="small")["Body"].read() == b"x" * 1000


# ---------------------------------------------------------------------------------- lifecycle
LIFECYCLE = {"Rules": [
    {"ID": "expire-staged", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 7}},
    {"ID": "abort-uploads", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
]}


def test_lifecycle_round_trip(client, bucket):
    with pytest.raises(ClientError) as e:
        client.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert client_error(e) == (404, "NoSuchLifecycleConfiguration")
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=LIFECYCLE)
    rules = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert sorted(rules, key=lambda r: r["ID"]) == sorted(LIFECYCLE["Rules"], key=lambda r: r["ID"])
    client.put_object(Bucket=bucket, Key="fresh", Body=b"x")  # a week is far: nothing goes
    assert client.get_object(Bucket=bucket, Key="fresh")["Body"].read() == b"x"
    client.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        client.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert client_error(e) == (404, "NoSuchLifecycleConfiguration")
    with pytest.raises(ClientError) as e:
        client.get_bucket_lifecycle_configuration(Bucket=new_bucket_name())
    assert client_error(e) == (404, "NoSuchBucket")


@pytest.mark.parametrize("rule, code", [
    ({"ID": "r", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 0}}, "InvalidArgument"),
    ({"ID": "r", "Filter": {"Prefix": ""}, "Status": "Enabled"}, "InvalidRequest"),
    ({"ID": "r", "Filter": {"Prefix": ""}, "Status": "On", "Expiration": {"Days": 1}}, "MalformedXML"),
])
def test_a_bad_lifecycle_is_refused(client, bucket, rule, code):
    with pytest.raises(ClientError) as e:
        client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule]})
    assert client_error(e) == (400, code)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fast_front(s3, tmp_path):
    """A second front on the site's s3rver whose lifecycle day lasts one second."""
    port = free_port()
    backend = urllib.parse.urlsplit(s3["backend_endpoint"])
    key_id, secret = "AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)
    (tmp_path / "front.json").write_text(json.dumps({
        "host": "127.0.0.1", "port": port, "region": s3["region"],
        "credentials": [{"access_key_id": key_id, "secret_access_key": secret}],
        "backend": {"host": backend.hostname, "port": backend.port, "access_key_id": "S3RVER",
                    "secret_access_key": "S3RVER"},
        "data_dir": s3["data_dir"], "state_dir": str(tmp_path / "state")}))
    log = open(tmp_path / "front.log", "w")
    proc = subprocess.Popen([shutil.which("node"), str(ROOT / "site/peers/s3-front.mjs"), str(tmp_path / "front.json")],
                            stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "S3_FRONT_DAY_SECONDS": "1", "S3_FRONT_SWEEP_SECONDS": "0.2"})

    def listening():
        assert proc.poll() is None, (tmp_path / "front.log").read_text()
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_for(listening, "the second front to listen", timeout=20)
    client = make_client(s3, key_id=key_id, secret=secret, endpoint=f"http://127.0.0.1:{port}")
    name = new_bucket_name()
    client.create_bucket(Bucket=name)
    yield types.SimpleNamespace(client=client, bucket=name)
    delete_bucket(client, name)
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def test_lifecycle_rules_are_enforced(fast_front):
    c, b = fast_front.client, fast_front.bucket
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "expire-tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "abort-all", "Filter": {"Prefix": ""}, "Status": "Enabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
        {"ID": "disabled", "Filter": {"Prefix": "keep/"}, "Status": "Disabled", "Expiration": {"Days": 1}},
    ]})
    c.put_object(Bucket=b, Key="tmp/a", Body=b"a")
    c.put_object(Bucket=b, Key="keep/b", Body=b"b")
    upload_id = c.create_multipart_upload(Bucket=b, Key="keep/c")["UploadId"]

    def gone(call):
        try:
            call()
        except ClientError as e:
            return e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        return False

    wait_for(lambda: gone(lambda: c.head_object(Bucket=b, Key="tmp/a")), "tmp/a to expire")
    wait_for(lambda: gone(lambda: c.list_parts(Bucket=b, Key="keep/c", UploadId=upload_id)),
             "the pending upload to be aborted")
    # The sweep that expired tmp/a looked at keep/b too: no enabled rule covers it.
    assert c.get_object(Bucket=b, Key="keep/b")["Body"].read() == b"b"
