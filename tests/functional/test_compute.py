"""The FirecREST compute API on the real Slurm of the site, through the Slurm CLI over SSH."""
import time
import uuid

import pytest
import requests

import openapi
from gateway import Gateway

TERMINAL = {"BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY",
            "PREEMPTED", "TIMEOUT"}


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("compute")).start()
    yield g
    assert g.stop() == 0


class Client:
    def __init__(self, gw, token):
        self.gw, self.headers = gw, {"Authorization": f"Bearer {token}"}

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


@pytest.fixture(scope="module")
def alice(gw, token):
    c = Client(gw, token("alice"))
    c.user = "alice"
    return c


@pytest.fixture(scope="module")
def bob(gw, token):
    c = Client(gw, token("bob"))
    c.user = "bob"
    return c


def test_a_job_just_submitted_is_visible_at_once_and_completes(alice):
    job_id = alice.submit("#!/bin/bash\necho hello\n", name="visible")
    job = alice.job(job_id)  # no "not found" window between squeue and accounting
    assert job["jobId"] == job_id and job["name"] == "visible" and job["user"] == "alice"
    done = alice.wait(job_id)
    assert done["status"]["state"] == "COMPLETED"
    assert done["status"]["exitCode"] == 0
    assert done["account"] == "climate" and done["cluster"] == "hpc"
    assert any(t["id"] == f"{job_id}.batch" for t in done["tasks"])


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
    # Slurm names the canceller by uid ("CANCELLED by 1001"); Portico gives the name when it is
    # the job's owner, which accounting may not have filled in at the very moment of the cancel.
    import pwd
    assert job["killRequestUser"] in ("alice", str(pwd.getpwnam("alice").pw_uid))


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
    job = {"workingDirectory": "/home/alice", **job}
    before = alice("GET", "/compute/hpc/jobs").json()["jobs"]
    r = alice("POST", "/compute/hpc/jobs", json={"job": job})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["errorType"] == "validation"
    assert body["data"]["fields"][0]["name"] == field
    assert len(alice("GET", "/compute/hpc/jobs").json()["jobs"]) == len(before)


def test_an_oversized_script_is_413(alice):
    r = alice("POST", "/compute/hpc/jobs", json={"job": {"workingDirectory": "/home/alice", "script": "#" * (1024 * 1024 + 1)}})
    assert r.status_code in (413,), r.text


def test_scheduler_refusals_are_4xx_with_the_schedulers_words(alice, bob):
    r = alice.submit(partition="nosuch", expect=400)
    assert "partition" in r.json()["message"].lower()
    r = bob.submit(account="genomics", expect=403)
    assert "Invalid account" in r.json()["message"]
    r = alice.submit(account="nosuchaccount", expect=403)
