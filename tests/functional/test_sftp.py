"""File operations over the SFTP session of the user's pooled connection (ssh.sftp): which
operations use it (the audit line says so), that switching it off or a server without the sftp
subsystem changes no answer, hostile names through every operation that moved, and that the
server acting as the user keeps bob's private file from alice exactly as the commands do.

The whole FirecREST and IRI suites also run with `PORTICO_SFTP=false` in the environment
(site/gateway-config honours it), and scripts/test does so for the file tests."""
import hashlib
import os
import pathlib
import shlex
import signal
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests

from conftest import ROOT
from gateway import Gateway, free_port

OPS = "/filesystem/hpc/ops"
HOSTILE = ["with space", "quote'single", 'quote"double', "$(id)", "`id`", "new\nline", "-leading-dash",
           "semi;colon", "star*"]


def wait_for(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class Client:
    def __init__(self, gw, token, user):
        self.gw, self.user, self._token, self._fresh = gw, user, token, (None, 0.0)

    @property
    def headers(self):
        value, at = self._fresh
        if value is None or time.monotonic() - at > 60:
            self._fresh = (self._token(), time.monotonic())
        return {"Authorization": f"Bearer {self._fresh[0]}"}

    def __call__(self, method, op, headers=None, **kw):
        request_id = f"sftp-{uuid.uuid4().hex}"
        r = requests.request(method, self.gw.url + OPS + "/" + op,
                             headers={**self.headers, "X-Request-ID": request_id, **(headers or {})}, timeout=60, **kw)
        r.backend = lambda: [(c["what"], c["exit"]) for c in self.gw.audit_line(request_id).get("backend") or []]
        return r

    def upload(self, directory, name, data):
        return self("POST", "upload", params={"path": directory}, files={"file": (name, data)})


def start_gateway(tmp_path_factory, name, env=None, port=None):
    g = Gateway(tmp_path_factory.mktemp(name), env=env)
    if port:
        text = g.config.read_text()
        g.config.write_text(text.replace(f"      port: {g_site_port()}\n", f"      port: {port}\n", 1))
    return g.start()


def g_site_port():
    import json
    return json.loads((ROOT / "var" / "site" / "site.json").read_text())["ssh"]["port"]


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    g = start_gateway(tmp_path_factory, "sftp-on", env={"PORTICO_SFTP": "true", "PORTICO_HEALTH_INTERVAL": "1s"})
    yield g
    assert g.stop() == 0


@pytest.fixture(scope="module")
def gw_off(tmp_path_factory):
    g = start_gateway(tmp_path_factory, "sftp-off", env={"PORTICO_SFTP": "false", "PORTICO_HEALTH_INTERVAL": "1s"})
    yield g
    assert g.stop() == 0


def descendants(root):
    children = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rfind(")") + 2:].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    out, unvisited = [], [root]
    while unvisited:
        for child in children.get(unvisited.pop(), []):
            out.append(child)
            unvisited.append(child)
    return out


@pytest.fixture(scope="module")
def sshd_without_sftp(tmp_path_factory, site):
    """A second sshd from the site's configuration, on a free port, without `Subsystem sftp`: the
    same host key and CA, so the gateway logs in to it as to the site's."""
    if os.geteuid() != 0:
        pytest.skip("starting an sshd needs root")
    work = tmp_path_factory.mktemp("sshd-no-sftp")
    port = free_port()
    lines = []
    for line in (ROOT / "var" / "site" / "ssh" / "sshd_config").read_text().splitlines():
        if line.startswith("Port "):
            line = f"Port {port}"
        elif line.startswith("PidFile "):
            line = f"PidFile {work / 'sshd.pid'}"
        elif line.startswith("Subsystem "):
            continue
        lines.append(line)
    config = work / "sshd_config"
    config.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(config), "-E", str(work / "sshd.log")])

    def listening():
        import socket
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0
    wait_for(listening, "the second sshd to listen", timeout=30)
    yield port
    # Only what this fixture started: the listener and the sessions it forked.
    for pid in descendants(proc.pid):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def gw_no_subsystem(tmp_path_factory, sshd_without_sftp):
    g = start_gateway(tmp_path_factory, "sftp-none", env={"PORTICO_SFTP": "true", "PORTICO_HEALTH_INTERVAL": "1s"},
                      port=sshd_without_sftp)
    yield g
    assert g.stop() == 0


@pytest.fixture(scope="module")
def alice(gw, token):
    client = Client(gw, lambda: token("alice"), "alice")
    # The first request also looks the account up (cached): the tests count the calls after it.
    assert client("GET", "ls", params={"path": "/home/alice"}).status_code == 200
    return client


@pytest.fixture(scope="module")
def home(ssh):
    d = f"/home/alice/sftptest-{uuid.uuid4().hex[:8]}"
    assert ssh.run("alice", f"mkdir {d}").returncode == 0
    yield d
    ssh.run("alice", f"rm -rf {d}")


def remote_sha(ssh, user, path):
    r = ssh.run(user, f"sha256sum -- {shlex.quote(path)}")
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[0].lstrip("\\")  # sha256sum marks an escaped name with a backslash


def moved_operations(client, directory, name, data):
    """Every operation served over SFTP, on one file: (what, response) pairs, and the answers."""
    path = f"{directory}/{name}"
    out = {}
    r = client.upload(directory, name, data)
    assert r.status_code == 204, r.text
    out["upload"] = r
    r = client("GET", "download", params={"path": path})
    assert r.status_code == 200 and r.content == data, r.text
    out["download"] = r
    r = client("GET", "download", params={"path": path}, headers={"Range": "bytes=3-9"})
    assert r.status_code == 206 and r.content == data[3:10], r.text
    assert r.headers["Content-Range"] == f"bytes 3-9/{len(data)}"
    out["range"] = r
    r = client("GET", "view", params={"path": path, "offset": 2, "size": 5})
    assert r.status_code == 200 and r.json()["output"] == data[2:7].decode(), r.text
    out["view"] = r
    r = client("GET", "head", params={"path": path, "bytes": 4})
    assert r.status_code == 200 and r.json()["output"]["content"] == data[:4].decode(), r.text
    out["head"] = r
    r = client("GET", "tail", params={"path": path, "bytes": 4, "skipHeading": "false"})
    assert r.status_code == 200 and r.json()["output"]["content"] == data[-4:].decode(), r.text
    out["tail"] = r
    r = client("DELETE", "rm", params={"path": path})
    assert r.status_code == 204, r.text
    out["rm"] = r
    return out


def moved_changes(client, commands, directory, name):
    """mkdir, chmod (octal) and symlink, served over SFTP, on `name` in `directory`: (what,
    response) pairs. Each reply, the ls entry of what was made or changed, is checked against
    the same entry as `ls` lists it through `commands` (a client of a gateway with file calls
    switched off), field by field."""
    base = f"{directory}/{name}"
    out = {}

    def same_as_ls(r, path):
        assert r.status_code in (200, 201), r.text
        entry = r.json()["output"]
        listed = commands("GET", "ls", params={"path": directory, "showHidden": "true"})
        assert listed.status_code == 200, listed.text
        twin = next(e for e in listed.json()["output"] if e["name"] == path.rsplit("/", 1)[1])
        assert entry == {**twin, "name": path}, (entry, twin)

    r = client("POST", "mkdir", json={"path": base + ".d"})
    same_as_ls(r, base + ".d")
    out["mkdir"] = r
    # GNU chmod keeps a directory's set-group-ID bit that a numeric mode does not set.
    r = client("PUT", "chmod", json={"path": base + ".d", "mode": "2750"})
    assert r.json()["output"]["permissions"] == "rwxr-s---", r.text
    r = client("PUT", "chmod", json={"path": base + ".d", "mode": "750"})
    same_as_ls(r, base + ".d")
    assert r.json()["output"]["permissions"] == "rwxr-s---", r.text
    out["chmod"] = r
    r = client("POST", "symlink", json={"path": base + ".d", "linkPath": base + ".l"})
    same_as_ls(r, base + ".l")
    assert r.json()["output"]["linkTarget"] == base + ".d", r.text
    out["symlink"] = r
    r = client("DELETE", "rm", params={"path": base + ".l"})
    assert r.status_code == 204, r.text
    r = client("DELETE", "rm", params={"path": base + ".d"})
    assert r.status_code == 204, r.text
    return out


SFTP_NAME = {"upload": "sftp:upload", "download": "sftp:download", "range": "sftp:download", "view": "sftp:view",
             "head": "sftp:head", "tail": "sftp:tail", "rm": "sftp:rm", "mkdir": "sftp:mkdir", "chmod": "sftp:chmod",
             "symlink": "sftp:symlink"}


@pytest.fixture(scope="module")
def commands(gw_off, token):
    return Client(gw_off, lambda: token("alice"), "alice")


def test_the_moved_operations_go_over_sftp_with_one_backend_call_each(alice, commands, home, ssh):
    data = b"0123456789abcdef" * 4
    for what, r in moved_operations(alice, home, "plain.txt", data).items():
        assert r.backend() == [(SFTP_NAME[what], 0)], (what, r.backend())
    for what, r in moved_changes(alice, commands, home, "plain").items():
        assert r.backend() == [(SFTP_NAME[what], 0)], (what, r.backend())
    assert ssh.run("alice", f"test -e {home}/plain.txt").returncode == 1
    # No temporary file is left by the uploads.
    assert ssh.run("alice", f"ls -A {home}").stdout == ""


def test_switched_off_every_operation_is_a_command_with_the_same_answers(gw_off, commands, home, ssh):
    off = commands
    data = b"0123456789abcdef" * 4
    for what, r in {**moved_operations(off, home, "plain.txt", data), **moved_changes(off, off, home, "plain")}.items():
        calls = r.backend()
        assert calls and all(c[0].startswith("ssh:") for c in calls), (what, calls)
    ssh_health = wait_for(lambda: next((s for s in requests.get(gw_off.url + "/status/systems", headers=off.headers,
                                                                  timeout=30).json()["systems"][0]["servicesHealth"]
                                        if s["serviceType"] == "ssh"), None), "the first health round")
    assert ssh_health["healthy"] and "SFTP switched off" in ssh_health["message"], ssh_health


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_through_every_operation_that_moved(alice, commands, home, ssh, name):
    data = name.encode() + b"|" + bytes(range(32, 127))
    upload = alice.upload(home, name, data)
    assert upload.status_code == 204, upload.text
    assert remote_sha(ssh, "alice", f"{home}/{name}") == hashlib.sha256(data).hexdigest()
    assert ssh.run("alice", f"rm -- {shlex.quote(home + '/' + name)}").returncode == 0
    for what, r in {**moved_operations(alice, home, name, data), **moved_changes(alice, commands, home, name)}.items():
        assert r.backend() == [(SFTP_NAME[what], 0)], (what, r.backend())
    assert ssh.run("alice", f"ls -A {home}").stdout == ""


def test_refusals_are_the_commands_own_and_alice_cannot_reach_bobs_private_file(alice, ssh):
    r = ssh.run("bob", "printf secret > /home/bob/sftp-private.txt && chmod 600 /home/bob/sftp-private.txt")
    assert r.returncode == 0, r.stderr
    before = remote_sha(ssh, "bob", "/home/bob/sftp-private.txt")
    path = "/home/bob/sftp-private.txt"
    for method, op, kw in [("GET", "download", {"params": {"path": path}}),
                           ("GET", "download", {"params": {"path": path}, "headers": {"Range": "bytes=0-2"}}),
                           ("GET", "view", {"params": {"path": path}}),
                           ("GET", "head", {"params": {"path": path, "bytes": 3}}),
                           ("GET", "tail", {"params": {"path": path, "bytes": 3}}),
                           ("DELETE", "rm", {"params": {"path": path}})]:
        r = alice(method, op, **kw)
        assert r.status_code == 403 and "Permission denied" in r.json()["message"], (op, r.text)
        assert "secret" not in r.text
        # The SFTP server refused as the kernel does; the command then gave its own words.
        calls = r.backend()
        assert calls[0][0].startswith("sftp:") and calls[0][1] == 1 and calls[1][0].startswith("ssh:"), (op, calls)
    r = alice.upload("/home/bob", "sftp-private.txt", b"from alice")
    assert r.status_code == 403 and "Permission denied" in r.json()["message"], r.text
    for method, op, body, words in [("PUT", "chmod", {"path": path, "mode": "666"}, "Permission denied"),
                                    ("POST", "mkdir", {"path": "/home/bob/from-alice"}, "Permission denied"),
                                    ("POST", "symlink", {"path": path, "linkPath": "/home/bob/from-alice"},
                                     "Permission denied")]:
        r = alice(method, op, json=body)
        assert r.status_code == 403 and words in r.json()["message"], (op, r.text)
        calls = r.backend()
        assert calls[0] == (f"sftp:{op}", 1) and calls[1][0].startswith("ssh:"), (op, calls)
    assert ssh.run("bob", "test -e /home/bob/from-alice").returncode == 1
    assert ssh.run("bob", f"stat -c %a {path}").stdout == "600\n"
    assert remote_sha(ssh, "bob", path) == before
    ssh.run("bob", f"rm -f {path}")


def test_the_commands_answer_what_sftp_cannot_say_exactly(alice, home, ssh):
    assert ssh.run("alice", f"mkfifo {home}/fifo && mkdir {home}/dir && printf x > {home}/file").returncode == 0
    # Not a regular file: never opened over SFTP (a FIFO would hold the session).
    r = alice("GET", "download", params={"path": f"{home}/fifo"})
    assert r.status_code == 400 and "regular file" in r.json()["message"], r.text
    r = alice("GET", "download", params={"path": f"{home}/dir"})
    assert r.status_code == 400 and "directory" in r.json()["message"].lower(), r.text
    # ENOTDIR and ENOENT are one SFTP status; the command tells them apart.
    r = alice("GET", "view", params={"path": f"{home}/file/below"})
    assert r.status_code == 400 and "Not a directory" in r.json()["message"], r.text
    r = alice("GET", "view", params={"path": f"{home}/missing"})
    assert r.status_code == 404 and "No such file or directory" in r.json()["message"], r.text
    # rm of a directory is rm -r's.
    r = alice("DELETE", "rm", params={"path": f"{home}/dir"})
    assert r.status_code == 204, r.text
    assert [c[0] for c in r.backend()] == ["sftp:rm", "ssh:rm"]
    # The session is still good after all of that.
    r = alice("GET", "view", params={"path": f"{home}/file"})
    assert r.status_code == 200 and r.json()["output"] == "x" and r.backend() == [("sftp:view", 0)], r.text
    ssh.run("alice", f"rm -f {home}/fifo {home}/file")


def test_an_upload_never_replaces_a_directory_and_leaves_no_temporary_file(alice, home, ssh):
    assert ssh.run("alice", f"mkdir {home}/target").returncode == 0
    r = alice.upload(home, "target", b"data")
    assert r.status_code == 400 and "directory" in r.json()["message"].lower(), r.text
    assert ssh.run("alice", f"test -d {home}/target").returncode == 0
    assert ssh.run("alice", f"ls -A {home}").stdout == "target\n"
    # Into something that is not a directory: the script's refusal, before the body is read.
    assert ssh.run("alice", f"printf x > {home}/plain").returncode == 0
    r = alice.upload(f"{home}/plain", "f", b"data")
    assert r.status_code == 400 and "Not a directory" in r.json()["message"], r.text
    ssh.run("alice", f"rm -rf {home}/target {home}/plain")


def test_a_server_without_the_sftp_subsystem_is_served_by_commands(gw_no_subsystem, token, commands, home, ssh):
    client = Client(gw_no_subsystem, lambda: token("alice"), "alice")
    data = b"no subsystem here" * 3
    for what, r in {**moved_operations(client, home, "plain.txt", data),
                    **moved_changes(client, commands, home, "plain")}.items():
        calls = r.backend()
        assert calls and all(c[0].startswith("ssh:") for c in calls), (what, calls)

    def ssh_health():
        systems = requests.get(gw_no_subsystem.url + "/status/systems", headers=client.headers, timeout=30).json()
        health = [s for s in systems["systems"][0]["servicesHealth"] if s["serviceType"] == "ssh"]
        return health and "no SFTP subsystem" in health[0]["message"] and health[0]
    health = wait_for(ssh_health, "the health snapshot to name the missing subsystem")
    assert health["healthy"], health
