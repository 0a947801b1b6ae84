"""The IRI filesystem operations as tasks (v1: reads with query parameters; v2: POST bodies) and
the task operations (getTask, getTasks, deleteTask), on the real site as the token's user. Every
reply is validated against the official document of its version; each task's result is checked
against what the file system holds (read over SSH as the user)."""
import base64
import hashlib
import time
import uuid

import pytest
import requests

from gateway import Gateway
from iri import checked, problem, wait_for

VERSIONS = ["v1", "v2"]
ENDED = {"completed", "failed", "canceled"}
# v1 verbs of the operations; v2 takes POST for every one.
V1 = {"ls": "GET", "stat": "GET", "file": "GET", "checksum": "GET", "head": "GET", "tail": "GET", "view": "GET",
      "download": "GET", "rm": "DELETE", "chmod": "PUT", "chown": "PUT", "mkdir": "POST", "symlink": "POST",
      "cp": "POST", "mv": "POST", "compress": "POST", "extract": "POST"}
QUERY = {"ls", "stat", "file", "checksum", "head", "tail", "view", "download", "rm"}  # v1 reads the query


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("iri-tasks"),
                extra_yaml="tasks:\n  per_user: 4\n  max_download_bytes: 64KiB\n").start()
    yield g
    assert g.stop() == 0


class Client:
    TOKEN_AGE = 120

    def __init__(self, gw, user, new_token):
        self.gw, self.user, self.new_token, self.token, self.fetched = gw, user, new_token, None, 0.0

    def __call__(self, method, version, path, **kw):
        if self.token is None or time.monotonic() - self.fetched > self.TOKEN_AGE:
            self.token, self.fetched = self.new_token(), time.monotonic()
        r = requests.request(method, f"{self.gw.url}/api/{version}{path}",
                             headers={"Authorization": f"Bearer {self.token}"}, timeout=60, **kw)
        return checked(r, version, method)

    def resource(self, version, name="hpc:/home"):
        r = self("POST" if version == "v2" else "GET", version, "/filesystem/resources")
        assert r.status_code == 200, r.text
        return next(x["id"] for x in r.json() if x["name"] == name)

    def submit(self, version, op, expect=None, resource=None, **fields):
        """Submits `op` with `fields` as v1 or v2 carries them; returns the reply."""
        resource = resource or self.resource(version)
        if version == "v2":
            method, kw = "POST", {"json": fields}
        elif op in QUERY:
            method, kw = V1[op], {"params": {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in fields.items()}}
        else:
            method, kw = V1[op], {"json": fields}
        r = self(method, version, f"/filesystem/{op}/{resource}", **kw)
        if expect is not None:
            assert r.status_code == expect, r.text
        return r

    def task(self, version, task_id):
        r = self("GET", version, f"/task/{task_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def wait(self, version, task_id, timeout=60):
        return wait_for(lambda: (t := self.task(version, task_id))["status"] in ENDED and t, timeout=timeout,
                        what=f"task {task_id} ended")

    def run(self, version, op, **fields):
        """Submits, waits for the end; returns the ended task."""
        r = self.submit(version, op, **fields)
        assert r.status_code in (200, 201), r.text
        body = r.json()
        assert body["task_uri"] == f"{self.gw.url}/api/{version}/task/{body['task_id']}"
        return self.wait(version, body["task_id"])

    def result(self, version, op, **fields):
        t = self.run(version, op, **fields)
        assert t["status"] == "completed", t
        assert t["command"] == {"router": "filesystem", "command": op, "args": t["command"]["args"]}
        return t["result"]["output"] if "output" in t["result"] else t["result"]


@pytest.fixture(scope="module")
def alice(gw, token):
    return Client(gw, "alice", lambda: token("alice"))


@pytest.fixture(scope="module")
def bob(gw, token):
    return Client(gw, "bob", lambda: token("bob"))


@pytest.fixture(scope="module")
def home(ssh):
    d = f"/home/alice/iritasks-{uuid.uuid4().hex[:8]}"
    r = ssh.run("alice", f"mkdir {d} && printf 'one\\ntwo\\nthree\\nfour\\n' > {d}/lines.txt && "
                         f"printf 'hidden' > {d}/.dot && mkdir {d}/sub && printf 'x' > {d}/sub/inner && "
                         f"head -c 100000 /dev/urandom > {d}/big.bin")
    assert r.returncode == 0, r.stderr
    yield d
    ssh.run("alice", f"rm -rf {d}")


def fresh(home, name):
    return f"{home}/{name}-{uuid.uuid4().hex[:6]}"


# --------------------------------------------------------------------------- reads


@pytest.mark.parametrize("version", VERSIONS)
def test_ls_with_every_option(alice, home, version):
    out = alice.result(version, "ls", path=home)
    assert {e["name"] for e in out} == {"lines.txt", "sub", "big.bin"}
    lines = next(e for e in out if e["name"] == "lines.txt")
    assert lines["type"] == "-" and lines["size"] == "19" and lines["user"] == "alice" and lines["link_target"] is None
    hidden = alice.result(version, "ls", path=home, showHidden=True, numericUid=True)
    assert ".dot" in {e["name"] for e in hidden}
    assert all(e["user"].isdigit() for e in hidden)
    deep = alice.result(version, "ls", path=home, recursive=True)
    assert any(e["name"].endswith("sub/inner") for e in deep)


@pytest.mark.parametrize("version", VERSIONS)
def test_stat_file_checksum(alice, home, ssh, version):
    s = alice.result(version, "stat", path=f"{home}/lines.txt")
    assert s["size"] == 19 and s["mode"] & 0o170000 == 0o100000
    assert alice.result(version, "file", path=f"{home}/lines.txt") == "ASCII text"
    c = alice.result(version, "checksum", path=f"{home}/lines.txt")
    assert c == {"algorithm": "SHA-256", "checksum": hashlib.sha256(b"one\ntwo\nthree\nfour\n").hexdigest()}


@pytest.mark.parametrize("version", VERSIONS)
def test_head_tail_view(alice, home, version):
    head = alice.result(version, "head", path=f"{home}/lines.txt", lines=2)
    assert head == {"content": "one\ntwo\n", "content_type": "lines", "start_position": 0, "end_position": 8}
    tail = alice.result(version, "tail", path=f"{home}/lines.txt", bytes=5)
    assert tail["content"] == "four\n" and tail["content_type"] == "bytes" and tail["end_position"] == 19
    view = alice.result(version, "view", path=f"{home}/lines.txt", offset=4, size=3)
    assert view == {"content": "two", "content_type": "bytes", "start_position": 4, "end_position": 7}


@pytest.mark.parametrize("version", VERSIONS)
def test_download_small_in_the_result_big_by_uri(alice, home, ssh, version):
    t = alice.run(version, "download", path=f"{home}/lines.txt")
    assert t["status"] == "completed"
    assert base64.b64decode(t["result"]["output"]) == b"one\ntwo\nthree\nfour\n"
    # Over the configured 64 KiB: a URI that streams the file with the caller's token.
    big = alice.run(version, "download", path=f"{home}/big.bin")["result"]
    assert big["output"] is None and big["size"] == 100000
    r = requests.get(big["download_uri"], headers={"Authorization": f"Bearer {alice.token}"}, timeout=60)
    assert r.status_code == 200
    expected = ssh.run("alice", f"sha256sum {home}/big.bin").stdout.split()[0]
    assert hashlib.sha256(r.content).hexdigest() == expected


# --------------------------------------------------------------------------- changes


@pytest.mark.parametrize("version", VERSIONS)
def test_mkdir_symlink_chmod_rm(alice, home, ssh, version):
    d = fresh(home, "made")
    made = alice.result(version, "mkdir", path=f"{d}/a/b", parent=True)
    assert made["name"] == f"{d}/a/b" and made["type"] == "d"
    link = alice.result(version, "symlink", path=f"{home}/lines.txt", link_path=f"{d}/link")
    assert link["type"] == "l" and link["link_target"] == f"{home}/lines.txt"
    changed = alice.result(version, "chmod", path=f"{d}/a", mode="700")
    assert changed["permissions"] == "rwx------"
    assert ssh.run("alice", f"stat -c %a {d}/a").stdout.strip() == "700"
    assert alice.result(version, "rm", path=d) is None
    assert ssh.run("alice", f"test -e {d}").returncode == 1


@pytest.mark.parametrize("version", VERSIONS)
def test_chown_to_ones_own_group(alice, home, version):
    entry = alice.result(version, "chown", path=f"{home}/lines.txt", group="alice")
    assert entry["group"] == "alice"


@pytest.mark.parametrize("version", VERSIONS)
def test_cp_mv_compress_extract(alice, home, ssh, version):
    d = fresh(home, "copies")
    ssh.run("alice", f"mkdir {d}")
    copied = alice.result(version, "cp", path=f"{home}/sub", target_path=f"{d}/sub-copy")
    assert copied["name"] == f"{d}/sub-copy" and copied["type"] == "d"
    moved = alice.result(version, "mv", path=f"{d}/sub-copy", target_path=f"{d}/sub-moved")
    assert moved["name"] == f"{d}/sub-moved"
    assert ssh.run("alice", f"cat {d}/sub-moved/inner && test ! -e {d}/sub-copy").stdout == "x"
    compression = "urn:doe-iri:compression:xz" if version == "v2" else "xz"
    archive = alice.result(version, "compress", path=f"{d}/sub-moved", target_path=f"{d}/a.tar.xz",
                           compression=compression)
    assert archive["name"] == f"{d}/a.tar.xz"
    ssh.run("alice", f"mkdir {d}/out")
    alice.result(version, "extract", path=f"{d}/a.tar.xz", target_path=f"{d}/out", compression=compression)
    assert ssh.run("alice", f"cat {d}/out/sub-moved/inner").stdout == "x"


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("op,fields,words", [
    ("ls", {"path": "/home/alice/no-such-dir"}, "No such file or directory"),
    ("stat", {"path": "/home/bob/.profile"}, "Permission denied"),
    ("checksum", {"path": "/home/alice"}, "Is a directory"),
    ("head", {"path": "/home/alice/no-such-file", "lines": 1}, "No such file or directory"),
    ("mkdir", {"path": "/home/alice"}, "File exists"),
    ("rm", {"path": "/home/bob/x"}, "Permission denied"),
    ("cp", {"path": "/home/alice/no-such-file", "target_path": "/home/alice/x"}, "No such file or directory"),
    ("mv", {"path": "/home/alice/no-such-file", "target_path": "/home/alice/x"}, "No such file or directory"),
    ("chmod", {"path": "/home/alice/no-such-file", "mode": "600"}, "No such file or directory"),
    ("extract", {"path": "/home/alice/no-such.tar.gz", "target_path": "/home/alice"}, ""),
])
def test_a_failing_operation_ends_failed_with_the_tools_words(alice, version, op, fields, words):
    t = alice.run(version, op, **fields)
    assert t["status"] == "failed", t
    assert words in t["result"]["error"], t


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("op,fields,names", [
    ("ls", {}, ["path"]),
    ("ls", {"path": "relative/dir"}, ["path"]),
    ("ls", {"path": "/etc"}, ["path"]),
    ("ls", {"path": "/scratch/alice"}, ["path"]),  # the /home resource's calls stay in /home
    ("stat", {"path": "/home/alice/../../etc/passwd"}, ["path"]),
    ("chmod", {"path": "/home/alice/x", "mode": "u+s; rm -rf ~"}, ["mode"]),
    ("chmod", {"path": "/home/alice/x"}, ["mode"]),
    ("head", {"path": "/home/alice/x", "bytes": 1, "lines": 1}, ["bytes", "lines"]),
    ("rm", {"path": "/home"}, ["path"]),
    ("cp", {"path": "/home/alice/x", "target_path": "/etc/x"}, ["target_path"]),
])
def test_bad_input_is_a_400_and_no_task(alice, version, op, fields, names):
    before = len(alice("GET", version, "/task").json())
    r = alice.submit(version, op, **fields)
    problem(r, 400, *names)
    assert len(alice("GET", version, "/task").json()) == before


def test_unknown_body_fields_and_bad_types_are_refused(alice):
    r = alice("POST", "v2", f"/filesystem/ls/{alice.resource('v2')}", json={"path": "/home/alice", "hidden": True})
    problem(r, 400, "hidden")
    r = alice("POST", "v2", f"/filesystem/ls/{alice.resource('v2')}", json={"path": "/home/alice", "recursive": "yes"})
    problem(r, 400, "recursive")
    r = alice("GET", "v1", f"/filesystem/ls/{alice.resource('v1')}", params={"path": "/home/alice", "recursive": "yes"})
    problem(r, 400, "recursive")
    r = alice("POST", "v2", f"/filesystem/ls/{alice.resource('v2')}", data="not json",
              )
    assert r.status_code == 400


def test_a_resource_that_is_not_a_file_system_is_404(alice):
    compute = alice("GET", "v1", "/compute/resources").json()[0]["id"]
    r = alice.submit("v1", "ls", resource=compute, path="/home/alice")
    problem(r, 404)
    r = alice.submit("v1", "ls", resource=str(uuid.uuid4()), path="/home/alice")
    problem(r, 404)


def test_a_task_needs_a_token(gw, alice):
    r = checked(requests.get(f"{gw.url}/api/v1/filesystem/ls/{alice.resource('v1')}", params={"path": "/home/alice"},
                             timeout=30))
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


# --------------------------------------------------------------------------- ownership, cancel, restart


def test_another_users_task_is_404_and_not_listed(alice, bob, home):
    t = alice.run("v1", "ls", path=home)
    for version in VERSIONS:
        problem(bob("GET", version, f"/task/{t['id']}"), 404)
        problem(bob("DELETE", version, f"/task/{t['id']}"), 404)
        assert t["id"] not in {x["id"] for x in bob("GET", version, "/task").json()}
        assert t["id"] in {x["id"] for x in alice("GET", version, "/task").json()}
    problem(alice("GET", "v1", f"/task/{uuid.uuid4()}"), 404)
    problem(alice("GET", "v1", "/task/not-a-uuid"), 400)


def test_alice_cannot_read_bobs_private_file_through_any_task(alice, ssh):
    r = ssh.run("bob", "printf secret > /home/bob/private.txt && chmod 600 /home/bob/private.txt")
    assert r.returncode == 0, r.stderr
    for op, fields in [("view", {}), ("head", {"bytes": 3}), ("tail", {"bytes": 3}), ("checksum", {}),
                       ("download", {}), ("file", {})]:
        t = alice.run("v2", op, path="/home/bob/private.txt", **fields)
        assert t["status"] == "failed" and "Permission denied" in t["result"]["error"], (op, t)
        assert "secret" not in str(t)


def test_deleting_a_running_task_kills_its_command(alice, home, ssh):
    # A FIFO nobody writes: `file` would wait on it... checksum of it blocks until cancelled.
    fifo = fresh(home, "fifo")
    assert ssh.run("alice", f"mkfifo {fifo}").returncode == 0
    r = alice.submit("v1", "checksum", path=fifo, expect=200)
    task_id = r.json()["task_id"]
    wait_for(lambda: alice.task("v1", task_id)["status"] == "active", what="task active")
    wait_for(lambda: ssh.run("alice", f"pgrep -u alice -f 'sha256sum -- {fifo}'").returncode == 0,
             what="sha256sum running")
    r = alice("DELETE", "v1", f"/task/{task_id}")
    assert r.status_code == 200, r.text
    t = alice.wait("v1", task_id)
    assert t["status"] == "canceled", t
    wait_for(lambda: ssh.run("alice", f"pgrep -u alice -f 'sha256sum -- {fifo}'").returncode == 1,
             what="sha256sum gone")


def test_tasks_beyond_the_users_bound_wait_and_all_complete(alice, home):
    ids = [alice.submit("v2", "ls", path=home, expect=200).json()["task_id"] for _ in range(12)]
    for task_id in ids:
        assert alice.wait("v2", task_id)["status"] == "completed"


def test_a_restart_keeps_ended_tasks_and_fails_interrupted_ones(gw, alice, home, ssh):
    done = alice.run("v1", "ls", path=home)
    fifo = fresh(home, "fifo")
    assert ssh.run("alice", f"mkfifo {fifo}").returncode == 0
    hanging = alice.submit("v1", "checksum", path=fifo, expect=200).json()["task_id"]
    wait_for(lambda: alice.task("v1", hanging)["status"] == "active", what="task active")
    assert gw.stop() == 0
    gw.start()
    assert alice.task("v1", done["id"]) == done
    t = alice.task("v1", hanging)
    assert t["status"] == "failed" and "restart" in t["result"]["error"], t
    ssh.run("alice", f"pkill -u alice -f 'sha256sum -- {fifo}'")


# --------------------------------------------------------------------------- upload


@pytest.mark.parametrize("version", VERSIONS)
def test_upload_streams_the_file_and_the_task_is_completed_at_once(alice, home, ssh, version):
    name = f"up 'q' $(x)-{version}.bin"
    data = bytes(range(256)) * 4096  # 1 MiB, every byte value
    r = alice("POST", version, f"/filesystem/upload/{alice.resource(version)}", params={"path": home},
              files={"file": (name, data)})
    assert r.status_code == 200, r.text
    t = alice.task(version, r.json()["task_id"])
    assert t["status"] == "completed" and t["result"]["output"] == f"{home}/{name}", t
    assert t["command"] == {"router": "filesystem", "command": "upload", "args": {"path": home}}
    check = ssh.run("alice", f"sha256sum < '{home}/{name}'".replace("'q'", "'\\''q'\\''"))
    assert check.stdout.split()[0] == hashlib.sha256(data).hexdigest(), check


def test_upload_refusals_are_problems_and_leave_nothing(alice, ssh):
    resource = alice.resource("v1")
    r = alice("POST", "v1", f"/filesystem/upload/{resource}", params={"path": "/home/bob"},
              files={"file": ("x.txt", b"x")})
    problem(r, 403)
    r = alice("POST", "v1", f"/filesystem/upload/{resource}", params={"path": "/etc"}, files={"file": ("x", b"x")})
    problem(r, 400, "path")
    r = alice("POST", "v1", f"/filesystem/upload/{resource}", params={"path": "/home/alice"},
              files={"other": ("x", b"x")})
    problem(r, 400, "file")
    r = alice("POST", "v1", f"/filesystem/upload/{resource}", params={"path": "/home/alice"},
              files={"file": ("../escape", b"x")})
    problem(r, 400, "file")
    assert ssh.run("bob", "ls -A /home/bob | grep -c portico-upload").stdout.strip() == "0"


# --------------------------------------------------------------------------- long operations as jobs


@pytest.fixture(scope="module")
def patient(tmp_path_factory, token):
    """alice on a gateway whose cp, mv, rm, compress and extract become transfer jobs after 1 s."""
    g = Gateway(tmp_path_factory.mktemp("iri-long"), extra_yaml="tasks:\n  direct_timeout: 1s\n").start()
    yield Client(g, "alice", lambda: token("alice"))
    assert g.stop() == 0


def transfer_jobs(gw, name):
    """(transfer id, job id) of each transfer job of `name` the gateway's log names."""
    jobs = []
    for line in gw.log.read_text().splitlines():
        if f": {name} job " in line and " of alice " in line:
            words = line.split("transfer ", 1)[1].split()
            jobs.append((words[0].rstrip(":"), words[3]))
    return jobs


@pytest.mark.parametrize("version", VERSIONS)
def test_an_operation_that_outlasts_the_direct_timeout_becomes_a_transfer_job(patient, home, ssh, version):
    # xz of incompressible data runs at about 1 MB/s here: 4 MiB takes seconds, past the 1 s limit.
    d = fresh(home, "long")
    assert ssh.run("alice", f"mkdir {d} && head -c 4194304 /dev/urandom > {d}/random.bin").returncode == 0
    before = len(transfer_jobs(patient.gw, "CompressFiles"))
    compression = "urn:doe-iri:compression:xz" if version == "v2" else "xz"
    out = patient.result(version, "compress", path=f"{d}/random.bin", target_path=f"{d}/random.tar.xz",
                         compression=compression)
    assert out["name"] == f"{d}/random.tar.xz", out
    jobs = transfer_jobs(patient.gw, "CompressFiles")
    assert len(jobs) == before + 1, patient.gw.log.read_text()[-2000:]
    transfer_id, job_id = jobs[-1]
    listed = ssh.run("alice", f"tar -tJf {d}/random.tar.xz")
    assert listed.returncode == 0 and listed.stdout.split() == ["random.bin"], listed
    # The stopped attempt left no second archive, the job no logs.
    assert ssh.run("alice", f"ls -A {d}").stdout.split() == ["random.bin", "random.tar.xz"]
    left = ssh.run("alice", f"ls -A /home/alice | grep -c -- {transfer_id}")
    assert left.stdout.strip() == "0", left
    state = ssh.run("alice", f"sacct -n -X -P -j {job_id} -o State")
    assert state.stdout.strip() in ("COMPLETED", ""), state  # "" until slurmdbd has it


def test_cancelling_a_task_that_became_a_job_cancels_the_job(patient, home, ssh):
    d = fresh(home, "long-cancel")
    assert ssh.run("alice", f"mkdir {d} && head -c 67108864 /dev/urandom > {d}/random.bin").returncode == 0
    before = len(transfer_jobs(patient.gw, "CompressFiles"))
    r = patient.submit("v2", "compress", path=f"{d}/random.bin", target_path=f"{d}/random.tar.xz",
                       compression="urn:doe-iri:compression:xz")
    assert r.status_code == 201, r.text
    task_id = r.json()["task_id"]
    wait_for(lambda: len(transfer_jobs(patient.gw, "CompressFiles")) > before, timeout=60, what="the transfer job")
    _, job_id = transfer_jobs(patient.gw, "CompressFiles")[-1]
    assert patient("DELETE", "v2", f"/task/{task_id}").status_code == 200
    t = patient.wait("v2", task_id, timeout=60)
    assert t["status"] == "canceled", t

    def job_state():
        r = ssh.run("alice", f"squeue -h -j {job_id} -o %T; sacct -n -X -P -j {job_id} -o State")
        return r.stdout.split()
    wait_for(lambda: any(s.startswith("CANCELLED") for s in job_state()), timeout=60, what=f"job {job_id} cancelled")
