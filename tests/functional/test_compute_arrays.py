"""Job arrays and the job-list time window on the real Slurm of the site (Slurm CLI backend), and
a gateway configured for PBS, whose backend has no live test here (no PBS on this site)."""
import subprocess
import time
import uuid

import pytest
import requests

import openapi
from conftest import PORTICO
from gateway import Gateway

TERMINAL = {"BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY",
            "PREEMPTED", "TIMEOUT"}
ALNUM = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("arrays")).start()
    yield g
    assert g.stop() == 0


class Client:
    def __init__(self, gw, token, user):
        self.gw, self.token, self.user = gw, token, user

    def __call__(self, method, path, **kw):
        headers = {"Authorization": f"Bearer {self.token(self.user)}"}
        return requests.request(method, self.gw.url + path, headers=headers, timeout=120, **kw)

    def submit(self, script, **job):
        job = {"workingDirectory": f"/home/{self.user}", "account": "climate", "script": script, **job}
        r = self("POST", "/compute/hpc/jobs", json={"job": job})
        assert r.status_code == 201, r.text
        return r.json()["jobId"]

    def listing(self, **params):
        r = self("GET", "/compute/hpc/jobs", params=params)
        assert r.status_code == 200, r.text
        openapi.validate(openapi.FIRECREST, r)
        return r.json()["jobs"]

    def job(self, job_id):
        r = self("GET", f"/compute/hpc/jobs/{job_id}")
        assert r.status_code == 200, r.text
        openapi.validate(openapi.FIRECREST, r)
        jobs = r.json()["jobs"]
        assert len(jobs) == 1 and jobs[0]["jobId"] == job_id
        return jobs[0]

    def until(self, what, check, timeout=240):
        """Polls check() until it returns something true; fails naming what it waited for."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(1)
        raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture(scope="module")
def alice(gw, token):
    return Client(gw, token, "alice")


def test_each_array_task_is_a_job_of_its_own(alice):
    name = f"array-{uuid.uuid4().hex[:8]}"
    array_id = alice.submit("#!/bin/bash\n#SBATCH --array=0-2\nexit $SLURM_ARRAY_TASK_ID\n", name=name)

    def all_tasks_done():
        jobs = alice.listing(name=name)
        return jobs if len(jobs) == 3 and all(j["status"]["state"] in TERMINAL for j in jobs) else None

    jobs = alice.until("the three tasks to end", all_tasks_done)
    ids = [j["jobId"] for j in jobs]
    assert len(set(ids)) == 3, ids
    assert all(set(i) <= ALNUM for i in ids), ids  # the contract's ^[a-zA-Z0-9]+$, no "123_4"
    assert array_id in ids  # the last task keeps the array's own id
    # Each task's own exit code (its index), found again by its own id.
    by_code = {}
    for job_id in ids:
        # Steps are accounting's, which may record the last task a moment after it ended.
        def recorded(job_id=job_id):
            job = alice.job(job_id)
            return job if any(t["id"] == f"{job_id}.batch" for t in job["tasks"]) else None

        job = alice.until(f"accounting to record {job_id}.batch", recorded, timeout=60)
        assert job["name"] == name
        assert [t["id"] for t in job["tasks"] if t["id"].endswith(".batch")] == [f"{job_id}.batch"]
        by_code[job["status"]["exitCode"]] = job["status"]["state"]
    assert by_code == {0: "COMPLETED", 1: "FAILED", 2: "FAILED"}


def test_deleting_one_array_task_leaves_the_others_running(alice):
    name = f"array-del-{uuid.uuid4().hex[:8]}"
    array_id = alice.submit("#!/bin/bash\n#SBATCH --array=0-1\nsleep 300\n", name=name)

    def two_records():
        jobs = alice.listing(name=name)
        return jobs if len(jobs) == 2 else None

    jobs = alice.until("both tasks to have their own records", two_records)
    other = next(j["jobId"] for j in jobs if j["jobId"] != array_id)
    # The array's own id is the risky one: `scancel <array id>` would end every task.
    r = alice("DELETE", f"/compute/hpc/jobs/{array_id}")
    assert r.status_code == 204, r.text
    alice.until("the deleted task to be CANCELLED",
                lambda: alice.job(array_id)["status"]["state"] == "CANCELLED")
    assert alice.job(other)["status"]["state"] in ("PENDING", "RUNNING")
    assert alice("DELETE", f"/compute/hpc/jobs/{other}").status_code == 204
    alice.until("the other task to be CANCELLED", lambda: alice.job(other)["status"]["state"] == "CANCELLED")


def test_metadata_of_an_array_task(alice):
    name = f"array-meta-{uuid.uuid4().hex[:8]}"
    script = "#!/bin/bash\n#SBATCH --array=0-1\nsleep 300\n"
    array_id = alice.submit(script, name=name, standardOutput=f"/home/alice/{name}-%A_%a.out")
    jobs = alice.until("both tasks to have their own records",
                       lambda: (lambda js: js if len(js) == 2 else None)(alice.listing(name=name)))
    try:
        for job in jobs:
            r = alice("GET", f"/compute/hpc/jobs/{job['jobId']}/metadata")
            assert r.status_code == 200, r.text
            openapi.validate(openapi.FIRECREST, r)
            meta = r.json()["jobs"][0]
            assert meta["jobId"] == job["jobId"]
            assert meta["script"] == script
            assert meta["standardOutput"].startswith(f"/home/alice/{name}-{array_id}_")
    finally:
        for job in jobs:
            alice("DELETE", f"/compute/hpc/jobs/{job['jobId']}")


# --------------------------------------------------------------------------- time window

@pytest.mark.parametrize("bad", ["2h", "24", "1d", "7D", "-1h", "1h,3d", "24h "])
def test_a_bad_time_window_is_a_validation_error(alice, bad):
    r = alice("GET", "/compute/hpc/jobs", params={"time_window": bad})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["errorType"] == "validation"
    assert body["data"]["fields"][0]["name"] == "time_window"
    assert "1h, 8h, 24h, 3d, 7d" in body["data"]["fields"][0]["message"]


def test_the_time_window_bounds_finished_jobs_only(alice, ssh):
    name = f"window-{uuid.uuid4().hex[:8]}"
    done = alice.submit("#!/bin/bash\ntrue\n", name=name)
    alice.until("the job to end", lambda: alice.job(done)["status"]["state"] in TERMINAL)
    # The list reads finished jobs from accounting, which may learn of a short job a moment late.
    alice.until("accounting to list the finished job",
                lambda: done in {j["jobId"] for j in alice.listing(name=name, time_window="1h")})
    running = alice.submit("#!/bin/bash\nsleep 300\n", name=name)
    try:
        windows = {w: {j["jobId"]: j for j in alice.listing(name=name, time_window=w)}
                   for w in ["1h", "8h", "24h", "3d", "7d"]}
        for w, jobs in windows.items():
            assert set(jobs) == {done, running}, (w, sorted(jobs))
        assert {j["jobId"] for j in alice.listing(name=name, time_window="")} == {done, running}  # default
    finally:
        alice("DELETE", f"/compute/hpc/jobs/{running}")

    # A job of alice's that ended more than an hour ago, if the site is that old: in the 24 h
    # window (when it ended within it), never in the 1 h one.
    r = ssh.run("alice", "env SLURM_TIME_FORMAT=%s sacct --noheader --parsable2 -X --user=alice "
                         "--format=JobIDRaw,End,JobName --state=CD --starttime=now-23hours --endtime=now-2hours")
    assert r.returncode == 0, r.stderr
    old = [line.split("|") for line in r.stdout.splitlines() if line.count("|") == 2]
    old = [(i, n) for i, end, n in old if end.isdigit() and int(end) < time.time() - 2 * 3600 and i.isdigit()]
    if not old:
        pytest.skip("the site has no job of alice's that ended 2 to 23 hours ago")
    job_id, job_name = old[-1]
    assert job_id in {j["jobId"] for j in alice.listing(name=job_name, time_window="24h")}
    assert job_id not in {j["jobId"] for j in alice.listing(name=job_name, time_window="1h")}


# --------------------------------------------------------------------------- PBS configuration

def pbs_gateway(workdir):
    g = Gateway(workdir)
    text = g.config.read_text()
    assert "      type: slurm\n" in text
    g.config.write_text(text.replace("      type: slurm\n", "      type: pbs\n"))
    return g


def test_check_accepts_a_pbs_cluster(tmp_path):
    g = pbs_gateway(tmp_path)
    r = subprocess.run([str(PORTICO), "--config", str(g.config), "--check"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_status_systems_says_the_pbs_backend_has_no_live_test(tmp_path, token):
    g = pbs_gateway(tmp_path).start()
    try:
        headers = {"Authorization": f"Bearer {token('alice')}"}

        def scheduler_health():
            r = requests.get(g.url + "/status/systems", headers=headers, timeout=60)
            assert r.status_code == 200, r.text
            openapi.validate(openapi.FIRECREST, r)
            system = r.json()["systems"][0]
            health = [h for h in system["servicesHealth"] or [] if h["serviceType"] == "scheduler"]
            return (system, health[0]) if health else None

        deadline = time.monotonic() + 120
        found = None
        while not found and time.monotonic() < deadline:
            found = scheduler_health()
            if not found:
                time.sleep(0.5)
        assert found, "no scheduler health entry"
        system, health = found
        assert system["scheduler"]["type"] == "pbs"
        assert "no live test" in system["scheduler"]["note"]
        # The site has no PBS: qstat is missing, which is reported, not a crash.
        assert health["healthy"] is False
        assert "no live test" in health["message"]
        assert "qstat -B failed" in health["message"], health["message"]
        # The gateway still answers, and PBS-only behaviour is in place: no accounts list.
        r = requests.get(g.url + "/status/hpc/userinfo", headers=headers, timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["accounts"] == []
    finally:
        assert g.stop() == 0
