"""The IRI Facility API's accounts and storage (getProjects, getProject, the project- and
user-allocation operations; v2 getStorageLocations and getStorageAccessEndpoints) against the
real site, v1 and v2, with both Slurm backends: every reply validated against the official
documents, and the figures compared with what Slurm's accounting (sacctmgr, sacct) and the
file systems say when the test asks them itself over SSH, as the user."""
import shlex
import time
import uuid

import pytest
import requests

from gateway import Gateway
from iri import checked, problem, wait_for

BACKENDS = ["slurm", "slurm_rest"]
VERSIONS = ["v1", "v2"]
NODE_HOURS = {"v1": "node_hours", "v2": "urn:doe-iri:allocation:compute:node-hours"}
BYTES = {"v1": "bytes", "v2": "urn:doe-iri:allocation:storage:bytes"}
INODES = {"v1": "inodes", "v2": "urn:doe-iri:allocation:storage:inodes"}
# site/gateway-config's quota limits
QUOTA_LIMITS = {"/home": (10737418240, 100000), "/scratch": (53687091200, 0)}


@pytest.fixture(scope="module", params=BACKENDS)
def gw(request, tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("accounts-" + request.param), env={"PORTICO_SCHEDULER": request.param}).start()
    g.scheduler = request.param
    yield g
    assert g.stop() == 0


class User:
    TOKEN_AGE = 120  # the site's tokens live 5 minutes

    def __init__(self, gw, name, token):
        self.gw, self.name, self.new_token, self.token, self.fetched = gw, name, token, None, 0.0

    def headers(self):
        if self.token is None or time.monotonic() - self.fetched > self.TOKEN_AGE:
            self.token, self.fetched = self.new_token(self.name), time.monotonic()
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path, version="v1", **kw):
        return requests.get(f"{self.gw.url}/api/{version}{path}", headers=self.headers(), timeout=60, **kw)

    def ok(self, path, version="v1", **kw):
        r = checked(self.get(path, version, **kw))
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def alice(gw, token):
    return User(gw, "alice", token)


@pytest.fixture(scope="module")
def bob(gw, token):
    return User(gw, "bob", token)


def project(user, name, version="v1"):
    found = [p for p in user.ok("/account/projects", version) if p["name"] == name]
    assert len(found) == 1, found
    return found[0]


def resource_ids(gw):
    return {r["name"]: r["id"] for r in requests.get(gw.url + "/api/v1/status/resources", timeout=30).json()}


def capability_names(gw):
    return {c["id"]: c["name"] for c in requests.get(gw.url + "/api/v1/account/capabilities", timeout=30).json()}


def limits(ssh, user, account):
    """{'': project node-minutes, '<user>': user node-minutes} from sacctmgr, as the user."""
    out = ssh.run(user, "sacctmgr --noheader --parsable2 show association where account=" + account +
                  " format=Account,User,GrpTRESMins")
    assert out.returncode == 0, out.stderr
    found = {}
    for line in out.stdout.splitlines():
        acct, who, tres = line.split("|")
        found[who] = int(dict(t.split("=") for t in tres.split(","))["node"])
    return found


def used(ssh, user, account):
    """{'': node-seconds of the account, '<user>': theirs} from sacct, as the user."""
    out = ssh.run(user, "sacct --noheader --parsable2 --allusers --allocations --duplicates --accounts=" + account +
                  " --starttime=1970-01-01T00:00:00 --endtime=now --format=User,NNodes,ElapsedRaw")
    assert out.returncode == 0, out.stderr
    found = {"": 0}
    for line in out.stdout.splitlines():
        who, nodes, elapsed = line.split("|")
        found[""] += int(nodes) * int(elapsed)
        found[who] = found.get(who, 0) + int(nodes) * int(elapsed)
    return found


def compute_allocation(user, gw, project_id, version):
    caps = capability_names(gw)
    allocations = user.ok(f"/account/projects/{project_id}/project_allocations", version)
    compute = [a for a in allocations if caps[a["capability_uri"].rsplit("/", 1)[1]] == "hpc node hours"]
    assert len(compute) == 1, allocations
    return compute[0], allocations


# --------------------------------------------------------------------------- projects

@pytest.mark.parametrize("version", VERSIONS)
def test_projects_are_the_scheduler_accounts_of_the_caller(alice, bob, ssh, version):
    mine = {p["name"]: p for p in alice.ok("/account/projects", version)}
    assert set(mine) == {"climate", "genomics"}
    assert {p["name"] for p in bob.ok("/account/projects", version)} == {"climate"}
    climate = mine["climate"]
    assert climate["description"] == "shared climate project"
    assert sorted(climate["user_ids"]) == sorted(u for u in limits(ssh, "alice", "climate") if u)
    assert mine["genomics"]["user_ids"] == ["alice"]
    assert climate["self_uri"] == f"{alice.gw.url}/api/{version}/account/projects/{climate['id']}"
    assert alice.ok(f"/account/projects/{climate['id']}", version) == climate
    # A project is the same object for both users, both versions and both backends: a name UUID.
    assert project(bob, "climate", version)["id"] == climate["id"]
    assert climate["id"] == str(uuid.UUID(climate["id"]))


def test_ids_are_stable_across_versions(alice):
    assert project(alice, "genomics", "v1")["id"] == project(alice, "genomics", "v2")["id"]
    p = project(alice, "climate")["id"]
    v1 = [a["id"] for a in alice.ok(f"/account/projects/{p}/project_allocations", "v1")]
    v2 = [a["id"] for a in alice.ok(f"/account/projects/{p}/project_allocations", "v2")]
    assert v1 == v2 and len(v1) == 3  # node hours, /home, /scratch


@pytest.mark.parametrize("version", VERSIONS)
def test_another_users_project_is_404(alice, bob, version):
    genomics = project(alice, "genomics", version)
    for path in [f"/account/projects/{genomics['id']}", f"/account/projects/{genomics['id']}/project_allocations"]:
        problem(checked(bob.get(path, version)), 404)
    allocation, _ = compute_allocation(alice, alice.gw, genomics["id"], version)
    problem(checked(bob.get(f"/account/projects/{genomics['id']}/project_allocations/{allocation['id']}", version)), 404)
    # bob's share of climate is not alice's to read, and the reverse.
    climate = project(alice, "climate", version)["id"]
    shared, _ = compute_allocation(bob, bob.gw, climate, version)
    base = f"/account/projects/{climate}/project_allocations/{shared['id']}/user_allocations"
    bobs = bob.ok(base, version)
    assert [u["user_id"] for u in bobs] == ["bob"]
    problem(checked(alice.get(f"{base}/{bobs[0]['id']}", version)), 404)
    assert [u["user_id"] for u in alice.ok(base, version)] == ["alice"]


@pytest.mark.parametrize("version", VERSIONS)
def test_bad_ids_and_parameters_are_400_problems(alice, version):
    p = project(alice, "climate", version)["id"]
    problem(checked(alice.get("/account/projects/not-a-uuid", version)), 400, "project_id")
    problem(checked(alice.get(f"/account/projects/{uuid.uuid4()}", version)), 404)
    problem(checked(alice.get(f"/account/projects/{p}/project_allocations/x'$(id)", version)), 400,
            "project_allocation_id")
    problem(checked(alice.get(f"/account/projects/{p}/project_allocations/{uuid.uuid4()}", version)), 404)
    a, _ = compute_allocation(alice, alice.gw, p, version)
    base = f"/account/projects/{p}/project_allocations/{a['id']}/user_allocations"
    problem(checked(alice.get(f"{base}/--1", version)), 400, "user_allocation_id")
    problem(checked(alice.get(f"{base}/{uuid.uuid4()}", version)), 404)
    # The documents give these lists no parameters: limit (in range or not) and others are unknown.
    for params, names in [({"limit": "10"}, ["limit"]), ({"limit": "100000"}, ["limit"]),
                          ({"offset": "-1", "colour": "red"}, ["offset", "colour"])]:
        problem(checked(alice.get("/account/projects", version, params=params)), 400, *names)
        problem(checked(alice.get(base, version, params=params)), 400, *names)


def test_a_token_is_required(gw):
    for version in VERSIONS:
        r = checked(requests.get(f"{gw.url}/api/{version}/account/projects", timeout=30))
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


# --------------------------------------------------------------------------- allocations

@pytest.mark.parametrize("version", VERSIONS)
def test_allocations_match_the_schedulers_accounting(alice, bob, ssh, version):
    for user, account in [(alice, "climate"), (alice, "genomics"), (bob, "climate")]:
        p = project(user, account, version)
        limit = limits(ssh, user.name, account)
        before = used(ssh, user.name, account)
        compute, allocations = compute_allocation(user, user.gw, p["id"], version)
        after = used(ssh, user.name, account)
        assert user.ok(f"/account/projects/{p['id']}/project_allocations/{compute['id']}", version) == compute
        assert compute["project_uri"] == p["self_uri"]
        assert compute["resource_uri"].endswith("/status/resources/" + resource_ids(user.gw)["hpc"])
        [entry] = compute["entries"]
        assert entry["unit"] == NODE_HOURS[version]
        assert entry["allocation"] == limit[""] / 60
        # Running jobs (others' tests) move the figure while we look: it lies between two readings.
        assert before[""] / 3600 - 1e-9 <= entry["usage"] <= after[""] / 3600 + 1e-9, (before, entry, after)

        shares = user.ok(f"/account/projects/{p['id']}/project_allocations/{compute['id']}/user_allocations", version)
        [mine] = shares
        assert mine["user_id"] == user.name
        assert mine["project_allocation_uri"] == compute["self_uri"]
        assert user.ok(f"/account/projects/{p['id']}/project_allocations/{compute['id']}/user_allocations/{mine['id']}",
                       version) == mine
        [share] = mine["entries"]
        assert share["unit"] == NODE_HOURS[version]
        assert share["allocation"] == limit[user.name] / 60
        assert before.get(user.name, 0) / 3600 - 1e-9 <= share["usage"] <= after.get(user.name, 0) / 3600 + 1e-9


def test_usage_moves_when_a_job_has_run(gw, alice, ssh):
    p = project(alice, "genomics")["id"]
    compute, _ = compute_allocation(alice, gw, p, "v1")
    start = compute["entries"][0]["usage"]
    out = ssh.run("alice", "cd /tmp && sbatch --parsable --account=genomics --output=/dev/null "
                           "--job-name=portico_usage --wrap='sleep 2'")
    assert out.returncode == 0, out.stderr
    job = out.stdout.strip().split(";")[0]

    def accounted():
        r = ssh.run("alice", f"sacct --noheader --parsable2 --allocations --jobs={job} --format=State,ElapsedRaw")
        line = r.stdout.strip()
        return line if line.startswith("COMPLETED|") else None
    elapsed = int(wait_for(accounted, timeout=120, what=f"job {job} accounted").split("|")[1])
    assert elapsed >= 2

    # sacct's answer by account may lag its answer by job id for a moment.
    def moved():
        compute, _ = compute_allocation(alice, gw, p, "v1")
        usage = compute["entries"][0]["usage"]
        return usage if usage >= start + elapsed / 3600 - 1e-9 else None
    usage = wait_for(moved, timeout=60, what="the usage to count the job")
    # Another test's job of genomics may be running: sacct's figure, read after, is no lower.
    assert usage * 3600 <= used(ssh, "alice", "genomics")[""] + 1e-6


@pytest.mark.parametrize("version", VERSIONS)
def test_storage_allocations_are_the_quota_commands(alice, ssh, version):
    p = project(alice, "climate", version)["id"]
    caps = capability_names(alice.gw)
    for fs, cap in [("/home", "hpc home"), ("/scratch", "hpc scratch")]:
        script = (f'printf "%s %s\\n" "$(du -sb -- {fs}/alice | cut -f1)" "$(find {fs}/alice -xdev | wc -l)"')

        def agree():
            allocations = alice.ok(f"/account/projects/{p}/project_allocations", version)
            [a] = [a for a in allocations if caps[a["capability_uri"].rsplit("/", 1)[1]] == cap]
            measured = ssh.run("alice", "sh -c " + shlex.quote(script)).stdout.split()
            entries = {e["unit"]: e for e in a["entries"]}
            got = [entries[BYTES[version]]["usage"], entries[INODES[version]]["usage"] if INODES[version] in entries else None]
            want_inodes = int(measured[1]) if QUOTA_LIMITS[fs][1] else None
            return (a, entries) if got == [int(measured[0]), want_inodes] else None
        # Other tests write in alice's directories meanwhile: the figures agree once both are read
        # between two writes.
        a, entries = wait_for(agree, timeout=60, what=f"{fs} quota")
        assert entries[BYTES[version]]["allocation"] == QUOTA_LIMITS[fs][0]
        if QUOTA_LIMITS[fs][1]:
            assert entries[INODES[version]]["allocation"] == QUOTA_LIMITS[fs][1]
        else:
            assert INODES[version] not in entries  # a limit of 0 is none: nothing to show
        assert a["resource_uri"].endswith("/status/resources/" + resource_ids(alice.gw)["hpc:" + fs])
        [mine] = alice.ok(f"/account/projects/{p}/project_allocations/{a['id']}/user_allocations", version)
        assert mine["entries"][0]["allocation"] == QUOTA_LIMITS[fs][0]


# --------------------------------------------------------------------------- storage (v2)

def test_storage_locations_are_the_users_real_paths(alice, bob, ssh):
    ids = resource_ids(alice.gw)
    for user in (alice, bob):
        home = ssh.run(user.name, "getent passwd " + user.name).stdout.strip().split(":")[5]
        found = user.ok(f"/storage/locations/{ids['hpc']}", "v2")
        by_name = {l["logical_name"]: l for l in found}
        assert set(by_name) == {"home", "scratch"}
        assert by_name["home"]["path"] == home == f"/home/{user.name}"
        assert by_name["scratch"]["path"] == f"/scratch/{user.name}"
        for l in found:
            assert l["access"] == {"read": True, "write": True, "execute": True} and l["shared"] is False
            assert ssh.run(user.name, "test -d " + shlex.quote(l["path"]) + " && test -w " + shlex.quote(l["path"])).returncode == 0
        only = user.ok(f"/storage/locations/{ids['hpc:/scratch']}", "v2")
        assert [l["path"] for l in only] == [f"/scratch/{user.name}"]
    assert [l["logical_name"] for l in alice.ok(f"/storage/locations/{ids['hpc']}", "v2",
                                                params={"logicalpath": "home"})] == ["home"]
    assert alice.ok(f"/storage/locations/{ids['hpc']}", "v2", params={"intent": "long-term-storage"}) == []
    assert len(alice.ok(f"/storage/locations/{ids['hpc']}", "v2", params={"intent": "staging"})) == 2
    genomics = project(alice, "genomics", "v2")["id"]
    assert len(alice.ok(f"/storage/locations/{ids['hpc']}", "v2", params={"project": genomics})) == 2
    assert len(alice.ok(f"/storage/locations/{ids['hpc']}", "v2", params={"allocation": "genomics"})) == 2
    problem(checked(bob.get(f"/storage/locations/{ids['hpc']}", "v2", params={"project": genomics})), 404)


def test_storage_bad_input(alice):
    ids = resource_ids(alice.gw)
    problem(checked(alice.get(f"/storage/locations/{ids['hpc']}", "v2", params={"logicalpath": "attic"})), 400,
            "logicalpath")
    problem(checked(alice.get(f"/storage/locations/{ids['hpc']}", "v2", params={"intent": "x", "limit": "5"})), 400,
            "intent", "limit")
    problem(checked(alice.get("/storage/locations/not-a-uuid", "v2")), 400, "resource_id")
    problem(checked(alice.get(f"/storage/locations/{uuid.uuid4()}", "v2")), 404)
    problem(checked(alice.get(f"/storage/locations/{ids['portico']}", "v2")), 404)  # not a cluster's
    problem(checked(alice.get(f"/storage/access-endpoints/{ids['hpc']}", "v2", params={"protocol": "ftp"})), 400,
            "protocol")
    r = checked(requests.get(f"{alice.gw.url}/api/v2/storage/locations/{ids['hpc']}", timeout=30))
    assert r.status_code == 401
    # v1 has no storage operations.
    assert alice.get(f"/storage/locations/{ids['hpc']}", "v1").status_code == 404


def test_the_s3_staging_area_is_the_access_endpoint(alice, site):
    ids = resource_ids(alice.gw)
    for name in ("s3 staging", "hpc:/home", "hpc:/scratch"):
        [e] = alice.ok(f"/storage/access-endpoints/{ids[name]}", "v2")
        assert e["protocol"] == "s3" and e["resource_id"] == ids["s3 staging"]
        assert e["bucket"] == site["s3"]["bucket"] and e["region"] == site["s3"]["region"]
        assert e["endpoint_url"] == site["s3"]["endpoint"]
        assert "endpoint_id" not in e and "uri" not in e  # the other protocols' fields are left out
        assert alice.ok(f"/storage/access-endpoints/{ids[name]}", "v2", params={"endpoint_id": e["id"]}) == [e]
    assert alice.ok(f"/storage/access-endpoints/{ids['s3 staging']}", "v2", params={"protocol": "globus"}) == []
    assert alice.ok(f"/storage/access-endpoints/{ids['portico']}", "v2") == []
    problem(checked(alice.get(f"/storage/access-endpoints/{uuid.uuid4()}", "v2")), 404)


# --------------------------------------------------------------------------- generated requests

OPERATIONS = {"getProjects", "getProject", "getProjectAllocationsByProject", "getProjectAllocationByProject",
              "getUserAllocationsByProjectAllocation", "getUserAllocationByProjectAllocation",
              "getStorageLocations", "getStorageAccessEndpoints"}


def query_values(doc, schema):
    """Valid and edge values of a query parameter's schema (enums, strings, hostile text)."""
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        return [v for s in schema["anyOf"] if s.get("type") != "null" for v in query_values(doc, s)]
    if "enum" in schema:
        return list(schema["enum"]) + ["", schema["enum"][0].upper()]
    return ["climate", "", "x" * 300, "$(id)", "--all", "a\nb"]


@pytest.mark.parametrize("version", VERSIONS)
def test_generated_requests_get_documented_statuses(alice, version):
    """Every operation of this part in the official document, with real, unknown and malformed
    ids and every query parameter's valid and edge values: a documented status and a valid body."""
    import openapi as oa
    doc = oa.spec(oa.IRI if version == "v1" else oa.IRI_V2)
    p = project(alice, "climate", version)["id"]
    a, _ = compute_allocation(alice, alice.gw, p, version)
    [u] = alice.ok(f"/account/projects/{p}/project_allocations/{a['id']}/user_allocations", version)
    real = {"project_id": p, "project_allocation_id": a["id"], "user_allocation_id": u["id"],
            "resource_id": resource_ids(alice.gw)["hpc"]}
    seen = set()
    for template, item in doc["paths"].items():
        for method, op in item.items():
            if method != "get" or op.get("operationId") not in OPERATIONS:
                continue
            seen.add(op["operationId"])
            names = [prm["name"] for prm in op.get("parameters", []) if prm["in"] == "path"]
            variants = [dict(real)]
            for n in names:
                variants += [{**real, n: str(uuid.uuid4())}, {**real, n: "not-a-uuid"}]
            queries = [{}] + [{prm["name"]: v} for prm in op.get("parameters", []) if prm["in"] == "query"
                              for v in query_values(doc, prm["schema"])]
            for ids in variants:
                path = template
                for n in names:
                    path = path.replace("{" + n + "}", ids[n])
                for q in queries if ids == real else [{}]:
                    r = requests.get(alice.gw.url + path, params=q, headers=alice.headers(), timeout=60)
                    assert str(r.status_code) in op["responses"], (path, q, r.status_code, r.text)
                    checked(r)
                    if ids != real:
                        assert r.status_code in (400, 404), (path, r.status_code)
    assert seen == (OPERATIONS if version == "v2" else OPERATIONS - {"getStorageLocations", "getStorageAccessEndpoints"})


def test_a_broken_quota_command_costs_only_its_file_systems_allocation(tmp_path, token):
    g = Gateway(tmp_path)
    lines = g.config.read_text().splitlines()
    at = next(i for i, l in enumerate(lines) if "data_type: scratch" in l) + 1
    assert "quota_command" in lines[at]
    lines[at] = "        quota_command: [sh, -c, 'echo nothing like a quota']"
    g.config.write_text("\n".join(lines) + "\n")
    g.start()
    try:
        alice = User(g, "alice", token)
        p = project(alice, "climate")["id"]
        caps = capability_names(g)
        names = {caps[a["capability_uri"].rsplit("/", 1)[1]] for a in alice.ok(f"/account/projects/{p}/project_allocations")}
        assert names == {"hpc node hours", "hpc home"}
    finally:
        assert g.stop() == 0
    assert any("no storage allocation on hpc:/scratch" in l and "nothing like a quota" in l for l in g.log_lines())


def test_each_backend_asks_what_it_should(gw, alice):
    """The CLI asks sacctmgr and sacct; slurmrestd gives the limits, sacct (over SSH) the use."""
    p = project(alice, "climate")["id"]
    r = alice.get(f"/account/projects/{p}/project_allocations")
    assert r.status_code == 200, r.text
    calls = [c["what"] for c in gw.audit_line(r.headers["X-Request-ID"]).get("backend") or []]
    if gw.scheduler == "slurm_rest":
        assert "slurmrestd:GET /slurmdb/v0.0.38/associations" in calls, calls
        assert "slurmrestd:GET /slurmdb/v0.0.38/accounts" in calls, calls
        assert "ssh:sacctmgr" not in calls, calls
    else:
        assert "ssh:sacctmgr" in calls and not any(c.startswith("slurmrestd:") for c in calls), calls
    assert "ssh:sacct" in calls, calls
