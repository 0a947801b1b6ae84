"""The IRI compute API (PSI/J jobs: launchJob, updateJob, getJob, getJobs, cancelJob) and
Idempotency-Key, v1 and v2, against the real Slurm of the site with both scheduler backends
(the Slurm CLI over SSH, and slurmrestd with the CLI for what it cannot do). Every reply is
validated against the official document of its version."""
import concurrent.futures
import time
import uuid

import pytest
import requests

from gateway import Gateway
from iri import checked, problem, wait_for

BACKENDS = ["slurm", "slurm_rest"]
VERSIONS = ["v1", "v2"]
FINAL = {"completed", "failed", "canceled"}
HOSTILE = ["it's", "\"double\"", "$(touch /tmp/iri-pwned)", "`id`", "line1\nline2", "--help", "-n", "a b\tc",
           "$HOME", "\\", "%j", "*", ""]


@pytest.fixture(scope="module", params=BACKENDS)
def gw(request, tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("iri-compute-" + request.param), env={"PORTICO_SCHEDULER": request.param}).start()
    g.scheduler = request.param
    yield g
    assert g.stop() == 0


class Client:
    TOKEN_AGE = 120  # the site's tokens live 5 minutes

    def __init__(self, gw, user, new_token):
        self.gw, self.user, self.new_token, self.token, self.fetched = gw, user, new_token, None, 0.0

    def headers(self, extra=None):
        if self.token is None or time.monotonic() - self.fetched > self.TOKEN_AGE:
            self.token, self.fetched = self.new_token(), time.monotonic()
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def __call__(self, method, version, path, headers=None, **kw):
        r = requests.request(method, f"{self.gw.url}/api/{version}{path}", headers=self.headers(headers),
                             timeout=120, **kw)
        return checked(r, version, method)

    def resource(self, version="v1"):
        r = self("GET", version, "/compute/resources")
        assert r.status_code == 200, r.text
        return next(x["id"] for x in r.json() if x["name"] == "hpc")

    def launch(self, version, spec, expect=200, **kw):
        r = self("POST", version, f"/compute/job/{self.resource(version)}", json=spec, **kw)
        assert r.status_code == expect, r.text
        return r

    def job(self, version, job_id, **params):
        r = self("GET", version, f"/compute/status/{self.resource(version)}/{job_id}", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def wait(self, version, job_id, states=FINAL, timeout=180):
        return wait_for(lambda: (j := self.job(version, job_id))["status"]["state"] in states and j,
                        timeout=timeout, what=f"job {job_id} in {states}")


@pytest.fixture(scope="module")
def alice(gw, token):
    return Client(gw, "alice", lambda: token("alice"))


@pytest.fixture(scope="module")
def bob(gw, token):
    return Client(gw, "bob", lambda: token("bob"))


def unique(prefix="iri"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def spec(name, *args, executable="/bin/sh", **extra):
    s = {"executable": executable, "arguments": list(args), "name": name, "directory": "/home/alice",
         "resources": {"exclusive_node_use": False}, "attributes": {"duration": 300, "account": "climate"}}
    s.update(extra)
    return s


def scheduler_jobs(ssh, user, name):
    """The ids of the user's jobs of this name, as the scheduler lists them (any state)."""
    # squeue --states=all still has a job that just ended (slurmctld keeps it for MinJobAge)
    # while slurmdbd may not have recorded it yet.
    r = ssh.run(user, f"sacct -X -n -P -o JobID -S now-1hour --name={name}; squeue -h -t all -o %i --name={name}")
    assert r.returncode == 0, r.stderr
    return set(r.stdout.split())


# --------------------------------------------------------------------------- running jobs

@pytest.mark.parametrize("version", VERSIONS)
def test_a_psij_job_runs_to_completion(alice, ssh, version):
    name = unique()
    out = f"/home/alice/{name}.out"
    s = spec(name, "-c", 'echo "hello $GREETING from $(pwd)"', stdout_path=out, environment={"GREETING": "IRI"})
    job = alice.launch(version, s).json()
    assert job["job_spec"] == s and job["status"]["state"] in ("new", "queued")
    done = alice.wait(version, job["id"])
    assert done["status"]["state"] == "completed" and done["status"]["exit_code"] == 0, done
    assert done["status"]["meta_data"]["native_state"] == "COMPLETED"
    assert ssh.run("alice", f"cat {out}").stdout == "hello IRI from /home/alice\n"
    # getJob returns the stored specification.
    assert alice.job(version, job["id"], include_spec="true")["job_spec"] == s
    assert "job_spec" not in alice.job(version, job["id"])
    ssh.run("alice", f"rm -f {out}")


@pytest.mark.parametrize("version", VERSIONS)
def test_a_failing_job_is_failed_with_its_exit_code(alice, version):
    job = alice.launch(version, spec(unique(), "-c", "exit 3", stdout_path="/dev/null")).json()
    done = alice.wait(version, job["id"])
    assert done["status"]["state"] == "failed" and done["status"]["exit_code"] == 3, done


def test_hostile_arguments_and_environment_arrive_literally(alice, ssh):
    name = unique()
    out = f"/home/alice/{name}.out"
    s = spec(name, "-c", 'printf "%s\\0" "$@"; printf "%s" "$HOSTILE" > "$0.env"', out, *HOSTILE, stdout_path=out,
             environment={"HOSTILE": "$(id) `id` '\"\n--x"})
    job = alice.launch("v2", s).json()
    assert alice.wait("v2", job["id"])["status"]["state"] == "completed"
    assert ssh.run("alice", f"cat {out}").stdout == "".join(w + "\0" for w in HOSTILE)
    assert ssh.run("alice", f"cat {out}.env").stdout == "$(id) `id` '\"\n--x"
    assert ssh.run("alice", "test -e /tmp/iri-pwned; echo $?").stdout.strip() == "1"
    ssh.run("alice", f"rm -f {out} {out}.env")


def test_hostile_name_and_paths_arrive_literally(alice, ssh):
    tag = unique()
    name = f"--{tag} 'q' \"d\" $(id) `id` %j"
    out = f"/home/alice/{tag} 'q' $(id) `id` %j %u.out"
    s = spec(name, "-c", "echo ok", stdout_path=out)
    job = alice.launch("v1", s).json()
    done = alice.wait("v1", job["id"], )
    assert done["status"]["state"] == "completed", done
    assert alice.job("v2", job["id"], include_spec="true")["job_spec"]["name"] == name
    r = requests.get(f"{alice.gw.url}/compute/hpc/jobs/{job['id']}", headers=alice.headers(), timeout=60)
    assert r.json()["jobs"][0]["name"] == name
    found = ssh.run("alice", f"find /home/alice -maxdepth 1 -name '{tag}*' -print0")
    assert found.stdout == out + "\0"
    ssh.run("alice", f"find /home/alice -maxdepth 1 -name '{tag}*' -delete")


def test_v2_project_header_or_account_not_both(alice, ssh):
    name = unique()
    s = spec(name, "-c", "true", stdout_path="/dev/null")
    r = alice.launch("v2", s, headers={"X-IRI-Facility-Project": "genomics"}, expect=400)
    problem(r, 400, "X-IRI-Facility-Project")
    assert not scheduler_jobs(ssh, "alice", name)
    del s["attributes"]["account"]
    # Neither: v2 refuses rather than charge the user's default account; v1 has no such rule.
    problem(alice.launch("v2", s, expect=400), 400, "attributes.account")
    assert not scheduler_jobs(ssh, "alice", name)
    job = alice.launch("v2", s, headers={"X-IRI-Facility-Project": "genomics"}).json()
    assert alice.job("v2", job["id"])["status"]["meta_data"]["account"] == "genomics"


def test_a_retried_update_with_the_same_key_is_a_hit(alice):
    s = spec(unique(), "-c", "true", stdout_path="/dev/null",
             attributes={"duration": 300, "account": "climate", "custom_attributes": {"slurm.begin": "now+1hour"}})
    job = alice.launch("v2", s).json()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    path = f"/compute/job/{alice.resource('v2')}/{job['id']}"
    body = {**s, "name": unique("u")}
    first = alice("PUT", "v2", path, json=body, headers=key)
    assert first.status_code == 200, first.text
    again = alice("PUT", "v2", path, json=body, headers=key)
    assert again.status_code == 200 and again.headers["Idempotency-Key-Reply"] == "hit"
    assert again.json() == first.json()
    problem(alice("PUT", "v2", path, json={**s, "name": unique("v")}, headers=key), 422, "Idempotency-Key")
    alice("DELETE", "v2", f"/compute/cancel/{alice.resource('v2')}/{job['id']}")


@pytest.mark.parametrize("version", VERSIONS)
def test_cancel_a_running_job(alice, version):
    job = alice.launch(version, spec(unique(), "-c", "sleep 300", stdout_path="/dev/null")).json()
    alice.wait(version, job["id"], states={"active", "queued"})
    r = alice("DELETE", version, f"/compute/cancel/{alice.resource(version)}/{job['id']}")
    assert r.status_code == 204 and not r.content
    assert alice.wait(version, job["id"])["status"]["state"] == "canceled"


def test_a_held_job_reads_held_and_an_update_of_a_pending_job(alice, ssh):
    name = unique()
    s = spec(name, "-c", "true", stdout_path="/dev/null",
             attributes={"duration": 300, "account": "climate", "custom_attributes": {"slurm.begin": "now+1hour"}})
    job = alice.launch("v1", s).json()
    queued = alice.wait("v1", job["id"], states={"queued"})
    assert "BeginTime" in queued["status"]["message"] or queued["status"]["meta_data"].get("reason") in (None, "None", "BeginTime")
    new_name = unique("renamed")
    changed = {**s, "name": new_name, "attributes": {**s["attributes"], "duration": 120, "account": "genomics"}}
    r = alice("PUT", "v1", f"/compute/job/{alice.resource()}/{job['id']}", json=changed)
    assert r.status_code == 200, r.text
    assert r.json()["job_spec"]["name"] == new_name
    after = alice.job("v2", job["id"], include_spec="true")
    assert after["status"]["meta_data"]["time_limit"] == 120 and after["status"]["meta_data"]["account"] == "genomics"
    assert after["job_spec"]["attributes"]["duration"] == 120
    # A field updateJob cannot change: 501, nothing changed.
    r = alice("PUT", "v2", f"/compute/job/{alice.resource('v2')}/{job['id']}", json={**changed, "executable": "/bin/false"})
    problem(r, 501)
    # Held by the scheduler's own hold.
    assert ssh.run("alice", f"scontrol hold {job['id']}").returncode == 0
    held = alice.wait("v2", job["id"], states={"held"})
    assert held["status"]["meta_data"]["native_state"] == "PENDING"
    r = alice("DELETE", "v1", f"/compute/cancel/{alice.resource()}/{job['id']}")
    assert r.status_code == 204


def test_an_update_of_a_running_job_is_409(alice):
    job = alice.launch("v2", spec(unique(), "-c", "sleep 300", stdout_path="/dev/null")).json()
    alice.wait("v2", job["id"], states={"active"})
    r = alice("PUT", "v2", f"/compute/job/{alice.resource('v2')}/{job['id']}", json={"attributes": {"duration": 60}})
    problem(r, 409)
    alice("DELETE", "v2", f"/compute/cancel/{alice.resource('v2')}/{job['id']}")


def test_a_container_without_a_configured_runtime_is_501(alice, ssh):
    name = unique()
    r = alice.launch("v2", spec(name, "-c", "true", container={"image": "docker://alpine"}), expect=501)
    problem(r, 501)
    assert not scheduler_jobs(ssh, "alice", name)


# --------------------------------------------------------------------------- lists and users

def test_get_jobs_pages_filters_and_lists_finished_jobs_only_when_historical(alice):
    name = unique()
    ids = [alice.launch("v1", spec(name, "-c", "true", stdout_path="/dev/null")).json()["id"] for _ in range(3)]
    for i in ids:
        alice.wait("v1", i)
    rid = alice.resource()
    listed = lambda version, **p: alice("POST", version, f"/compute/status/{alice.resource(version)}",
                                        params=p, json={"name": name})
    r = listed("v1")
    assert r.status_code == 200 and r.json() == [], r.text  # finished: only with historical=true
    for version in VERSIONS:
        r = listed(version, historical="true")
        assert r.status_code == 200 and sorted(j["id"] for j in r.json()) == sorted(ids), r.text
        page = listed(version, historical="true", offset=1, limit=1).json()
        assert len(page) == 1 and page[0]["id"] == sorted(ids, key=int, reverse=True)[1]
    r = alice("POST", "v1", f"/compute/status/{rid}", params={"historical": "true", "include_spec": "true"},
              json={"name": name, "state": "completed"})
    assert len(r.json()) == 3 and all(j["job_spec"]["name"] == name for j in r.json())
    problem(alice("POST", "v1", f"/compute/status/{rid}", params={"limit": 1001}), 400, "limit")
    problem(alice("POST", "v1", f"/compute/status/{rid}", params={"historical": "yes"}), 400, "historical")
    problem(alice("POST", "v1", f"/compute/status/{rid}", json={"colour": "red"}), 400, "colour")


def test_another_users_job_is_404(alice, bob):
    job = alice.launch("v1", spec(unique(), "-c", "sleep 120", stdout_path="/dev/null")).json()
    for version in VERSIONS:
        rid = bob.resource(version)
        problem(bob("GET", version, f"/compute/status/{rid}/{job['id']}"), 404)
        problem(bob("DELETE", version, f"/compute/cancel/{rid}/{job['id']}"), 404)
        problem(bob("PUT", version, f"/compute/job/{rid}/{job['id']}", json={"name": "mine"}), 404)
        listed = bob("POST", version, f"/compute/status/{rid}", params={"historical": "true"})
        assert job["id"] not in {j["id"] for j in listed.json()}
    assert alice.job("v1", job["id"])["status"]["state"] in ("queued", "active")
    alice("DELETE", "v1", f"/compute/cancel/{alice.resource()}/{job['id']}")


def test_firecrest_and_iri_jobs_are_visible_through_each_other(gw, alice):
    r = requests.post(f"{gw.url}/compute/hpc/jobs", headers=alice.headers(), timeout=60,
                      json={"job": {"name": "from-firecrest", "workingDirectory": "/home/alice", "account": "climate",
                                    "script": "#!/bin/bash\ntrue\n"}})
    assert r.status_code == 201, r.text
    fid = r.json()["jobId"]
    seen = alice.wait("v2", fid)
    assert seen["status"]["state"] == "completed"
    spec_seen = alice.job("v1", fid, include_spec="true")["job_spec"]
    assert spec_seen["name"] == "from-firecrest" and spec_seen["directory"] == "/home/alice"
    iid = alice.launch("v1", spec(unique(), "-c", "true", stdout_path="/dev/null")).json()["id"]
    r = requests.get(f"{gw.url}/compute/hpc/jobs/{iid}", headers=alice.headers(), timeout=60)
    assert r.status_code == 200 and r.json()["jobs"][0]["jobId"] == iid


# --------------------------------------------------------------------------- idempotency

@pytest.mark.parametrize("version", VERSIONS)
def test_a_retried_launch_with_the_same_key_yields_one_job(alice, ssh, version):
    name = unique()
    s = spec(name, "-c", "true", stdout_path="/dev/null")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = alice.launch(version, s, headers=key)
    assert "Idempotency-Key-Reply" not in first.headers
    again = alice.launch(version, s, headers=key)
    assert again.headers["Idempotency-Key-Reply"] == "hit" and again.json() == first.json()
    assert scheduler_jobs(ssh, "alice", name) == {first.json()["id"]}
    # The same key with another body.
    other = alice.launch(version, {**s, "name": unique()}, headers=key, expect=422)
    problem(other, 422, "Idempotency-Key")
    # 255 characters at most.
    assert alice.launch(version, s, headers={"Idempotency-Key": uuid.uuid4().hex * 7 + "x" * 31}).status_code == 200
    problem(alice.launch(version, s, headers={"Idempotency-Key": "x" * 256}, expect=400), 400, "Idempotency-Key")


def test_concurrent_retries_with_one_key_never_make_two_jobs(alice, ssh):
    name = unique()
    s = spec(name, "-c", "true", stdout_path="/dev/null")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    alice.headers()  # one token for all
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: alice("POST", "v2", f"/compute/job/{alice.resource('v2')}", json=s,
                                                headers=key), range(8)))
    ok = [r for r in replies if r.status_code == 200]
    busy = [r for r in replies if r.status_code == 409]
    assert len(ok) + len(busy) == 8 and ok, [r.text for r in replies]
    assert all(r.headers["Retry-After"] for r in busy)
    assert len({r.json()["id"] for r in ok}) == 1
    assert scheduler_jobs(ssh, "alice", name) == {ok[0].json()["id"]}


# --------------------------------------------------------------------------- bad input

BAD = [
    ("unknown field", {"executable": "/bin/true", "colour": "red"}, ["colour"]),
    ("missing executable", {"arguments": ["x"]}, ["executable"]),
    ("empty executable", {"executable": ""}, ["executable"]),
    ("zero node count", {"executable": "/bin/true", "resources": {"node_count": 0}}, ["resources.node_count"]),
    ("negative process count", {"executable": "/bin/true", "resources": {"process_count": -2}}, ["resources.process_count"]),
    ("inconsistent process count",
     {"executable": "/bin/true", "resources": {"node_count": 1, "processes_per_node": 2, "process_count": 3}},
     ["resources.process_count"]),
    ("string duration", {"executable": "/bin/true", "attributes": {"duration": "10"}}, ["attributes.duration"]),
    ("zero duration", {"executable": "/bin/true", "attributes": {"duration": 0}}, ["attributes.duration"]),
    ("fractional duration", {"executable": "/bin/true", "attributes": {"duration": 1.5}}, ["attributes.duration"]),
    ("custom attribute not allowed", {"executable": "/bin/true", "attributes": {"custom_attributes": {"slurm.qos": "x"}}},
     ["attributes.custom_attributes.slurm.qos"]),
    ("environment name", {"executable": "/bin/true", "environment": {"1X": "a", "A-B": "b"}},
     ["environment.1X", "environment.A-B"]),
    ("relative path", {"executable": "/bin/true", "stdout_path": "out.txt"}, ["stdout_path"]),
    ("path outside", {"executable": "/bin/true", "stderr_path": "/etc/passwd"}, ["stderr_path"]),
    ("directory outside", {"executable": "/bin/true", "directory": "/home/../etc"}, ["directory"]),
    ("launcher", {"executable": "/bin/true", "launcher": "aprun"}, ["launcher"]),
    ("arguments not strings", {"executable": "/bin/true", "arguments": [1]}, ["arguments.0"]),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case,body,fields", BAD, ids=[b[0] for b in BAD])
def test_bad_job_specs_are_400_and_submit_nothing(alice, ssh, version, case, body, fields):
    name = unique("bad")
    r = alice.launch(version, {**body, "name": name}, expect=400)
    problem(r, 400, *fields)
    assert not scheduler_jobs(ssh, "alice", name)


def test_a_resource_that_is_not_compute_is_404(alice, gw):
    others = requests.get(f"{gw.url}/api/v1/status/resources", timeout=30).json()
    not_compute = next(x["id"] for x in others if x["name"] != "hpc")
    for version in VERSIONS:
        problem(alice("POST", version, f"/compute/job/{not_compute}", json={"executable": "/bin/true"}), 404)
        problem(alice("POST", version, f"/compute/job/{uuid.uuid4()}", json={"executable": "/bin/true"}), 404)
        problem(alice("POST", version, f"/compute/status/{not_compute}"), 404)
        problem(alice("GET", version, f"/compute/status/{alice.resource(version)}/not-an-id"), 400, "job_id")
        problem(alice("GET", version, f"/compute/status/{alice.resource(version)}/999999999"), 404)


def test_a_token_is_required(gw, alice):
    r = checked(requests.post(f"{gw.url}/api/v1/compute/job/{alice.resource()}", json={"executable": "/bin/true"},
                              timeout=30), "v1", "POST")
    assert r.status_code == 401
