"""The gateway core through the FirecREST status API, on the real site: authentication,
authorization, errors, headers, the SSH pool, health checks, metrics and the audit log."""
import concurrent.futures
import json
import socket
import time

import pytest
import requests

import openapi
import tokens
from gateway import Gateway


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    # Some tests fire hundreds of requests at once, beyond the default per-user rate limit
    # (100/s, bursts of 200; tested in test_rate_limits.py).
    g = Gateway(tmp_path_factory.mktemp("gw"), env={"PORTICO_HEALTH_INTERVAL": "1s"},
                extra_yaml="rate_limits:\n  per_user: {rate: 1000, burst: 1000}\n").start()
    yield g
    assert g.stop() == 0, "portico did not exit cleanly on SIGTERM"


def get(gw, path, token=None, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(gw.url + path, headers=headers, timeout=60, **kw)


def assert_firecrest_error(r, status, fragment=""):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"errorType", "message", "causedBy", "data", "user"}, body
    assert fragment.lower() in body["message"].lower(), body
    assert r.headers["F7T-AppVersion"] == "2.5.6"
    return body


def wait_for(predicate, timeout=60, interval=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


# --------------------------------------------------------------------------- public and status endpoints

def test_liveness_needs_no_token_and_reports_health_runs(gw):
    r = wait_for(lambda: (r := get(gw, "/status/liveness/")).json()["healthcheckRuns"].get("hpc") and r)
    assert r.status_code == 200
    openapi.validate(openapi.FIRECREST, r)
    assert isinstance(r.json()["lastUpdate"], int)


def test_systems_describes_the_cluster_without_secrets(gw, site, token):
    r = wait_for(lambda: (r := get(gw, "/status/systems", token("alice"))).json()["systems"][0]["servicesHealth"] and r)
    openapi.validate(openapi.FIRECREST, r)
    system = r.json()["systems"][0]
    assert system["name"] == "hpc"
    assert system["ssh"]["port"] == site["ssh"]["port"]
    assert {fs["path"] for fs in system["fileSystems"]} == {"/home", site["scratch_root"]}
    types = {s["serviceType"] for s in system["servicesHealth"]}
    assert {"ssh", "scheduler", "filesystem", "s3"} <= types
    assert all(s["healthy"] for s in system["servicesHealth"]), system["servicesHealth"]
    assert system["scheduler"]["version"].startswith("22.05")
    text = r.text
    for secret in (site["s3"]["secret_access_key"], "PRIVATE KEY", site["users"]["alice"]["client_secret"]):
        assert secret not in text


def test_every_reply_carries_the_firecrest_headers(gw, token):
    r = get(gw, "/status/systems", token("alice"), headers={"X-Request-ID": "my-request-42",
                                                            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    assert r.headers["F7T-AppVersion"] == "2.5.6"
    assert r.headers["X-Request-ID"] == "my-request-42"
    assert r.headers["F7T-AuthUsername"] == "alice"
    r = get(gw, "/status/liveness/")
    assert len(r.headers["X-Request-ID"]) == 32
    assert "F7T-AuthUsername" not in r.headers


@pytest.mark.parametrize("what", ["nodes", "partitions", "reservations"])
def test_scheduler_status_endpoints_match_the_contract(gw, token, what, site):
    r = get(gw, f"/status/hpc/{what}", token("alice"))
    assert r.status_code == 200, r.text
    openapi.validate(openapi.FIRECREST, r)
    items = r.json()[what]
    if what == "nodes":
        assert items[0]["name"] == site["node"] and items[0]["cpus"] == 2
    if what == "partitions":
        assert {p["name"] for p in items} == set(site["slurm"]["partitions"])
        assert all(p["partition"] == "UP" for p in items)


def test_userinfo_names_the_user_their_groups_and_accounts(gw, token):
    r = get(gw, "/status/hpc/userinfo", token("alice"))
    assert r.status_code == 200, r.text
    openapi.validate(openapi.FIRECREST, r)
    info = r.json()
    assert info["user"]["name"] == "alice"
    assert info["group"]["name"]  # clients crash without it
    assert "hpcusers" in {g["name"] for g in info["groups"]}
    assert {a["name"] for a in info["accounts"]} == {"climate", "genomics"}
    assert [a["name"] for a in info["accounts"] if a["default"]] == ["climate"]

    bob = get(gw, "/status/hpc/userinfo", token("bob")).json()
    assert bob["user"]["name"] == "bob"
    assert {a["name"] for a in bob["accounts"]} == {"climate"}


def test_system_names_are_case_insensitive(gw, token):
    r = get(gw, "/status/HPC/userinfo", token("alice"))
    assert r.status_code == 200
    assert r.json()["user"]["name"] == "alice"


# --------------------------------------------------------------------------- errors in the FirecREST format

def test_unknown_system_is_404(gw, token):
    body = assert_firecrest_error(get(gw, "/status/nosuch/nodes", token("alice")), 404, "nosuch")
    assert body["user"] == "alice"


def test_unknown_route_and_wrong_method(gw, token):
    assert_firecrest_error(get(gw, "/no/such/route", token("alice")), 404, "no such endpoint")
    r = requests.delete(gw.url + "/status/systems", headers={"Authorization": f"Bearer {token('alice')}"}, timeout=10)
    assert_firecrest_error(r, 405)
    assert "GET" in r.headers["Allow"]


# --------------------------------------------------------------------------- tokens

def bad_tokens(site):
    return {
        "missing": None,
        "garbled": "not-a-jwt",
        "garbage-base64": "eyJ@@@.eyJ@@@.@@@",
        "expired": tokens.signed(site, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        "not-yet-valid": tokens.signed(site, nbf=int(time.time()) + 3600),
        "wrong-audience": tokens.signed(site, aud="https://other.example/api"),
        "wrong-issuer": tokens.signed(site, iss="http://127.0.0.1:1/evil"),
        "alg-none": tokens.unsigned_alg_none(site),
        "hs256-with-rsa-public-key": tokens.hs256_with_public_key(site),
        "tampered": (lambda t: t.split(".")[0] + "." + tokens.b64(json.dumps(tokens.claims(site, user="bob")).encode())
                     + "." + t.split(".")[2])(tokens.signed(site)),
        "no-username": tokens.signed(site, preferred_username=None),
        "oversized": tokens.signed(site, padding="x" * 40000),
    }


BAD_TOKEN_KINDS = ["missing", "garbled", "garbage-base64", "expired", "not-yet-valid", "wrong-audience",
                   "wrong-issuer", "alg-none", "hs256-with-rsa-public-key", "tampered", "no-username", "oversized"]


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
def test_bad_tokens_get_401_with_www_authenticate(gw, site, kind):
    token = bad_tokens(site)[kind]
    r = get(gw, "/status/hpc/userinfo", token)
    if kind == "oversized" and r.status_code == 431:
        return  # refused by the header limit before authentication: also a clear 4xx
    body = assert_firecrest_error(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert body["user"] is None
    if token:
        assert token not in r.text


@pytest.mark.parametrize("username", ["../etc", "alice bob", "al'ice", "$(id)", "`id`", "alice;id", "Alice", ""])
def test_hostile_username_claims_are_refused_before_use(gw, site, username):
    r = get(gw, "/status/hpc/userinfo", tokens.signed(site, preferred_username=username))
    assert_firecrest_error(r, 401)


def test_no_token_or_secret_reaches_the_log(gw, site, token):
    t = token("alice")
    get(gw, "/status/hpc/userinfo", t)
    get(gw, "/status/hpc/userinfo", tokens.signed(site, aud="x"))
    text = gw.log.read_text(errors="replace")
    assert t not in text and t.split(".")[2] not in text
    assert "PRIVATE KEY" not in text
    assert site["users"]["alice"]["client_secret"] not in text


@pytest.mark.parametrize("username,why", [
    ("root", "never reached through the gateway"),
    ("portico-probe", "the gateway's own"),     # the health checker's account
    ("daemon", "system account (uid 1)"),        # exists, below the minimum uid
    ("slurm", "system account"),
    ("nosuchuser", "there is no account 'nosuchuser'"),
])
def test_accounts_that_must_not_be_reached_get_403_without_a_login_as_them(gw, site, username, why):
    """A validly signed token naming root, the probe user, a system account or no account at all:
    refused before any certificate is signed or login made as that name. The only backend call is
    the lookup, made as the probe user (none at all for names refused by name)."""
    r = get(gw, "/status/hpc/userinfo", tokens.signed(site, preferred_username=username))
    body = assert_firecrest_error(r, 403, why)
    assert body["user"] == username
    calls = gw.audit_line(r.headers["X-Request-ID"]).get("backend") or []
    # One command at most: the lookup (getent && id -Gn, as the probe user); nothing for a name
    # refused by its name alone.
    assert len(calls) == (0 if username in ("root", "portico-probe") else 1), calls
    # The same refusal through the IRI API.
    resources = requests.get(gw.url + "/api/v1/filesystem/resources", timeout=30).json()
    fs = next(x["id"] for x in resources if x["name"] == "hpc:/home")
    r = requests.get(f"{gw.url}/api/v1/filesystem/ls/{fs}", params={"path": "/home"},
                     headers={"Authorization": f"Bearer {tokens.signed(site, preferred_username=username)}"}, timeout=30)
    assert r.status_code == 403 and why in r.json()["detail"], r.text


def test_cached_keys_keep_working_while_the_provider_is_down(gw, token):
    import subprocess
    from conftest import ROOT
    t = token("alice")
    assert get(gw, "/status/hpc/userinfo", t).status_code == 200
    subprocess.run(["bash", str(ROOT / "site" / "site"), "stop", "oidc"], check=True, capture_output=True)
    try:
        r = get(gw, "/status/hpc/userinfo", t)
        assert r.status_code == 200, r.text
    finally:
        subprocess.run(["bash", str(ROOT / "site" / "site"), "start", "oidc"], check=True, capture_output=True)


# --------------------------------------------------------------------------- HTTP hostility

def raw_http(gw, data: bytes, read_timeout=10):
    with socket.create_connection(("127.0.0.1", gw.port), timeout=read_timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except socket.timeout:
            pass
        return b"".join(chunks)


def test_oversized_headers_get_431_in_firecrest_format(gw):
    reply = raw_http(gw, b"GET /status/systems HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431"), head
    assert json.loads(body)["errorType"] == "error"


def test_oversized_body_gets_413(gw, token):
    r = requests.post(gw.url + "/status/systems", data=b"x" * (2 * 1024 * 1024),
                      headers={"Authorization": f"Bearer {token('alice')}"}, timeout=30)
    assert r.status_code == 413
    assert "exceeds" in r.json()["message"]


def test_malformed_http_gets_400_and_the_connection_closes(gw):
    reply = raw_http(gw, b"GARBAGE\x01\x02 / HTTP/9.9\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400"), reply[:100]


def test_pipelined_requests_are_answered_in_order(gw):
    reply = raw_http(gw, b"GET /status/liveness/ HTTP/1.1\r\nHost: x\r\nX-Request-ID: one\r\n\r\n"
                         b"GET /status/liveness/ HTTP/1.1\r\nHost: x\r\nX-Request-ID: two\r\nConnection: close\r\n\r\n")
    assert reply.count(b"HTTP/1.1 200") == 2
    assert reply.index(b"X-Request-ID: one") < reply.index(b"X-Request-ID: two")


def test_a_client_trickling_bytes_does_not_hold_the_server(gw, token):
    slow = [socket.create_connection(("127.0.0.1", gw.port)) for _ in range(20)]
    try:
        for s in slow:
            s.sendall(b"GET /status/systems HTTP/1.1\r\nHost: x\r\n")
        for _ in range(3):
            for s in slow:
                s.sendall(b"X-Slow: 1\r\n")
            r = get(gw, "/status/hpc/userinfo", token("alice"))
            assert r.status_code == 200
    finally:
        for s in slow:
            s.close()


# --------------------------------------------------------------------------- the SSH pool

def test_more_concurrent_requests_than_max_sessions_all_succeed(gw, token):
    t = token("alice")
    with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(lambda _: get(gw, "/status/hpc/userinfo", t), range(400)))
    assert [r.status_code for r in results].count(200) == 400
    assert all(r.json()["user"]["name"] == "alice" for r in results)
    metrics = requests.get(gw.url + "/metrics", timeout=10).text
    assert 'portico_ssh_connections{cluster="hpc"}' in metrics


def test_two_users_concurrently_each_act_as_themselves(gw, token):
    ta, tb = token("alice"), token("bob")
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        futures = [(u, pool.submit(get, gw, "/status/hpc/userinfo", ta if u == "alice" else tb))
                   for u in ["alice", "bob"] * 50]
        for user, f in futures:
            assert f.result().json()["user"]["name"] == user


# --------------------------------------------------------------------------- observability

def test_metrics_count_requests_by_route_and_status(gw, token):
    get(gw, "/status/hpc/partitions", token("alice"))
    text = requests.get(gw.url + "/metrics", timeout=10).text
    assert 'portico_http_requests_total{api="firecrest",route="/status/{system_name}/partitions",method="GET",status="200"}' in text
    assert "portico_http_request_duration_seconds_bucket" in text
    assert 'portico_service_healthy{cluster="hpc",service="ssh"' in text


def test_audit_line_says_who_did_what(gw, token):
    get(gw, "/filesystem/hpc/ops/ls?path=/home/bob", token("bob"), headers={"X-Request-ID": "audit-me"})
    line = gw.audit_line("audit-me")  # written just after the reply: waited for
    assert line["user"] == "bob" and line["client_id"] == "bob-client" and line["system"] == "hpc"
    assert line["route"] == "/filesystem/{system_name}/ops/ls" and line["status"] == 200
    assert any(c["what"] == "ssh:ls" for c in line["backend"]), line


# --------------------------------------------------------------------------- failures of the backends

def test_sshd_restarted_mid_run_the_next_requests_succeed(gw, token):
    t = token("alice")
    assert get(gw, "/status/hpc/userinfo", t).status_code == 200
    import subprocess
    from conftest import ROOT
    subprocess.run(["bash", str(ROOT / "site" / "site"), "restart", "sshd"], check=True, capture_output=True)
    r = get(gw, "/status/hpc/userinfo", t)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["name"] == "alice"


def test_health_checker_reports_a_stopped_scheduler_and_its_return(gw, token):
    import subprocess
    from conftest import ROOT
    t = token("alice")

    def scheduler_health():
        systems = get(gw, "/status/systems", t).json()["systems"][0]["servicesHealth"]
        return next(s for s in systems if s["serviceType"] == "scheduler")

    subprocess.run(["bash", str(ROOT / "site" / "site"), "stop", "slurmctld"], check=True, capture_output=True)
    try:
        down = wait_for(lambda: (h := scheduler_health()) and not h["healthy"] and h)
        assert down["message"]
        r = get(gw, "/status/hpc/partitions", t)
        assert_firecrest_error(r, 503, "scheduler")
    finally:
        subprocess.run(["bash", str(ROOT / "site" / "site"), "start", "slurmctld"], check=True, capture_output=True)
    wait_for(lambda: scheduler_health()["healthy"])
    assert get(gw, "/status/hpc/partitions", t).status_code == 200


def test_provider_key_rotation_is_picked_up_while_running(gw, site, token):
    import subprocess
    from conftest import ROOT
    assert get(gw, "/status/hpc/userinfo", token("alice")).status_code == 200
    subprocess.run(["bash", str(ROOT / "site" / "site"), "rotate-oidc-keys"], check=True, capture_output=True)
    fresh = token("alice")
    r = get(gw, "/status/hpc/userinfo", fresh)
    assert r.status_code == 200, r.text
