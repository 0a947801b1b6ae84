"""The FirecREST compute API on the real Slurm of the site, with each scheduler backend: the Slurm
CLI over SSH ("slurm") and slurmrestd with the CLI for what it cannot do ("slurm_rest")."""
import time
import uuid

import pytest
import requests

import openapi
from gateway import Gateway, free_port

TERMINAL = {"BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY",
            "PREEMPTED", "TIMEOUT"}


BACKENDS = ["slurm", "slurm_rest"]


@pytest.fixture(scope="module", params=BACKENDS)
def gw(request, tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("compute-" + request.param), env={"PORTICO_SCHEDULER": request.param}).start()
    g.scheduler = request.param
    yield g
    assert g.stop() == 0


class Client:
    # The site's access tokens live 5 minutes; a module of tests against one backend runs longer.
    TOKEN_AGE = 120

    def __init__(self, gw, new_token):
        self.gw, self.new_token, self.token, self.fetched = gw, new_token, None, 0.0

    @property
    def headers(self):
        if self.token is None or time.monotonic() - self.fetched > self.TOKEN_AGE:
            self.token, self.fetched = self.new_token(), time.monotonic()
        return {"Authorization": f"Bearer {self.token}"}

    def __call__(self, method, path, **kw):
        return requests.request(method, self.gw.url + path, headers=self.headers, timeout=120, **kw)

    def submit(self, script="#!/bin/bash\ntrue\n", expect=201, **job):
        job.setdefault("workingDirectory", "/home/" + self.user)
        job.setdefault("account", "climate")
        if script is not None and "scriptPath" not in job:
            job["script"] = script
        r = self("POST", "/compute/hpc/jobs", json={"job": job})
        assert r.status_code == expect, r.text
        if expect == 201:
            openapi.validate(openapi.FIRECREST, r, method="POST")
            return r.json()["jobId"]
        return r

    def job(self, job_id):
        r = self("GET", f"/compute/hpc/jobs/{job_id}")
        assert r.status_code == 200, r.text
        openapi.validate(openapi.FIRECREST, r)
        return r.json()["jobs"][0]

    def wait(self, job_id, timeout=180, until=TERMINAL):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["status"]["state"] in until:
                return job
            time.sleep(0.5)
        raise AssertionError(f"job {job_id} still {job['status']['state']}")

    def wait_accounted(self, job_id, what, check, timeout=60):
        """The job once check(job) holds. For what only accounting knows (steps, who cancelled
        a job): slurmdbd may record a job a moment after slurmctld has ended it."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if check(job):
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id}: accounting never recorded {what}: {job}")
            time.sleep(0.5)

    def wait_steps(self, job_id):
        return self.wait_accounted(job_id, "its batch step",
                                   lambda job: any(t["id"] == f"{job_id}.batch" for t in job["tasks"]))


@pytest.fixture(scope="module")
def alice(gw, token):
    c = Client(gw, lambda: token("alice"))
    c.user = "alice"
    return c


@pytest.fixture(scope="module")
def bob(gw, token):
    c = Client(gw, lambda: token("bob"))
    c.user = "bob"
    return c


def test_a_job_just_submitted_is_visible_at_once_and_completes(alice):
    job_id = alice.submit("#!/bin/bash\necho hello\n", name="visible")
    job = alice.job(job_id)  # no "not found" window between squeue and accounting
    assert job["jobId"] == job_id and job["name"] == "visible" and job["user"] == "alice"
    done = alice.wait(job_id)
    # Ended, whether slurmdbd has recorded it yet or not: the exit code is there at once.
    assert done["status"]["state"] == "COMPLETED"
    assert done["status"]["exitCode"] == 0
    assert done["account"] == "climate" and done["cluster"] == "hpc"
    done = alice.wait_steps(job_id)
    assert done["status"]["state"] == "COMPLETED" and done["status"]["exitCode"] == 0


def test_hostile_values_arrive_at_the_job_byte_for_byte(alice, site):
    marker = uuid.uuid4().hex[:8]
    name = f"it's \"{marker}\"; $(id) `id` a|b"
    value = "x'y\"z $(id) `id`; rm -rf ~\nsecond line, with comma"
    out = f"{site['users']['alice']['scratch']}/env-{marker}.out"
    job_id = alice.submit("#!/bin/bash\nprintf '%s' \"$WEIRD\" > " + out + ".env\nprintf '%s' \"$SLURM_JOB_NAME\" > " + out + ".name\n",
                          name=name, env={"WEIRD": value}, standardOutput=out)
    assert alice.wait(job_id)["status"]["state"] == "COMPLETED"
    assert open(out + ".env", "rb").read() == value.encode()
    assert open(out + ".name", "rb").read() == name.encode()


def test_submit_by_path_and_metadata(alice, ssh, site):
    script = f"{site['users']['alice']['home']}/by-path-{uuid.uuid4().hex[:6]}.sh"
    r = ssh.run("alice", f"printf '#!/bin/bash\\necho by path\\n' > {script}")
    assert r.returncode == 0, r.stderr
    job_id = alice.submit(script=None, scriptPath=script, standardOutput="by-path-%j.out")
    alice.wait(job_id)
    r = alice("GET", f"/compute/hpc/jobs/{job_id}/metadata")
    assert r.status_code == 200, r.text
    openapi.validate(openapi.FIRECREST, r)
    meta = r.json()["jobs"][0]
    assert meta["jobId"] == job_id
    assert meta["standardOutput"].endswith(f"by-path-{job_id}.out")

    inline = alice.submit("#!/bin/bash\n# inline marker\nsleep 20\n")
    meta = alice("GET", f"/compute/hpc/jobs/{inline}/metadata").json()["jobs"][0]
    assert meta["script"] == "#!/bin/bash\n# inline marker\nsleep 20\n"
    assert alice("DELETE", f"/compute/hpc/jobs/{inline}").status_code == 204


def test_a_failing_jobs_exit_code(alice):
    job_id = alice.submit("#!/bin/bash\nexit 3\n")
    job = alice.wait(job_id)
    assert job["status"]["state"] == "FAILED"
    assert job["status"]["exitCode"] == 3


def test_list_with_filters(alice, bob):
    tag = uuid.uuid4().hex[:8]
    a1 = alice.submit(name=f"list-{tag}", account="genomics")
    b1 = bob.submit(name=f"list-{tag}")
    r = alice("GET", "/compute/hpc/jobs", params={"allusers": "false", "account": ""})
    assert r.status_code == 200, r.text
    openapi.validate(openapi.FIRECREST, r)
    ids = {j["jobId"] for j in r.json()["jobs"]}
    assert a1 in ids and b1 not in ids
    assert all(j["user"] == "alice" for j in r.json()["jobs"])
    r = alice("GET", "/compute/hpc/jobs", params={"account": "genomics"})
    assert {j["account"] for j in r.json()["jobs"]} == {"genomics"}
    r = alice("GET", "/compute/hpc/jobs", params={"allusers": "true", "name": f"list-{tag}"})
    assert {j["jobId"] for j in r.json()["jobs"]} >= {a1, b1}
    assert alice("GET", "/compute/hpc/jobs", params={"account": "a,b"}).status_code == 400


def test_cancel_and_cross_user_refusal(alice, bob):
    job_id = alice.submit("#!/bin/bash\nsleep 120\n")
    r = bob("DELETE", f"/compute/hpc/jobs/{job_id}")
    assert r.status_code == 403, r.text
    assert "permission denied" in r.json()["message"].lower()
    assert alice.job(job_id)["status"]["state"] in ("PENDING", "RUNNING")
    assert alice("DELETE", f"/compute/hpc/jobs/{job_id}").status_code == 204
    job = alice.wait(job_id)
    assert job["status"]["state"] == "CANCELLED"
    # Slurm names the canceller by uid ("CANCELLED by 1001") in accounting only, which may record
    # the cancel a moment after slurmctld has ended the job; Portico gives the user's name.
    job = alice.wait_accounted(job_id, "who cancelled it", lambda job: job["killRequestUser"] is not None)
    assert job["killRequestUser"] == "alice"


def test_attach_runs_a_command_inside_a_running_job(alice, site):
    job_id = alice.submit("#!/bin/bash\nsleep 120\n")
    alice.wait(job_id, until={"RUNNING"})
    out = f"{site['users']['alice']['scratch']}/attach-{job_id}.out"
    r = alice("PUT", f"/compute/hpc/jobs/{job_id}/attach", json={"command": f"echo attached $SLURM_JOB_ID > {out}"})
    assert r.status_code == 204, r.text
    assert open(out).read().strip() == f"attached {job_id}"
    assert alice("DELETE", f"/compute/hpc/jobs/{job_id}").status_code == 204


def test_a_job_killed_by_its_time_limit(alice):
    job_id = alice.submit("#!/bin/bash\n#SBATCH --time=1\nsleep 300\n")
    job = alice.wait(job_id, timeout=240)
    assert job["status"]["state"] == "TIMEOUT"


def test_unknown_jobs_and_bad_ids(alice):
    r = alice("GET", "/compute/hpc/jobs/99999999")
    assert r.status_code == 404 and "Job not found" in r.json()["message"]
    for bad in ["1;id", "1%20x", "..", "$(id)"]:
        r = alice("GET", f"/compute/hpc/jobs/{bad}")
        assert r.status_code in (400, 404), (bad, r.text)
        if r.status_code == 400:
            assert r.json()["errorType"] == "validation"
    assert alice("DELETE", "/compute/hpc/jobs/1;id").status_code == 400


@pytest.mark.parametrize("job, field", [
    ({"script": "true", "env": ["A=1"]}, "job.env"),
    ({"script": "true", "env": None}, "job.env"),
    ({"script": "true", "env": {"A B": "1"}}, "job.env"),
    ({"script": "true", "workingDirectory": "/etc"}, "job.workingDirectory"),
    ({"script": "true", "workingDirectory": "/home/../etc"}, "job.workingDirectory"),
    ({"script": "true", "workingDirectory": "relative"}, "job.workingDirectory"),
    ({}, "job.script"),
])
def test_bad_submissions_are_400_and_submit_nothing(alice, job, field):
    # Named uniquely: other tests submit as alice at the same time, so counting her jobs would race.
    name = f"bad-{uuid.uuid4().hex[:8]}"
    job = {"workingDirectory": "/home/alice", "name": name, **job}
    r = alice("POST", "/compute/hpc/jobs", json={"job": job})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["errorType"] == "validation"
    assert body["data"]["fields"][0]["name"] == field
    r = alice("GET", "/compute/hpc/jobs", params={"name": name})
    assert r.status_code == 200, r.text
    assert r.json()["jobs"] == []


def test_an_oversized_script_is_413(alice):
    r = alice("POST", "/compute/hpc/jobs", json={"job": {"workingDirectory": "/home/alice", "script": "#" * (1024 * 1024 + 1)}})
    assert r.status_code in (413,), r.text


def test_scheduler_refusals_are_4xx_with_the_schedulers_words(alice, bob):
    r = alice.submit(partition="nosuch", expect=400)
    assert "partition" in r.json()["message"].lower()
    r = bob.submit(account="genomics", expect=403)
    assert "Invalid account" in r.json()["message"]
    r = alice.submit(account="nosuchaccount", expect=403)


# --------------------------------------------------------------------------- slurmrestd backend

def audit_calls(gw, request_id):
    """The backend calls the audit line of a request names."""
    # `id -Gn` is the access rule's group lookup (cached), whatever the scheduler.
    return [c["what"] for c in gw.audit_line(request_id).get("backend") or [] if c["what"] != "ssh:id"]


# base64url of {"alg":"HS256","typ":"JWT"}: how every Slurm token Portico mints begins.
SLURM_TOKEN_PREFIX = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"


def test_the_rest_backend_calls_slurmrestd_and_sbatch_only_for_what_slurmrestd_cannot(gw, alice):
    if gw.scheduler != "slurm_rest":
        pytest.skip("slurmrestd backend only")
    r = alice("POST", "/compute/hpc/jobs", json={"job": {"workingDirectory": "/home/alice", "script": "#!/bin/bash\ntrue\n"}})
    assert r.status_code == 201, r.text
    calls = audit_calls(gw, r.headers["X-Request-ID"])
    assert calls == ["slurmrestd:POST /slurm/v0.0.38/job/submit"], calls
    job_id = r.json()["jobId"]
    r = alice("GET", f"/compute/hpc/jobs/{job_id}")
    calls = audit_calls(gw, r.headers["X-Request-ID"])
    assert calls[:2] == [f"slurmrestd:GET /slurm/v0.0.38/job/{job_id}", f"slurmrestd:GET /slurmdb/v0.0.38/job/{job_id}"]
    # #SBATCH lines are read by sbatch only: such a script goes through the CLI.
    r = alice("POST", "/compute/hpc/jobs",
              json={"job": {"workingDirectory": "/home/alice", "script": "#!/bin/bash\n#SBATCH --job-name=x\ntrue\n"}})
    assert r.status_code == 201, r.text
    calls = audit_calls(gw, r.headers["X-Request-ID"])
    assert not any(c.startswith("slurmrestd:") for c in calls) and any("sbatch" in c for c in calls), calls
    assert alice.job(r.json()["jobId"])["name"] == "x"
    # slurmdbd's v0.0.38 job list cannot filter by user: with v0.0.38 the CLI lists ("hybrid").
    r = alice("GET", "/compute/hpc/jobs")
    calls = audit_calls(gw, r.headers["X-Request-ID"])
    assert [c for c in calls if c in ("ssh:squeue", "ssh:sacct")] == ["ssh:squeue", "ssh:sacct"], calls
    assert not any(c.startswith("slurmrestd:") for c in calls), calls
    assert SLURM_TOKEN_PREFIX not in gw.log.read_text(errors="replace")


def test_a_wrong_slurmrestd_url_is_424(tmp_path, token):
    dead_port = free_port()  # nothing listens there
    g = Gateway(tmp_path, env={"PORTICO_SCHEDULER": "slurm_rest",
                               "PORTICO_SCHEDULER_API_URL": f"http://127.0.0.1:{dead_port}"})
    # Without a probe user the health checker does not mark the scheduler down (which is a 503):
    # the request itself meets the unreachable slurmrestd.
    g.config.write_text("\n".join(l for l in g.config.read_text().splitlines() if "probe_user" not in l) + "\n")
    g.start()
    try:
        alice = Client(g, lambda: token("alice"))
        alice.user = "alice"
        # (Not the job list: with v0.0.38 the CLI makes it.)
        for method, path, body in [("GET", "/compute/hpc/jobs/1", None), ("GET", "/status/hpc/partitions", None),
                                   ("POST", "/compute/hpc/jobs",
                                    {"job": {"workingDirectory": "/home/alice", "script": "#!/bin/bash\ntrue\n"}})]:
            r = alice(method, path, json=body)
            assert r.status_code == 424, (path, r.text)
            assert "slurmrestd" in r.json()["message"]
    finally:
        assert g.stop() == 0


@pytest.fixture(scope="module")
def both(tmp_path_factory, token):
    gateways = {b: Gateway(tmp_path_factory.mktemp("both-" + b), env={"PORTICO_SCHEDULER": b}).start() for b in BACKENDS}
    clients = {}
    for b, g in gateways.items():
        clients[b] = Client(g, lambda: token("alice"))
        clients[b].user = "alice"
    yield clients
    for g in gateways.values():
        assert g.stop() == 0


def same_job(both, job_id, volatile=()):
    """The job as both backends report it, once slurmdbd has settled (it records a short job's
    start and end a moment apart, and both backends read it), field by field."""
    deadline = time.monotonic() + 30
    while True:
        answers = {b: c.job(job_id) for b, c in both.items()}
        for a in answers.values():
            for key in volatile:
                a["time"].pop(key, None)
        cli, rest = answers["slurm"], answers["slurm_rest"]
        if cli == rest or time.monotonic() > deadline:
            break
        time.sleep(1)
    for field in sorted(set(cli) | set(rest)):
        assert cli.get(field) == rest.get(field), (field, cli.get(field), rest.get(field))
    return cli


def test_both_backends_answer_the_same_for_the_same_job(both):
    submitter = both["slurm_rest"]
    failing = submitter.submit("#!/bin/bash\nexit 3\n", name="same-failing", account="genomics")
    running = submitter.submit("#!/bin/bash\nsleep 120\n", name="same-running")
    submitter.wait(failing)
    submitter.wait(running, until={"RUNNING"})
    # Accounting may lag slurmctld by a moment: wait until it knows the step of each.
    for job_id in (failing, running):
        both["slurm"].wait_steps(job_id)
    done = same_job(both, failing)
    assert done["status"]["state"] == "FAILED" and done["status"]["exitCode"] == 3 and done["tasks"]
    live = same_job(both, running, volatile=("elapsed",))
    assert live["status"]["state"] == "RUNNING"
    assert submitter("DELETE", f"/compute/hpc/jobs/{running}").status_code == 204
    submitter.wait(running)
    deadline = time.monotonic() + 30
    while both["slurm"].job(running)["status"]["state"] != "CANCELLED" and time.monotonic() < deadline:
        time.sleep(0.5)
    cancelled = same_job(both, running)
    assert cancelled["status"]["state"] == "CANCELLED"
    # Listings agree too, job by job.
    lists = {b: {j["jobId"]: j for j in c("GET", "/compute/hpc/jobs", params={"name": "same-failing"}).json()["jobs"]}
             for b, c in both.items()}
    assert failing in lists["slurm"] and lists["slurm"] == lists["slurm_rest"]


def test_both_backends_answer_the_same_status(both):
    volatile = {"cpuLoad", "freeMemory", "allocMemory", "allocCpus", "idleCpus", "state"}  # jobs come and go
    for part in ["nodes", "partitions", "reservations", "userinfo"]:
        answers = {}
        for b, c in both.items():
            r = c("GET", f"/status/hpc/{part}")
            assert r.status_code == 200, (b, r.text)
            openapi.validate(openapi.FIRECREST, r)
            answers[b] = r.json()
        for node in answers["slurm"].get("nodes", []) + answers["slurm_rest"].get("nodes", []):
            for key in volatile:
                node.pop(key)
        assert answers["slurm"] == answers["slurm_rest"], part
    # The health probe pings slurmrestd as the probe user and reads the release from it.
    deadline = time.monotonic() + 60
    while True:
        system = both["slurm_rest"]("GET", "/status/systems").json()["systems"][0]
        health = [s for s in system["servicesHealth"] if s["serviceType"] == "scheduler"]
        if (health and health[0]["healthy"] and system["scheduler"]["version"]) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert health[0]["healthy"], health
    assert system["scheduler"]["version"] == "22.05.8"
    assert system["scheduler"]["apiVersion"] == "v0.0.38"
