"""ops/download and ops/upload on the real site: bytes streamed between HTTP and an SSH channel."""
import base64
import hashlib
import http.client
import json
import os
import socket
import time
import urllib.parse
import uuid

import pytest
import requests
import yaml

from gateway import Gateway

OPS = "/filesystem/hpc/ops"
HOSTILE = ["with space", "quote'single", 'quote"double', "$(id)", "`id`", "new\nline", "-leading-dash",
           "semi;colon", "back\\slash", "100%", "tab\there"]
UPLOAD_LIMIT = 8 * 1024 * 1024


def with_upload_limit(gw, limit):
    config = yaml.safe_load(gw.config.read_text())
    config["clusters"][0]["max_upload_bytes"] = limit
    gw.config.write_text(yaml.safe_dump(config))
    return gw


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    g = with_upload_limit(Gateway(tmp_path_factory.mktemp("stream")), UPLOAD_LIMIT).start()
    yield g
    assert g.stop() == 0


@pytest.fixture
def alice_token(token):
    # One per test: a module's worth of tests (the 1 GiB round trip among them) may outlast a
    # token's five minutes.
    return token("alice")


@pytest.fixture
def auth(alice_token):
    return {"Authorization": f"Bearer {alice_token}"}


@pytest.fixture()
def home(ssh):
    d = f"/home/alice/stream-{uuid.uuid4().hex[:8]}"
    assert ssh.run("alice", f"mkdir {d}").returncode == 0
    yield d
    ssh.run("alice", f"rm -rf {d}")


def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def write_remote(ssh, user, path, data: bytes):
    r = ssh.run(user, f"base64 -d > {sh_quote(path)}", input=base64.b64encode(data).decode())
    assert r.returncode == 0, r.stderr


def remote_sha256(ssh, user, path):
    r = ssh.run(user, f"sha256sum < {sh_quote(path)}", timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[0]


def download(gw, auth, path, headers=None, stream=False):
    return requests.get(gw.url + OPS + "/download", params={"path": path}, headers={**auth, **(headers or {})},
                        timeout=120, stream=stream)


def upload(gw, auth, directory, filename, data, session=None):
    return (session or requests).post(gw.url + OPS + "/upload", params={"path": directory}, headers=auth,
                                      files={"file": (filename, data)}, timeout=120)


def raw_post(gw, path_and_query, headers, body_chunks, read_response=True):
    """POST with a body sent piece by piece (chunked), so a test controls exactly what is sent."""
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=120)
    conn.putrequest("POST", path_and_query)
    for k, v in headers.items():
        conn.putheader(k, v)
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    for chunk in body_chunks:
        if chunk:
            conn.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    conn.send(b"0\r\n\r\n")
    if not read_response:
        return conn
    r = conn.getresponse()
    out = (r.status, r.read())
    conn.close()
    return out


def multipart_chunks(boundary, disposition: bytes, data_chunks):
    yield b"--" + boundary + b"\r\nContent-Disposition: " + disposition + b"\r\n\r\n"
    for c in data_chunks:
        yield c
    yield b"\r\n--" + boundary + b"--\r\n"


def upload_query(directory):
    return OPS + "/upload?" + urllib.parse.urlencode({"path": directory})


def leftovers(ssh, directory):
    r = ssh.run("alice", f"ls -A {sh_quote(directory)}")
    assert r.returncode == 0, r.stderr
    return r.stdout[:-1].split("\n") if r.stdout else []


# ---- download -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", HOSTILE)
def test_download_is_byte_exact_with_hostile_names(gw, auth, ssh, home, name):
    data = bytes(range(256)) * 40 + b"\x00\xff\r\n"
    write_remote(ssh, "alice", f"{home}/{name}", data)
    r = download(gw, auth, f"{home}/{name}")
    assert r.status_code == 200, r.text
    assert r.content == data
    assert r.headers["Content-Length"] == str(len(data))
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["F7T-AppVersion"]
    assert r.headers["F7T-AuthUsername"] == "alice"


def test_download_of_a_non_utf8_name_and_an_empty_file(gw, auth, ssh, home):
    r = ssh.run("alice", f"printf 'bytes' > {home}/$(printf 'caf\\351')")
    assert r.returncode == 0, r.stderr
    raw = f"{home}/".encode() + b"caf\xe9"
    url = gw.url + OPS + "/download?path=" + urllib.parse.quote_from_bytes(raw, safe="/")
    r = requests.get(url, headers=auth, timeout=60)
    assert r.status_code == 200, r.text
    assert r.content == b"bytes"
    assert ssh.run("alice", f": > {home}/empty").returncode == 0
    r = download(gw, auth, f"{home}/empty")
    assert r.status_code == 200 and r.content == b"" and r.headers["Content-Length"] == "0"


def test_download_ranges(gw, auth, ssh, home):
    data = bytes(range(256)) * 4
    write_remote(ssh, "alice", f"{home}/r.bin", data)
    r = download(gw, auth, f"{home}/r.bin", {"Range": "bytes=10-19"})
    assert r.status_code == 206, r.text
    assert r.content == data[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    r = download(gw, auth, f"{home}/r.bin", {"Range": "bytes=1000-"})
    assert r.status_code == 206 and r.content == data[1000:]
    r = download(gw, auth, f"{home}/r.bin", {"Range": "bytes=-5"})
    assert r.status_code == 206 and r.content == data[-5:]
    r = download(gw, auth, f"{home}/r.bin", {"Range": "bytes=5000-"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{len(data)}"
    assert "not satisfiable" in r.json()["message"]
    # Several ranges or a malformed header: the whole file, as the RFC allows.
    for header in ("bytes=0-1,5-6", "bytes=x-y"):
        r = download(gw, auth, f"{home}/r.bin", {"Range": header})
        assert r.status_code == 200 and r.content == data


def test_download_refusals(gw, auth, ssh, home, token):
    r = download(gw, auth, home)
    assert r.status_code == 400 and "directory" in r.json()["message"].lower()
    assert download(gw, auth, f"{home}/missing").status_code == 404
    assert ssh.run("alice", f"mkfifo {home}/fifo").returncode == 0
    r = download(gw, auth, f"{home}/fifo")
    assert r.status_code == 400 and "regular file" in r.json()["message"]
    r = download(gw, auth, "relative/path")
    assert r.status_code == 400
    r = download(gw, auth, "/etc/passwd")
    assert r.status_code == 400
    r = download(gw, auth, "/home/alice/../../etc/passwd")
    assert r.status_code == 400
    r = requests.get(gw.url + OPS + "/download", headers=auth, timeout=30)
    assert r.status_code == 400
    # bob's home is his alone; and a file bob keeps private is refused to alice even by path.
    assert ssh.run("bob", "printf secret > /home/bob/private.txt").returncode == 0
    assert download(gw, auth, "/home/bob/private.txt").status_code == 403
    assert ssh.run("alice", f"printf x > {home}/mine && chmod 000 {home}/mine").returncode == 0
    bob = {"Authorization": f"Bearer {token('bob')}"}
    assert download(gw, bob, f"{home}/mine").status_code == 403
    r = download(gw, auth, f"{home}/mine")  # not even alice can read a 000 file
    assert r.status_code == 403, r.text


def test_download_follows_links_as_the_user(gw, auth, ssh, home):
    assert ssh.run("alice", f"printf target > {home}/t && ln -s {home}/t {home}/link "
                            f"&& ln -s /home/bob/private.txt {home}/to-bob").returncode == 0
    r = download(gw, auth, f"{home}/link")
    assert r.status_code == 200 and r.content == b"target"
    assert download(gw, auth, f"{home}/to-bob").status_code == 403


def test_download_keeps_the_connection_and_audits_bytes(gw, auth, ssh, home):
    write_remote(ssh, "alice", f"{home}/k", b"k" * 1000)
    request_ids = [f"keep-{uuid.uuid4().hex}" for _ in range(5)]
    with requests.Session() as s:
        for request_id in request_ids:
            r = s.get(gw.url + OPS + "/download", params={"path": f"{home}/k"},
                      headers={**auth, "X-Request-ID": request_id}, timeout=60)
            assert r.status_code == 200 and len(r.content) == 1000
            assert r.headers.get("Connection", "").lower() != "close"
    for request_id in request_ids:
        line = gw.audit_line(request_id)
        assert line["route"].endswith("/ops/download") and line["status"] == 200
        assert line["bytes"] == 1000 and line["user"] == "alice"


def test_client_going_away_mid_download_frees_the_channel(gw, auth, ssh, home):
    assert ssh.run("alice", f"head -c 200000000 /dev/zero > {home}/big").returncode == 0
    for _ in range(3):
        r = download(gw, auth, f"{home}/big", stream=True)
        assert r.status_code == 200
        next(r.iter_content(65536))
        r.close()
    # The gateway is still fine, and no cat of that file is left running as alice.
    r = download(gw, auth, f"{home}/r-none")
    assert r.status_code == 404
    for _ in range(100):
        if ssh.run("alice", f"pgrep -u alice -f 'cat -- {home}/big'").returncode != 0:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the remote cat of an abandoned download is still running")


# ---- upload ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", HOSTILE)
def test_upload_round_trips_hostile_names(gw, auth, ssh, home, name):
    data = os.urandom(5000) + b"\r\n--" + b"\x00"
    r = upload(gw, auth, home, name, data)
    assert r.status_code == 204, r.text
    assert remote_sha256(ssh, "alice", f"{home}/{name}") == hashlib.sha256(data).hexdigest()
    r = download(gw, auth, f"{home}/{name}")
    assert r.content == data
    assert [f for f in leftovers(ssh, home) if "portico-upload" in f] == []


def test_upload_of_a_non_utf8_name(gw, auth, ssh, home):
    boundary = b"b0undary"
    headers = {**auth, "Content-Type": "multipart/form-data; boundary=b0undary"}
    body = multipart_chunks(boundary, b'form-data; name="file"; filename="x"; filename*=UTF-8\'\'caf%E9%0A.bin', [b"data"])
    status, text = raw_post(gw, upload_query(home), headers, body)
    assert status == 204, text
    r = ssh.run("alice", f"cat \"{home}/$(printf 'caf\\351\\n.bin')\"")
    assert r.returncode == 0 and r.stdout == "data", r.stderr


def test_upload_overwrites_a_file_and_keeps_the_connection(gw, auth, ssh, home):
    with requests.Session() as s:
        for i in range(3):
            r = upload(gw, auth, home, "same.txt", f"version {i}".encode(), session=s)
            assert r.status_code == 204, r.text
    assert ssh.run("alice", f"cat {home}/same.txt").stdout == "version 2"


def test_upload_refusals_change_nothing(gw, auth, ssh, home, token):
    assert ssh.run("alice", f"mkdir {home}/adir").returncode == 0
    r = upload(gw, auth, home, "adir", b"x")
    assert r.status_code == 400 and "directory" in r.json()["message"].lower()
    assert upload(gw, auth, f"{home}/missing", "f", b"x").status_code == 404
    assert upload(gw, auth, "/etc", "f", b"x").status_code == 400
    assert upload(gw, auth, "relative", "f", b"x").status_code == 400
    for name in ("..", ".", "a/b", ""):
        r = upload(gw, auth, home, name, b"x")
        assert r.status_code == 400, (name, r.text)
    r = upload(gw, auth, "/home/bob", "f", b"x")
    assert r.status_code == 403, r.text
    bob = {"Authorization": f"Bearer {token('bob')}"}
    assert upload(gw, bob, home, "from-bob", b"x").status_code == 403
    # No file part, a part without a filename, two file parts, not multipart at all.
    r = requests.post(gw.url + OPS + "/upload", params={"path": home}, headers=auth,
                      files={"other": ("f", b"x")}, timeout=30)
    assert r.status_code == 400 and "file" in r.json()["message"]
    r = requests.post(gw.url + OPS + "/upload", params={"path": home}, headers=auth,
                      files={"file": (None, b"x")}, timeout=30)
    assert r.status_code == 400
    r = requests.post(gw.url + OPS + "/upload", params={"path": home}, headers=auth,
                      files=[("file", ("one", b"1")), ("file", ("two", b"2"))], timeout=30)
    assert r.status_code == 400 and "twice" in r.json()["message"]
    r = requests.post(gw.url + OPS + "/upload", params={"path": home}, headers={**auth, "Content-Type": "application/json"},
                      data=b"{}", timeout=30)
    assert r.status_code == 400
    status, _ = raw_post(gw, upload_query(home), {**auth, "Content-Type": "multipart/form-data; boundary=zz"},
                         [b"--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut\"\r\n\r\nno end"])
    assert status == 400
    assert sorted(leftovers(ssh, home)) == ["adir"]


def test_upload_over_the_limit_is_413_and_leaves_nothing(gw, auth, ssh, home):
    # Declared too large: refused before a byte is read.
    r = upload(gw, auth, home, "big", b"\0" * (UPLOAD_LIMIT + 100 * 1024))
    assert r.status_code == 413 and str(UPLOAD_LIMIT) in r.json()["message"]
    # Chunked, so only counting the bytes tells.
    boundary = b"limit"
    headers = {**auth, "Content-Type": "multipart/form-data; boundary=limit"}
    chunks = (b"\1" * (1024 * 1024) for _ in range(UPLOAD_LIMIT // (1024 * 1024) + 2))
    status, text = raw_post(gw, upload_query(home), headers,
                            multipart_chunks(boundary, b'form-data; name="file"; filename="big"', chunks))
    assert status == 413, text
    assert str(UPLOAD_LIMIT) in json.loads(text)["message"]
    assert leftovers(ssh, home) == []


def test_interrupted_upload_leaves_no_file(gw, auth, ssh, home):
    write_remote(ssh, "alice", f"{home}/keep.txt", b"old content")
    for target in ("new.bin", "keep.txt"):
        sock = socket.create_connection(("127.0.0.1", gw.port))
        head = (f"POST {upload_query(home)} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}\r\n"
                f"Content-Type: multipart/form-data; boundary=cut\r\nContent-Length: 100000000\r\n\r\n").encode()
        sock.sendall(head + b"--cut\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + target.encode()
                     + b"\"\r\n\r\n" + b"partial" * 100000)
        time.sleep(0.5)
        sock.close()
    # The cleanup runs after the gateway notices; wait for it (bounded), then check.
    for _ in range(100):
        names = leftovers(ssh, home)
        if names == ["keep.txt"]:
            break
        time.sleep(0.1)
    assert leftovers(ssh, home) == ["keep.txt"]
    assert ssh.run("alice", f"cat {home}/keep.txt").stdout == "old content"


def test_expect_100_continue_refusal_costs_no_upload(gw, auth, home):
    sock = socket.create_connection(("127.0.0.1", gw.port))
    sock.settimeout(30)
    head = (f"POST {upload_query('/home/bob')} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}\r\n"
            f"Content-Type: multipart/form-data; boundary=e\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n").encode()
    sock.sendall(head + b"--e\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n")
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += sock.recv(65536)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 403"), reply[:200]


# ---- the 1 GiB round trip ---------------------------------------------------------------------

def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_one_gib_round_trip(tmp_path_factory, auth, ssh, home):
    g = with_upload_limit(Gateway(tmp_path_factory.mktemp("gib")), 2 * 1024 ** 3).start()
    try:
        size = 1024 ** 3
        block = os.urandom(1024 * 1024)
        sent = hashlib.sha256()

        def data():
            for i in range(size // len(block)):
                piece = block[:i % 251] + block[i % 251:]  # the same bytes, a fresh object
                sent.update(piece)
                yield piece

        rss_before = rss_kb(g.proc.pid)
        boundary = b"gib"
        headers = {**auth, "Content-Type": "multipart/form-data; boundary=gib"}
        status, text = raw_post(g, upload_query(home), headers,
                                multipart_chunks(boundary, b'form-data; name="file"; filename="gib.bin"', data()))
        assert status == 204, text
        assert remote_sha256(ssh, "alice", f"{home}/gib.bin") == sent.hexdigest()

        got = hashlib.sha256()
        n = 0
        with download(g, auth, f"{home}/gib.bin", stream=True) as r:
            assert r.status_code == 200
            assert r.headers["Content-Length"] == str(size)
            for chunk in r.iter_content(1024 * 1024):
                got.update(chunk)
                n += len(chunk)
        assert n == size
        assert got.hexdigest() == sent.hexdigest()
        growth_mb = (rss_kb(g.proc.pid) - rss_before) / 1024
        assert growth_mb < 32, f"resident memory grew by {growth_mb:.1f} MB over a 1 GiB round trip"
    finally:
        ssh.run("alice", f"rm -f {home}/gib.bin")
        g.stop()
