"""The FirecREST filesystem ops API on the real site: commands run over SSH as the caller."""
import hashlib
import json
import shlex
import time
import uuid

import pytest
import requests

import openapi
from gateway import Gateway

OPS = "/filesystem/hpc/ops"
ADVERSARIAL = ["with space", "quote'single", 'quote"double', "$(id)", "`id`", "new\nline", "-leading-dash",
               "semi;colon", "star*"]


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("filesystem")).start()
    yield g
    assert g.stop() == 0


class Client:
    def __init__(self, gw, token, user):
        self.gw, self.user, self.headers = gw, user, {"Authorization": f"Bearer {token}"}

    def __call__(self, method, op, headers=None, **kw):
        return requests.request(method, self.gw.url + OPS + "/" + op, headers={**self.headers, **(headers or {})},
                                timeout=60, **kw)

    def ok(self, method, op, expect=200, **kw):
        r = self(method, op, **kw)
        assert r.status_code == expect, r.text
        openapi.validate(openapi.FIRECREST, r, method=method)
        return r.json()["output"] if expect != 204 else None


@pytest.fixture(scope="module")
def alice(gw, token):
    return Client(gw, token("alice"), "alice")


@pytest.fixture(scope="module")
def bob(gw, token):
    return Client(gw, token("bob"), "bob")


@pytest.fixture(scope="module")
def home(ssh):
    """A fresh directory in alice's home, with a few files, removed at the end."""
    d = f"/home/alice/fstest-{uuid.uuid4().hex[:8]}"
    r = ssh.run("alice", f"mkdir {d} && printf 'one\\ntwo\\nthree\\nfour\\n' > {d}/lines.txt && "
                         f"printf 'hidden' > {d}/.dot && mkdir {d}/sub && printf 'x' > {d}/sub/inner")
    assert r.returncode == 0, r.stderr
    yield d
    ssh.run("alice", f"rm -rf {d}")


def names(entries):
    return {e["name"] for e in entries}


def backend_calls(gw, request_id):
    """The backend commands the audit line of a request names (written just after the reply)."""
    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(l) for l in gw.log_lines() if l.startswith("{") and f'"{request_id}"' in l]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert lines, "no audit line for the request"
    return lines[-1].get("backend") or []


# --------------------------------------------------------------------------- reading

def test_ls_lists_a_directory_with_options(alice, home):
    out = alice.ok("GET", "ls", params={"path": home})
    assert names(out) == {"lines.txt", "sub"}
    entry = {e["name"]: e for e in out}["lines.txt"]
    assert entry["type"] == "-" and entry["user"] == "alice" and entry["size"] == "19"
    assert entry["linkTarget"] is None and len(entry["permissions"]) == 9
    assert {e["name"]: e for e in out}["sub"]["type"] == "d"
    assert names(alice.ok("GET", "ls", params={"path": home, "showHidden": "true"})) == {"lines.txt", "sub", ".dot"}
    numeric = alice.ok("GET", "ls", params={"path": home, "numericUid": "true"})
    assert all(e["user"].isdigit() for e in numeric)
    recursive = alice.ok("GET", "ls", params={"path": home, "recursive": "true"})
    assert any(e["name"].endswith("sub/inner") for e in recursive)


def test_ls_of_a_single_file(alice, home):
    out = alice.ok("GET", "ls", params={"path": f"{home}/lines.txt"})
    assert len(out) == 1 and out[0]["size"] == "19"


def test_stat(alice, home):
    out = alice.ok("GET", "stat", params={"path": f"{home}/lines.txt"})
    assert out["size"] == 19 and out["mode"] & 0o170000 == 0o100000 and out["nlink"] == 1
    d = alice.ok("GET", "stat", params={"path": f"{home}/sub", "dereference": "true"})
    assert d["mode"] & 0o170000 == 0o040000


def test_checksum(alice, home):
    out = alice.ok("GET", "checksum", params={"path": f"{home}/lines.txt"})
    assert out == {"algorithm": "SHA256", "checksum": hashlib.sha256(b"one\ntwo\nthree\nfour\n").hexdigest()}


@pytest.mark.parametrize("op, params, content, unit", [
    ("head", {"lines": "2"}, "one\ntwo\n", "lines"),
    ("head", {"bytes": "5"}, "one\nt", "bytes"),
    ("head", {"lines": "1", "skipTrailing": "true"}, "one\ntwo\nthree\n", "lines"),
    ("head", {}, "one\ntwo\nthree\nfour\n", "lines"),
    ("tail", {"lines": "2"}, "three\nfour\n", "lines"),
    ("tail", {"bytes": "5"}, "four\n", "bytes"),
    ("tail", {"lines": "3", "skipHeading": "true"}, "three\nfour\n", "lines"),
])
def test_head_and_tail(alice, home, op, params, content, unit):
    out = alice.ok("GET", op, params={"path": f"{home}/lines.txt", **params})
    assert out["content"] == content and out["contentType"] == unit
    assert isinstance(out["startPosition"], int) and isinstance(out["endPosition"], int)


def test_head_refuses_bytes_and_lines_together(alice, home):
    r = alice("GET", "head", params={"path": f"{home}/lines.txt", "lines": "1", "bytes": "1"})
    assert r.status_code == 400 and r.json()["errorType"] == "validation"


def test_view(alice, home):
    assert alice.ok("GET", "view", params={"path": f"{home}/lines.txt"}) == "one\ntwo\nthree\nfour\n"
    assert alice.ok("GET", "view", params={"path": f"{home}/lines.txt", "offset": "4", "size": "3"}) == "two"
    r = alice("GET", "view", params={"path": f"{home}/lines.txt", "size": str(10 * 1024 * 1024)})
    assert r.status_code == 400


def test_file(alice, home):
    assert "text" in alice.ok("GET", "file", params={"path": f"{home}/lines.txt"}).lower()
    assert alice.ok("GET", "file", params={"path": f"{home}/sub"}) == "directory"
    assert alice("GET", "file", params={"path": f"{home}/nosuch"}).status_code == 404


# --------------------------------------------------------------------------- writing

def test_mkdir_then_rm(alice, home):
    out = alice.ok("POST", "mkdir", expect=201, json={"sourcePath": f"{home}/made"})
    assert out["type"] == "d" and out["name"].endswith("made")
    r = alice("POST", "mkdir", json={"sourcePath": f"{home}/made"})
    assert r.status_code == 400 and "File exists" in r.json()["message"]
    out = alice.ok("POST", "mkdir", expect=201, json={"path": f"{home}/deep/er/dir", "parent": True})
    assert out["type"] == "d"
    alice.ok("POST", "mkdir", expect=201, json={"source_path": f"{home}/made", "parent": True})
    assert alice("POST", "mkdir", json={"sourcePath": f"{home}/a/b"}).status_code == 404
    alice.ok("DELETE", "rm", expect=204, params={"path": f"{home}/deep"})
    alice.ok("DELETE", "rm", expect=204, params={"path": f"{home}/made"})
    assert alice("GET", "stat", params={"path": f"{home}/deep"}).status_code == 404
    assert alice("DELETE", "rm", params={"path": f"{home}/deep"}).status_code == 404


def test_symlink(alice, home):
    out = alice.ok("POST", "symlink", expect=201, json={"sourcePath": f"{home}/lines.txt", "linkPath": f"{home}/ln"})
    assert out["type"] == "l" and out["linkTarget"] == f"{home}/lines.txt"
    assert alice.ok("GET", "stat", params={"path": f"{home}/ln", "dereference": "true"})["size"] == 19
    alice.ok("POST", "symlink", expect=201, json={"path": f"{home}/lines.txt", "link_path": f"{home}/ln2"})
    assert alice("POST", "symlink", json={"sourcePath": f"{home}/lines.txt", "linkPath": f"{home}/ln"}).status_code == 400
    alice.ok("DELETE", "rm", expect=204, params={"path": f"{home}/ln"})
    alice.ok("DELETE", "rm", expect=204, params={"path": f"{home}/ln2"})


def test_chmod(alice, home):
    out = alice.ok("PUT", "chmod", json={"sourcePath": f"{home}/lines.txt", "mode": "640"})
    assert out["permissions"] == "rw-r-----"
    out = alice.ok("PUT", "chmod", json={"path": f"{home}/lines.txt", "mode": "u+x,g-r"})
    assert out["permissions"] == "rwx------"
    alice.ok("PUT", "chmod", json={"source_path": f"{home}/lines.txt", "mode": "0644"})
    for bad in ["999", "abc", "777; id", "", "-R 777"]:
        r = alice("PUT", "chmod", json={"sourcePath": f"{home}/lines.txt", "mode": bad})
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["data"]["fields"][0]["name"] == "mode"
    assert alice("PUT", "chmod", json={"sourcePath": f"{home}/nosuch", "mode": "600"}).status_code == 404


def test_chown(alice, home):
    out = alice.ok("PUT", "chown", json={"sourcePath": f"{home}/lines.txt", "group": "hpcusers"})
    assert out["group"] == "hpcusers" and out["user"] == "alice"
    out = alice.ok("PUT", "chown", json={"sourcePath": f"{home}/lines.txt", "owner": "alice", "group": "hpcusers"})
    assert out["user"] == "alice"
    assert alice("PUT", "chown", json={"sourcePath": f"{home}/lines.txt", "owner": "bob"}).status_code == 403
    r = alice("PUT", "chown", json={"sourcePath": f"{home}/lines.txt", "owner": "x;id"})
    assert r.status_code == 400 and r.json()["data"]["fields"][0]["name"] == "owner"
    assert alice("PUT", "chown", json={"sourcePath": f"{home}/lines.txt"}).status_code == 400


# --------------------------------------------------------------------------- adversarial names

@pytest.mark.parametrize("name", ADVERSARIAL)
def test_adversarial_names_round_trip(alice, home, ssh, name):
    path = f"{home}/{name}"
    r = ssh.run("alice", f"printf abc > {shlex.quote(path)}")
    assert r.returncode == 0, r.stderr
    assert name in names(alice.ok("GET", "ls", params={"path": home}))
    assert alice.ok("GET", "ls", params={"path": path})[0]["name"] == path
    assert alice.ok("GET", "stat", params={"path": path})["size"] == 3
    assert alice.ok("GET", "checksum", params={"path": path})["checksum"] == hashlib.sha256(b"abc").hexdigest()
    assert alice.ok("GET", "head", params={"path": path})["content"] == "abc"
    assert alice.ok("PUT", "chmod", json={"sourcePath": path, "mode": "600"})["permissions"] == "rw-------"
    alice.ok("DELETE", "rm", expect=204, params={"path": path})
    assert name not in names(alice.ok("GET", "ls", params={"path": home}))
    d = alice.ok("POST", "mkdir", expect=201, json={"sourcePath": path})
    assert d["type"] == "d"
    alice.ok("DELETE", "rm", expect=204, params={"path": path})
    # Nothing was run by the shell: no file appeared from an expansion.
    assert ssh.run("alice", f"ls -A {shlex.quote(home)} | grep -c alice").stdout.strip() == "0"


# --------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("path", ["/etc/passwd", "/home/../etc", "relative/path", "", "/homex", "/home/../scratch/alice"])
@pytest.mark.parametrize("method, op, how", [
    ("GET", "ls", "query"), ("GET", "stat", "query"), ("GET", "checksum", "query"), ("GET", "head", "query"),
    ("GET", "tail", "query"), ("GET", "view", "query"), ("GET", "file", "query"), ("DELETE", "rm", "query"),
    ("POST", "mkdir", "body"), ("PUT", "chmod", "body"), ("PUT", "chown", "body"),
])
def test_paths_outside_the_file_systems_are_400_and_run_nothing(gw, alice, path, method, op, how):
    request_id = f"confine-{uuid.uuid4().hex}"
    headers = {"X-Request-ID": request_id}
    if how == "query":
        r = alice(method, op, params={"path": path}, headers=headers)
        field = "path"
    else:
        r = alice(method, op, json={"sourcePath": path, "mode": "600", "group": "hpcusers"}, headers=headers)
        field = "sourcePath"
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["errorType"] == "validation"
    assert body["data"]["fields"][0]["name"] == field
    assert backend_calls(gw, request_id) == []


def test_symlink_paths_are_confined(gw, alice, home):
    request_id = f"confine-{uuid.uuid4().hex}"
    r = alice("POST", "symlink", json={"sourcePath": "/etc/passwd", "linkPath": f"{home}/pw"},
              headers={"X-Request-ID": request_id})
    assert r.status_code == 400 and r.json()["data"]["fields"][0]["name"] == "sourcePath"
    r = alice("POST", "symlink", json={"sourcePath": f"{home}/lines.txt", "link_path": "/tmp/pw"},
              headers={"X-Request-ID": request_id})
    assert r.status_code == 400 and r.json()["data"]["fields"][0]["name"] == "link_path"
    assert backend_calls(gw, request_id) == []


def test_a_missing_path_field_is_400(alice):
    r = alice("GET", "ls")
    assert r.status_code == 400 and r.json()["data"]["fields"][0]["name"] == "path"
    r = alice("POST", "mkdir", json={})
    assert r.status_code == 400 and r.json()["data"]["fields"][0]["name"] == "sourcePath"


def test_rm_refuses_a_file_system_root(alice):
    r = alice("DELETE", "rm", params={"path": "/scratch"})
    assert r.status_code == 400


def test_alice_is_refused_bobs_home(alice, bob):
    for op in ["ls", "stat", "checksum", "head", "tail", "view", "file"]:
        path = "/home/bob" if op == "ls" else "/home/bob/.profile"
        r = alice("GET", op, params={"path": path})
        assert r.status_code == 403, (op, r.text)
    assert alice("POST", "mkdir", json={"sourcePath": "/home/bob/x"}).status_code == 403
    assert alice("DELETE", "rm", params={"path": "/home/bob/x"}).status_code == 403
    assert alice("GET", "ls", params={"path": "/scratch/bob"}).status_code == 403
    assert bob.ok("GET", "stat", params={"path": "/home/bob"})["mode"] & 0o777 == 0o700


def test_not_found_is_404(alice, home):
    for op in ["ls", "stat", "checksum", "head", "tail", "view", "file"]:
        r = alice("GET", op, params={"path": f"{home}/nosuch"})
        assert r.status_code == 404, (op, r.text)


def test_bytes_that_are_not_utf8_still_give_valid_json(alice, home, ssh):
    r = ssh.run("alice", f"printf 'a\\377b' > {home}/bin.dat && printf x > {home}/$'\\377'name")
    assert r.returncode == 0, r.stderr
    assert alice.ok("GET", "view", params={"path": f"{home}/bin.dat"}) == "a\ufffdb"
    assert alice.ok("GET", "head", params={"path": f"{home}/bin.dat"})["content"] == "a\ufffdb"
    assert "\ufffdname" in names(alice.ok("GET", "ls", params={"path": home}))
    ssh.run("alice", f"rm -f {home}/bin.dat {home}/$'\\377'name")


def test_the_audit_line_names_the_commands_run(gw, alice, home):
    request_id = f"ran-{uuid.uuid4().hex}"
    alice("GET", "ls", params={"path": home}, headers={"X-Request-ID": request_id})
    assert backend_calls(gw, request_id) != []
