"""The FirecREST filesystem ops API on the real site: commands run over SSH as the caller."""
import hashlib
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
        """token() gives a fresh access token: one is used for a minute at most, far inside its
        lifetime, however long the module runs."""
        self.gw, self.user, self._token, self._fresh = gw, user, token, (None, 0.0)

    @property
    def headers(self):
        value, at = self._fresh
        if value is None or time.monotonic() - at > 60:
            self._fresh = (self._token(), time.monotonic())
        return {"Authorization": f"Bearer {self._fresh[0]}"}

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
    return Client(gw, lambda: token("alice"), "alice")


@pytest.fixture(scope="module")
def bob(gw, token):
    return Client(gw, lambda: token("bob"), "bob")


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
    """The backend commands the audit line of a request names."""
    return gw.audit_line(request_id).get("backend") or []


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


def test_a_change_and_its_description_are_one_backend_command(gw, alice, home):
    # mkdir, symlink, chmod and chown answer with the ls entry of the result: the change and
    # the ls run in one remote command, and the ls only after the change succeeded. With file
    # calls (ssh.sftp) the change and its entry are file calls instead, and a change they leave
    # to the command (status 1: refused) is followed by that one command.
    def calls(method, op, expect, **kw):
        request_id = f"one-{op}-{uuid.uuid4().hex}"
        r = alice(method, op, headers={"X-Request-ID": request_id}, **kw)
        assert r.status_code == expect, r.text
        return [c for c in backend_calls(gw, request_id) if not (c["what"].startswith("sftp:") and c["exit"] == 1)]

    name = f"{home}/one $(id) 'x'"
    assert len(calls("POST", "mkdir", 201, json={"sourcePath": name})) == 1
    assert len(calls("PUT", "chmod", 200, json={"sourcePath": name, "mode": "700"})) == 1
    assert len(calls("PUT", "chown", 200, json={"sourcePath": name, "group": "hpcusers"})) == 1
    assert len(calls("POST", "symlink", 201, json={"sourcePath": name, "linkPath": f"{name}-ln"})) == 1
    # A refused change runs no ls and answers with the tool's own error.
    assert len(calls("POST", "mkdir", 400, json={"sourcePath": name})) == 1
    assert alice("POST", "mkdir", json={"sourcePath": name}).json()["message"].count("File exists") == 1
    assert alice.ok("GET", "stat", params={"path": name})["mode"] & 0o777 == 0o700
    alice.ok("DELETE", "rm", expect=204, params={"path": f"{name}-ln"})
    alice.ok("DELETE", "rm", expect=204, params={"path": name})


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


# --------------------------------------------------------------------------- binary and big files

BINARY = b"a\x00b\xff\xfe\nmid\x00\x00\xc3\x28line\n\xe2\x82\xacend"


def text_of(data):
    """What a reply's content must be for these raw bytes: invalid UTF-8 becomes U+FFFD."""
    return data.decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def binfile(ssh, home):
    path = f"{home}/-bin $file"
    octal = "".join(f"\\{b:03o}" for b in BINARY)
    r = ssh.run("alice", f"printf '{octal}' > {shlex.quote(path)} && stat -c %s {shlex.quote(path)}")
    assert r.returncode == 0 and r.stdout.strip() == str(len(BINARY)), r.stderr
    return path


@pytest.mark.parametrize("op, params, start, end", [
    ("head", {"bytes": "5"}, 0, 5),
    ("head", {"bytes": "4", "skipTrailing": "true"}, 0, len(BINARY) - 4),
    ("head", {"bytes": "100000"}, 0, len(BINARY)),
    ("head", {"lines": "1"}, 0, BINARY.index(b"\n") + 1),
    ("head", {"lines": "1", "skip_trailing": "true"}, 0, BINARY.rindex(b"\n") + 1),
    ("tail", {"bytes": "6"}, len(BINARY) - 6, len(BINARY)),
    ("tail", {"bytes": "3", "skipHeading": "true"}, 2, len(BINARY)),
    ("tail", {"bytes": "100000"}, 0, len(BINARY)),
    ("tail", {"lines": "1"}, BINARY.rindex(b"\n") + 1, len(BINARY)),
    ("tail", {"lines": "2", "skip_heading": "true"}, BINARY.index(b"\n") + 1, len(BINARY)),
])
def test_head_and_tail_are_byte_exact_on_binary_content(alice, binfile, op, params, start, end):
    out = alice.ok("GET", op, params={"path": binfile, **params})
    assert (out["startPosition"], out["endPosition"]) == (start, end)
    assert out["content"] == text_of(BINARY[start:end])
    assert out["contentType"] == ("bytes" if "bytes" in params else "lines")


def test_view_is_byte_exact_on_binary_content(alice, binfile):
    assert alice.ok("GET", "view", params={"path": binfile}) == text_of(BINARY)
    assert alice.ok("GET", "view", params={"path": binfile, "offset": "1", "size": "3"}) == "\x00b\ufffd"
    assert alice.ok("GET", "view", params={"path": binfile, "offset": "7", "size": "100"}) == text_of(BINARY[7:])
    assert alice.ok("GET", "view", params={"path": binfile, "offset": str(len(BINARY) + 10)}) == ""


@pytest.fixture(scope="module")
def sparse(ssh, home):
    """A 3 GiB sparse file with no newline, ending in "END"."""
    path = f"{home}/sparse.img"
    r = ssh.run("alice", f"truncate -s 3G {path} && printf END >> {path}")
    assert r.returncode == 0, r.stderr
    yield path, 3 * 1024 ** 3 + 3
    ssh.run("alice", f"rm -f {path}")


def test_a_3gb_sparse_file_can_be_read_in_parts(alice, sparse):
    path, size = sparse
    assert alice.ok("GET", "stat", params={"path": path})["size"] == size
    out = alice.ok("GET", "head", params={"path": path, "bytes": "4"})
    assert out == {"content": "\x00" * 4, "contentType": "bytes", "startPosition": 0, "endPosition": 4}
    out = alice.ok("GET", "tail", params={"path": path, "bytes": "5"})
    assert out == {"content": "\x00\x00END", "contentType": "bytes", "startPosition": size - 5, "endPosition": size}
    assert alice.ok("GET", "view", params={"path": path, "offset": str(size - 3)}) == "END"
    assert alice.ok("GET", "view", params={"path": path, "offset": str(size - 6), "size": "4"}) == "\x00\x00\x00E"
    view = alice.ok("GET", "view", params={"path": path, "offset": str(2 * 1024 ** 3)})
    assert view == "\x00" * (1024 * 1024)


def test_a_part_over_the_cap_is_413_not_the_file_size(alice, sparse):
    path, _ = sparse
    # The first 10 "lines" of a file without newlines are all of its 3 GiB: that is over the cap.
    r = alice("GET", "head", params={"path": path})
    assert r.status_code == 413, r.text
    assert "limit" in r.json()["message"]
    r = alice("GET", "head", params={"path": path, "bytes": str(1024 ** 3)})
    assert r.status_code == 413, r.text


# --------------------------------------------------------------------------- compress and extract

SUFFIX = {"none": "tar", "gzip": "tar.gz", "bzip2": "tar.bz2", "xz": "tar.xz"}


def digest_tree(ssh, path):
    """Each regular file under path (relative name and SHA-256), as the remote side sees them."""
    r = ssh.run("alice", f"cd {shlex.quote(path)} && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum")
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture
def tree(ssh, home):
    """A fresh source directory with adversarial names, in a fresh work directory."""
    work = f"{home}/arc-{uuid.uuid4().hex[:8]}"
    src = f"{work}/-src dir"
    cmds = [f"mkdir -p {shlex.quote(src + '/sub $(id)')}"]
    for name in ADVERSARIAL:
        cmds.append(f"printf %s {shlex.quote('content of ' + name)} > {shlex.quote(src + '/' + name)}")
    cmds.append(f"printf inner > {shlex.quote(src + '/sub $(id)/inner.txt')}")
    r = ssh.run("alice", " && ".join(cmds))
    assert r.returncode == 0, r.stderr
    yield work, src
    ssh.run("alice", f"rm -rf {shlex.quote(work)}")


@pytest.mark.parametrize("compression", ["none", "gzip", "bzip2", "xz"])
def test_compress_and_extract_round_trip(alice, ssh, tree, compression):
    work, src = tree
    archive = f"{work}/-out 'x'.{SUFFIX[compression]}"
    alice.ok("POST", "compress", expect=204,
             json={"sourcePath": src, "targetPath": archive, "compression": compression})
    r = ssh.run("alice", f"file -b {shlex.quote(archive)}")
    assert {"none": "tar archive", "gzip": "gzip", "bzip2": "bzip2", "xz": "XZ"}[compression] in r.stdout
    out = f"{work}/-extracted"
    alice.ok("POST", "mkdir", expect=201, json={"sourcePath": out})
    alice.ok("POST", "extract", expect=204,
             json={"source_path": archive, "target_path": out, "compression": compression})
    # Rooted at the source's parent: the archive recreates "-src dir" inside the target.
    assert names(alice.ok("GET", "ls", params={"path": out})) == {"-src dir"}
    expected = digest_tree(ssh, src)
    assert len(expected.splitlines()) >= len(ADVERSARIAL) + 1
    assert digest_tree(ssh, f"{out}/-src dir") == expected
    # Nothing was run by a shell: no file appeared from an expansion.
    assert ssh.run("alice", f"find {shlex.quote(work)} -name '*alice*' | wc -l").stdout.strip() == "0"


def test_compress_defaults_to_gzip(alice, ssh, tree):
    work, src = tree
    alice.ok("POST", "compress", expect=204, json={"source_path": src, "target_path": f"{work}/d.tgz"})
    assert "gzip" in ssh.run("alice", f"file -b {work}/d.tgz").stdout


def test_match_pattern_is_a_regex_over_the_source_only(alice, ssh, tree):
    work, src = tree
    ssh.run("alice", f"printf s > {shlex.quote(work + '/sibling.txt')}")
    archive = f"{work}/txt.tar"
    alice.ok("POST", "compress", expect=204, json={"sourcePath": src, "targetPath": archive,
                                                   "matchPattern": r".*\.txt", "compression": "none"})
    listing = ssh.run("alice", f"tar -tf {shlex.quote(archive)}")
    assert listing.returncode == 0 and listing.stdout.splitlines() == ["./-src dir/sub $(id)/inner.txt"]
    # A regex over the whole path "./-src dir/...", not a search: this one matches no path.
    alice.ok("POST", "compress", expect=204, json={"sourcePath": src, "targetPath": archive,
                                                   "match_pattern": "[a-z]+ of", "compression": "none"})
    assert ssh.run("alice", f"tar -tf {shlex.quote(archive)}").stdout == ""
    alice.ok("POST", "compress", expect=204, json={"sourcePath": src, "targetPath": archive,
                                                   "matchPattern": ".*/quote.*", "compression": "none"})
    assert sorted(ssh.run("alice", f"tar -tf {shlex.quote(archive)}").stdout.splitlines()) == [
        "./-src dir/quote\"double", "./-src dir/quote'single"]
    out = f"{work}/o"
    alice.ok("POST", "mkdir", expect=201, json={"sourcePath": out})
    alice.ok("POST", "extract", expect=204, json={"sourcePath": archive, "targetPath": out, "compression": "none"})
    assert alice.ok("GET", "view", params={"path": f"{out}/-src dir/quote'single"}) == "content of quote'single"


@pytest.mark.parametrize("pattern", [None, ".*"])
def test_dereference_archives_what_a_link_points_to(alice, ssh, tree, pattern):
    work, src = tree
    r = ssh.run("alice", f"printf real > {shlex.quote(work + '/real')} && ln -s {shlex.quote(work + '/real')} "
                         f"{shlex.quote(src + '/link')}")
    assert r.returncode == 0, r.stderr
    for dereference, kind in [(True, "-"), (False, "l")]:
        body = {"sourcePath": src, "targetPath": f"{work}/l.tgz", "dereference": dereference}
        if pattern:
            body["matchPattern"] = pattern
        alice.ok("POST", "compress", expect=204, json=body)
        out = f"{work}/out-{dereference}"
        alice.ok("POST", "mkdir", expect=201, json={"sourcePath": out})
        alice.ok("POST", "extract", expect=204, json={"sourcePath": f"{work}/l.tgz", "targetPath": out})
        listed = {e["name"]: e for e in alice.ok("GET", "ls", params={"path": f"{out}/-src dir"})}
        if pattern and not dereference:
            assert "link" not in listed  # find -type f without -L skips the link itself
            continue
        assert listed["link"]["type"] == kind
        if dereference:
            assert alice.ok("GET", "view", params={"path": f"{out}/-src dir/link"}) == "real"


@pytest.mark.parametrize("op", ["compress", "extract"])
@pytest.mark.parametrize("field, value", [
    ("sourcePath", "/etc"), ("sourcePath", "relative/x"), ("sourcePath", "/home/../etc/passwd"),
    ("sourcePath", "/home/alice/a\x00b"),
    ("targetPath", "/tmp/x.tgz"), ("targetPath", "x.tgz"), ("targetPath", "/scratch/../etc/x"),
    ("targetPath", ""),
])
def test_archive_paths_outside_the_file_systems_are_400_and_run_nothing(gw, alice, home, op, field, value):
    request_id = f"confine-{uuid.uuid4().hex}"
    body = {"sourcePath": f"{home}/sub", "targetPath": f"{home}/x.tgz", field: value}
    r = alice("POST", op, json=body, headers={"X-Request-ID": request_id})
    assert r.status_code == 400, r.text
    assert r.json()["data"]["fields"][0]["name"] == field
    assert backend_calls(gw, request_id) == []


@pytest.mark.parametrize("op", ["compress", "extract"])
def test_archive_bad_fields_are_400_and_run_nothing(gw, alice, home, op):
    for body, field in [({"compression": "zip"}, "compression"), ({"compression": 3}, "compression"),
                        ({"targetPath": None}, "targetPath"), ({"sourcePath": None}, "sourcePath")]:
        request_id = f"bad-{uuid.uuid4().hex}"
        full = {"sourcePath": f"{home}/sub", "targetPath": f"{home}/x.tgz", **body}
        full = {k: v for k, v in full.items() if v is not None}
        r = alice("POST", op, json=full, headers={"X-Request-ID": request_id})
        assert r.status_code == 400, (body, r.text)
        assert r.json()["data"]["fields"][0]["name"] == field
        assert backend_calls(gw, request_id) == []


def test_archive_refusals_follow_the_tools(alice, ssh, tree):
    work, src = tree
    # bob's home is 0700: tar and find say "Permission denied".
    for body in [{"sourcePath": "/home/bob", "targetPath": f"{work}/b.tgz"},
                 {"sourcePath": "/home/bob", "targetPath": f"{work}/b.tgz", "matchPattern": ".*"},
                 {"sourcePath": src, "targetPath": "/home/bob/stolen.tgz"}]:
        r = alice("POST", "compress", json=body)
        assert r.status_code == 403, (body, r.text)
    alice.ok("POST", "compress", expect=204, json={"sourcePath": src, "targetPath": f"{work}/a.tgz"})
    assert alice("POST", "extract", json={"sourcePath": f"{work}/a.tgz", "targetPath": "/home/bob"}).status_code == 403
    assert alice("POST", "extract", json={"sourcePath": "/home/bob/x.tgz", "targetPath": work}).status_code == 403
    # Missing things are 404.
    assert alice("POST", "compress", json={"sourcePath": f"{work}/nosuch", "targetPath": f"{work}/n.tgz"}).status_code == 404
    assert alice("POST", "compress", json={"sourcePath": src, "targetPath": f"{work}/nosuch/n.tgz"}).status_code == 404
    assert alice("POST", "extract", json={"sourcePath": f"{work}/nosuch.tgz", "targetPath": work}).status_code == 404
    assert alice("POST", "extract", json={"sourcePath": f"{work}/a.tgz", "targetPath": f"{work}/nosuch"}).status_code == 404


@pytest.mark.parametrize("compression", ["none", "gzip", "bzip2", "xz"])
def test_a_corrupt_archive_is_400_not_500(alice, ssh, tree, compression):
    work, src = tree
    ssh.run("alice", f"head -c 3000 /dev/urandom > {work}/junk && mkdir -p {work}/o")
    r = alice("POST", "extract", json={"sourcePath": f"{work}/junk", "targetPath": f"{work}/o", "compression": compression})
    assert r.status_code == 400, r.text
    assert r.json()["message"]
    # A good archive of one kind, extracted as another.
    alice.ok("POST", "compress", expect=204, json={"sourcePath": src, "targetPath": f"{work}/g", "compression": "gzip"})
    if compression not in ("gzip", "none"):  # with no compression named, tar detects it itself
        r = alice("POST", "extract", json={"sourcePath": f"{work}/g", "targetPath": f"{work}/o",
                                           "compression": compression})
        assert r.status_code == 400, r.text
    # Cut short.
    ssh.run("alice", f"head -c 200 {work}/g > {work}/cut")
    r = alice("POST", "extract", json={"sourcePath": f"{work}/cut", "targetPath": f"{work}/o"})
    assert r.status_code == 400, r.text


def test_ls_names_with_escapes_and_unicode_come_back_exact(alice, ssh, home):
    d = f"{home}/esc-{uuid.uuid4().hex[:6]}"
    wanted = ["back\\slash", "tab\there", "ctl\x01\x1f\x7f", "caf\u00e9 \u2603 \U0001f600", 'q"uote', "sl/ash"]
    made = [n for n in wanted if "/" not in n]
    cmds = [f"mkdir {shlex.quote(d)}"] + [f"printf x > {shlex.quote(d + '/' + n)}" for n in made]
    r = ssh.run("alice", " && ".join(cmds))
    assert r.returncode == 0, r.stderr
    out = alice.ok("GET", "ls", params={"path": d})
    assert names(out) == set(made)
    assert all(e["size"] == "1" and e["type"] == "-" and e["linkTarget"] is None for e in out)
    recursive = alice.ok("GET", "ls", params={"path": d, "recursive": "true"})
    assert {e["name"] for e in recursive} == {f"{d}/{n}" for n in made}
    ssh.run("alice", f"rm -rf {shlex.quote(d)}")


def test_a_command_that_runs_out_of_time_is_408(tmp_path_factory, token, ssh, home):
    # sha256sum of a FIFO nobody writes to waits for ever: the remote `timeout` ends it, the
    # answer is 408 with the "exit status:124" the FirecREST client looks for before it falls
    # back to a transfer job, and the gateway goes on serving.
    fifo = f"{home}/never-written"
    assert ssh.run("alice", f"mkfifo {fifo}").returncode == 0
    g = Gateway(tmp_path_factory.mktemp("timeout"), env={"PORTICO_COMMAND_TIMEOUT": "2s"}).start()
    try:
        alice = Client(g, lambda: token("alice"), "alice")
        r = alice("GET", "checksum", params={"path": fifo})
        assert r.status_code == 408, r.text
        assert "exit status:124" in r.json()["message"]
        assert alice.ok("GET", "stat", params={"path": fifo})["size"] == 0
    finally:
        ssh.run("alice", f"rm -f {fifo}")
        assert g.stop() == 0
