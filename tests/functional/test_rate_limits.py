"""Rate limits on the real gateway: per user (each API's own buckets, charged once the token is
verified), per user of a cluster, and per client address (charged before anything else, so
unauthenticated public endpoints are limited too); each refusal is a 429 with Retry-After in the
API's own error format, counted in /metrics, and the official client (pyFirecREST 3.8.1) waits
as told and succeeds."""
import http.client
import logging
import re
import sys

import pytest
import requests

import openapi
from conftest import SHARED
from gateway import Gateway, free_port

sys.path[:0] = [str(SHARED / "clients" / "pyfirecrest"), str(SHARED / "clients" / "stubs")]
import firecrest  # noqa: E402  (the official client, from ../shared/clients)

# A burst of 2, then one request a second: a few requests in a row meet it.
TINY_USER_LIMITS = """
rate_limits:
  per_user: {rate: 1, burst: 2}
"""


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("rate-users"), extra_yaml=TINY_USER_LIMITS).start()
    yield g
    assert g.stop() == 0


def bearer(t):
    return {"Authorization": f"Bearer {t}"}


def until_refused(send, limit=50):
    """Sends until the reply is a 429 (a bucket of a few tokens empties within a few requests)."""
    for _ in range(limit):
        r = send()
        if r.status_code == 429:
            return r
        assert r.status_code == 200, r.text
    raise AssertionError(f"no 429 in {limit} requests")


def retry_after(r):
    value = r.headers["Retry-After"]
    assert re.fullmatch(r"[1-9][0-9]*", value), value  # whole seconds, rounded up, at least 1
    return int(value)


def metric(gw_url, name, **labels):
    text = requests.get(gw_url + "/metrics", timeout=10).text
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} "):
            return float(line.split()[-1])
    raise AssertionError(f"no {name}{{{want}}} in /metrics")


def test_firecrest_user_over_the_limit_gets_429_in_firecrest_json(gw, token):
    t = token("alice")
    r = until_refused(lambda: requests.get(gw.url + "/status/hpc/userinfo", headers=bearer(t), timeout=30))
    assert retry_after(r) <= 1  # one token a second
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["F7T-AppVersion"] == "2.5.6" and r.headers["F7T-AuthUsername"] == "alice"
    openapi.validate(openapi.FIRECREST, r)  # the document's 4XX: ApiResponseError
    body = r.json()
    assert body["errorType"] == "error" and body["user"] == "alice"
    assert "too many requests" in body["message"]
    assert metric(gw.url, "portico_rate_limited_total", limit="per_user", scope="firecrest") >= 1


def test_one_users_limit_is_not_anothers(gw, token):
    alice, bob = token("alice"), token("bob")
    until_refused(lambda: requests.get(gw.url + "/status/systems", headers=bearer(alice), timeout=30))
    r = requests.get(gw.url + "/status/systems", headers=bearer(bob), timeout=30)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("version, document", [("v1", openapi.IRI), ("v2", openapi.IRI_V2)])
def test_iri_user_over_the_limit_gets_429_problem(gw, token, version, document):
    t = token("bob")
    r = until_refused(lambda: requests.get(f"{gw.url}/api/{version}/task", headers=bearer(t), timeout=30))
    retry_after(r)
    assert r.headers["Content-Type"] == "application/problem+json"
    body = r.json()
    openapi.validate_component(document, "Problem", body)
    assert body["status"] == 429 and body["type"].endswith("/problems/too-many-requests")
    assert body["title"] == "Too many requests" and "too many requests" in body["detail"]
    assert body["instance"].endswith(f"/api/{version}/task")
    assert metric(gw.url, "portico_rate_limited_total", limit="per_user", scope="iri") >= 1


def test_each_api_has_its_own_bucket(gw, token):
    t = token("alice")
    until_refused(lambda: requests.get(gw.url + "/status/systems", headers=bearer(t), timeout=30))
    assert requests.get(gw.url + "/api/v1/task", headers=bearer(t), timeout=30).status_code == 200


def test_pyfirecrest_waits_as_told_and_succeeds(gw, site, caplog):
    u = site["users"]["alice"]
    client = firecrest.v2.Firecrest(
        firecrest_url=gw.url,
        authorization=firecrest.ClientCredentialsAuth(u["client_id"], u["client_secret"], site["oidc"]["token_url"]))
    refused_before = metric(gw.url, "portico_rate_limited_total", limit="per_user", scope="firecrest")
    with caplog.at_level(logging.INFO, logger="firecrest"):
        listings = [client.list_files("hpc", "/home/alice") for _ in range(6)]
    # Every call succeeded, after the client slept for the Retry-After it was given.
    assert all(isinstance(entries, list) for entries in listings)
    waits = [r.getMessage() for r in caplog.records if "Rate limit is reached" in r.getMessage()]
    assert waits and all("sleep for 1 seconds" in w for w in waits), waits
    assert metric(gw.url, "portico_rate_limited_total", limit="per_user", scope="firecrest") >= refused_before + len(waits)


def test_a_clusters_own_user_limit(tmp_path, token):
    g = Gateway(tmp_path)
    text = g.config.read_text()
    g.config.write_text(text.replace("    probe_user: portico-probe\n",
                                     "    probe_user: portico-probe\n    user_rate_limit: {rate: 0.05, burst: 2}\n", 1))
    g.start()
    try:
        t = token("alice")
        r = until_refused(lambda: requests.get(g.url + "/status/hpc/userinfo", headers=bearer(t), timeout=30))
        assert 1 <= retry_after(r) <= 20 and "system 'hpc'" in r.json()["message"]
        openapi.validate(openapi.FIRECREST, r)
        # What names no cluster is not charged to it.
        assert requests.get(g.url + "/status/systems", headers=bearer(t), timeout=30).status_code == 200
        # The IRI API's requests naming the cluster share its bucket.
        resources = requests.get(g.url + "/api/v1/compute/resources", headers=bearer(t), timeout=30).json()
        hpc = next(x for x in resources if x["name"] == "hpc")
        r = requests.post(g.url + f"/api/v1/compute/status/{hpc['id']}", headers=bearer(t), timeout=30)
        assert r.status_code == 429 and r.json()["status"] == 429, r.text
        assert metric(g.url, "portico_rate_limited_total", limit="cluster_user", scope="hpc") >= 2
    finally:
        assert g.stop() == 0


# --------------------------------------------------------------------------- per client address

@pytest.fixture(scope="module")
def flooded(tmp_path_factory):
    """A gateway whose per-address bucket empties after 20 requests and refills every 20 s; its
    /metrics is on a listener of its own, which no rate limit applies to."""
    metrics_port = free_port()
    g = Gateway(tmp_path_factory.mktemp("rate-addresses"), extra_yaml=f"""
rate_limits:
  per_address: {{rate: 0.05, burst: 20}}
metrics:
  port: {metrics_port}
""").start()
    g.metrics_url = f"http://127.0.0.1:{metrics_port}"
    yield g
    assert g.stop() == 0


def test_an_unauthenticated_flood_is_refused_per_address(flooded):
    r = until_refused(lambda: requests.get(flooded.url + "/status/liveness/", timeout=30))
    assert 1 <= retry_after(r) <= 20
    openapi.validate(openapi.FIRECREST, r)
    assert r.json()["user"] is None
    assert "client address" in r.json()["message"]
    # The IRI API's public reads share the address's bucket: a problem, validated.
    r = requests.get(flooded.url + "/api/v2/facility", timeout=30)
    assert r.status_code == 429 and r.headers["Content-Type"] == "application/problem+json"
    openapi.validate_component(openapi.IRI_V2, "Problem", r.json())
    retry_after(r)
    assert metric(flooded.metrics_url, "portico_rate_limited_total", limit="per_address", scope="") >= 2


def test_a_refused_request_without_body_keeps_the_connection_one_with_a_body_closes_it(flooded):
    until_refused(lambda: requests.get(flooded.url + "/status/liveness/", timeout=30))
    c = http.client.HTTPConnection("127.0.0.1", flooded.port, timeout=30)
    try:
        for _ in range(2):  # two answers on one connection
            c.request("GET", "/status/liveness/")
            r = c.getresponse()
            r.read()
            assert r.status == 429 and r.getheader("Connection") != "close"
        c.request("POST", "/filesystem/hpc/ops/mkdir", body=b'{"path": "/home/alice/x"}',
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        assert r.status == 429 and r.getheader("Connection") == "close"
    finally:
        c.close()

