"""The IRI Facility API v1, public half (facility, status, capabilities, the compute and
filesystem resources, discovery) against the real binary: every reply validated against the
official v1 document, and the conventions (absolute URIs, pagination, filters, 304, problems)."""
import datetime
import email.utils

import pytest
import requests

from gateway import Gateway
from iri import checked, get, incident_command, problem, resource_named, wait_for


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("iri"), env={"PORTICO_HEALTH_INTERVAL": "1s"}).start()
    yield g
    assert g.stop() == 0


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now():
    return datetime.datetime.now(datetime.timezone.utc)


# --------------------------------------------------------------------------- facility

def test_facility_with_absolute_links(gw):
    r = checked(get(gw, "/facility"))
    assert r.status_code == 200
    f = r.json()
    assert f["name"] == "Portico Demo Centre" and f["short_name"] == "DEMO"
    assert f["self_uri"] == gw.url + "/api/v1/facility"
    assert len(f["site_uris"]) == 1 and f["site_uris"][0].startswith(gw.url + "/api/v1/facility/sites/")
    assert "Last-Modified" in r.headers
    site = checked(requests.get(f["site_uris"][0], timeout=30)).json()
    assert site["name"] == "Demo machine room" and site["country_name"] == "Switzerland"
    assert site["self_uri"] == f["site_uris"][0]
    assert len(site["resource_uris"]) == 6  # hpc, its scheduler, /home, /scratch, S3 staging, portico
    for uri in site["resource_uris"]:
        res = checked(requests.get(uri, timeout=30))
        assert res.status_code == 200 and res.json()["site_uri"] == site["self_uri"]


def test_ids_survive_a_restart(gw, tmp_path):
    before = {r["name"]: r["id"] for r in get(gw, "/status/resources").json()}
    other = Gateway(tmp_path).start()  # another gateway, same configuration: same ids
    try:
        after = {r["name"]: r["id"] for r in requests.get(other.url + "/api/v1/status/resources", timeout=30).json()}
    finally:
        other.stop()
    assert after == before


def test_sites_filters_and_pagination(gw):
    assert len(checked(get(gw, "/facility/sites")).json()) == 1
    assert len(checked(get(gw, "/facility/sites", params={"name": "Demo machine room"})).json()) == 1
    assert checked(get(gw, "/facility/sites", params={"name": "elsewhere"})).json() == []
    assert len(checked(get(gw, "/facility/sites", params={"short_name": "demo-room"})).json()) == 1
    assert checked(get(gw, "/facility/sites", params={"offset": 1})).json() == []
    assert checked(get(gw, "/facility/sites", params={"limit": 0})).json() == []


@pytest.mark.parametrize("path,param", [("/facility/sites/", "site_id"), ("/status/resources/", "resource_id"),
                                        ("/status/incidents/", "incident_id"), ("/status/events/", "event_id"),
                                        ("/account/capabilities/", "capability_id")])
def test_unknown_and_malformed_ids(gw, path, param):
    problem(checked(get(gw, path + "00000000-0000-4000-8000-000000000000")), 404)
    problem(checked(get(gw, path + "not-a-uuid")), 400, param)


# --------------------------------------------------------------------------- resources

def test_resources_with_live_status_and_every_filter(gw):
    wait_for(lambda: resource_named(gw, "hpc")["current_status"] == "up", what="hpc up")
    r = checked(get(gw, "/status/resources"))
    names = [x["name"] for x in r.json()]
    assert names == ["hpc", "hpc scheduler", "hpc:/home", "hpc:/scratch", "s3 staging", "portico"]
    hpc = r.json()[0]
    assert hpc["resource_type"] == "compute" and hpc["supported_endpoints"] == ["compute"]
    assert hpc["group"] == "hpc"
    assert len(hpc["capability_uris"]) == 1
    cap = checked(requests.get(hpc["capability_uris"][0], timeout=30)).json()
    assert cap["units"] == ["node_hours"]

    def names_of(**params):
        return [x["name"] for x in checked(get(gw, "/status/resources", params=params)).json()]

    assert names_of(name="hpc:/home") == ["hpc:/home"]
    assert names_of(description="FILE SYSTEM") == ["hpc:/home", "hpc:/scratch"]  # substring, any case
    assert names_of(group="hpc") == names[:4]
    assert names_of(resource_type="storage") == ["hpc:/home", "hpc:/scratch", "s3 staging"]
    assert names_of(resource_type="service") == ["hpc scheduler", "portico"]
    assert names_of(current_status="up") == names
    assert names_of(current_status="down") == []
    assert names_of(capability="node_hours") == ["hpc"]
    assert names_of(capability=["bytes", "node_hours"]) == ["hpc", "hpc:/home", "hpc:/scratch"]
    assert names_of(offset=2, limit=2) == names[2:4]
    assert names_of(limit=0) == []
    assert names_of(offset=100) == []


def test_compute_and_filesystem_resources(gw):
    compute = checked(get(gw, "/compute/resources")).json()
    assert [x["name"] for x in compute] == ["hpc"]
    fs = checked(get(gw, "/filesystem/resources")).json()
    assert [x["name"] for x in fs] == ["hpc:/home", "hpc:/scratch"]
    assert all(x["supported_endpoints"] == ["filesystem"] for x in fs)


def test_capabilities(gw):
    caps = checked(get(gw, "/account/capabilities")).json()
    assert [c["name"] for c in caps] == ["hpc node hours", "hpc home", "hpc scratch"]
    assert caps[1]["units"] == ["bytes", "inodes"]
    one = checked(requests.get(caps[0]["self_uri"], timeout=30)).json()
    assert one == caps[0]
    assert [c["name"] for c in checked(get(gw, "/account/capabilities", params={"name": "hpc home"})).json()] == ["hpc home"]
    assert len(checked(get(gw, "/account/capabilities", params={"offset": 1, "limit": 1})).json()) == 1
    problem(checked(get(gw, "/account/capabilities", params={"offset": 1001})), 400, "offset")


def test_discovery_lists_the_domains(gw):
    r = get(gw, "")
    assert r.status_code == 200
    domains = {d["name"]: d["uri"] for d in r.json()["domains"]}
    assert set(domains) == {"facility", "status", "account", "compute", "filesystem"}
    for uri in domains.values():
        assert checked(requests.get(uri, timeout=30)).status_code == 200


# --------------------------------------------------------------------------- incidents and events

@pytest.fixture(scope="module")
def planned(gw):
    """A planned incident in the future and one whose window is over, declared with the command."""
    start = now() + datetime.timedelta(days=2)
    r = incident_command(gw, "declare", "--name", "scratch upgrade", "--description", "New Lustre servers",
                         "--start", rfc3339(start), "--end", rfc3339(start + datetime.timedelta(hours=4)),
                         "--resource", "hpc:/scratch", "--status", "degraded")
    assert r.returncode == 0, r.stderr
    future = r.stdout.split()[0]
    past_start = now() - datetime.timedelta(days=1)
    r = incident_command(gw, "declare", "--name", "home move", "--start", rfc3339(past_start),
                         "--end", rfc3339(past_start + datetime.timedelta(hours=1)), "--resource", "hpc:/home")
    assert r.returncode == 0, r.stderr
    past = r.stdout.split()[0]
    # The gateway sees what the command wrote within a second; the past window starts and ends.
    def done():
        r = get(gw, f"/status/incidents/{past}")
        return r.status_code == 200 and r.json()["resolution"] == "completed"
    wait_for(done, what="past window done")
    return {"future": future, "past": past, "future_start": start, "past_start": past_start}


def test_incidents_and_every_filter(gw, planned):
    r = checked(get(gw, "/status/incidents"))
    ids = [i["id"] for i in r.json()]
    assert planned["future"] in ids and planned["past"] in ids
    future = checked(get(gw, f"/status/incidents/{planned['future']}")).json()
    assert future["type"] == "planned" and future["resolution"] == "pending" and future["status"] == "degraded"
    assert future["resource_uris"] == [resource_named(gw, "hpc:/scratch")["self_uri"]]
    assert future["event_uris"] == []
    past = checked(get(gw, f"/status/incidents/{planned['past']}")).json()
    assert len(past["event_uris"]) == 2  # its start and its end
    for uri in past["event_uris"]:
        e = checked(requests.get(uri, timeout=30)).json()
        assert e["incident_uri"] == past["self_uri"]

    def ids_of(**params):
        return {i["id"] for i in checked(get(gw, "/status/incidents", params=params)).json()}

    both = {planned["future"], planned["past"]}
    assert ids_of(name="scratch upgrade") == {planned["future"]}
    assert ids_of(description="lustre") == {planned["future"]}
    assert ids_of(type="planned") >= both
    assert ids_of(type="reservation") == set()
    assert planned["future"] in ids_of(status="degraded")
    assert ids_of(resolution="pending") >= {planned["future"]}
    assert planned["past"] in ids_of(resolution="completed") and planned["future"] not in ids_of(resolution="completed")
    scratch = resource_named(gw, "hpc:/scratch")["id"]
    assert ids_of(resource_id=scratch) == {planned["future"]}
    t = planned["future_start"] + datetime.timedelta(hours=1)
    assert ids_of(time=rfc3339(t)) == {planned["future"]}
    assert ids_of(**{"from": rfc3339(planned["future_start"] - datetime.timedelta(hours=1))}) & both == {planned["future"]}
    assert ids_of(to=rfc3339(planned["past_start"] + datetime.timedelta(minutes=30))) & both == {planned["past"]}
    assert planned["future"] in ids_of(modified_since=rfc3339(now() - datetime.timedelta(hours=1)))
    # Nothing changed since then: not modified.
    assert get(gw, "/status/incidents", params={"modified_since": rfc3339(now() + datetime.timedelta(hours=1))}).status_code == 304
    problem(checked(get(gw, "/status/incidents", params={"from": "2026-02-02T00:00:00Z", "to": "2026-02-01T00:00:00Z"})),
            400, "from")
    assert len(checked(get(gw, "/status/incidents", params={"limit": 1})).json()) == 1


def test_events_and_every_filter(gw, planned):
    events = checked(get(gw, "/status/events", params={"limit": 1000})).json()
    assert events, "the first health rounds record an event per resource"
    home = resource_named(gw, "hpc:/home")

    def of(**params):
        return checked(get(gw, "/status/events", params=params)).json()

    mine = of(incident_id=planned["past"])
    assert [e["status"] for e in mine] == ["down", "up"]
    assert all(e["resource_uri"] == home["self_uri"] for e in mine)
    assert {e["id"] for e in of(resource_id=home["id"])} >= {e["id"] for e in mine}
    assert of(name=mine[0]["name"], incident_id=planned["past"]) == [mine[0]]
    assert of(description="planned window ended", incident_id=planned["past"]) == [mine[1]]
    assert all(e["status"] == "down" for e in of(status="down"))
    at = mine[0]["occurred_at"]
    assert mine[0]["id"] in {e["id"] for e in of(time=at)}
    assert mine[0]["id"] in {e["id"] for e in of(**{"from": at})}
    assert mine[0]["id"] in {e["id"] for e in of(to=at)}
    assert of(**{"from": rfc3339(now() + datetime.timedelta(hours=1))}) == []
    assert get(gw, "/status/events", params={"modified_since": rfc3339(now() + datetime.timedelta(hours=1))}).status_code == 304
    assert len(of(limit=1)) == 1
    assert of(offset=len(events)) == []
    one = checked(requests.get(mine[0]["self_uri"], timeout=30)).json()
    assert one == mine[0]


# --------------------------------------------------------------------------- conventions

@pytest.mark.parametrize("path", ["/facility", "/facility/sites", "/status/resources", "/status/incidents",
                                  "/status/events", "/account/capabilities", "/compute/resources",
                                  "/filesystem/resources"])
def test_last_modified_and_304(gw, path):
    r = checked(get(gw, path))
    assert r.status_code == 200
    last = r.headers["Last-Modified"]
    assert email.utils.parsedate_to_datetime(last) <= now()
    again = get(gw, path, headers={"If-Modified-Since": last})
    if again.status_code == 200:  # a health round changed something meanwhile: then it says so
        assert again.headers["Last-Modified"] != last
    else:
        assert again.status_code == 304 and again.text == ""
    old = get(gw, path, headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})
    assert old.status_code == 200


def test_modified_since_and_if_modified_since_take_the_later(gw):
    r = get(gw, "/facility")
    last = email.utils.parsedate_to_datetime(r.headers["Last-Modified"])
    later = rfc3339(last + datetime.timedelta(seconds=5))
    assert get(gw, "/facility", params={"modified_since": later}).status_code == 304
    # The header is older, the parameter later: the later wins.
    assert get(gw, "/facility", params={"modified_since": later},
               headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}).status_code == 304
    earlier = rfc3339(last - datetime.timedelta(days=1))
    assert get(gw, "/facility", params={"modified_since": earlier}).status_code == 200
    assert get(gw, "/facility", params={"modified_since": earlier},
               headers={"If-Modified-Since": r.headers["Last-Modified"]}).status_code == 304


@pytest.mark.parametrize("path,query,names", [
    ("/status/resources", "colour=blue", ["colour"]),
    ("/status/resources", "limit=1&limit=2", ["limit"]),
    ("/status/resources", "limit=1001", ["limit"]),
    ("/status/resources", "limit=ten", ["limit"]),
    ("/status/resources", "offset=-1", ["offset"]),
    ("/status/resources", "resource_type=tape", ["resource_type"]),
    ("/status/resources", "current_status=sideways", ["current_status"]),
    ("/status/resources", "capability=furlongs", ["capability"]),
    ("/status/resources", "name=", ["name"]),
    ("/status/incidents", "from=yesterday", ["from"]),
    ("/status/incidents", "time=2026-02-21", ["time"]),
    ("/status/incidents", "to=2026-02-21T12:00:00", ["to"]),
    ("/status/incidents", "resolution=maybe&type=surprise", ["resolution", "type"]),
    ("/status/incidents", "resource_id=42", ["resource_id"]),
    ("/status/events", "modified_since=soon", ["modified_since"]),
    ("/status/events", "incident_id=x", ["incident_id"]),
    ("/facility", "limit=5", ["limit"]),
    ("/facility/sites", "short_name=a&short_name=b", ["short_name"]),
    ("/compute/resources", "offset=0", ["offset"]),
])
def test_bad_query_parameters_are_problems(gw, path, query, names):
    r = checked(requests.get(f"{gw.url}/api/v1{path}?{query}", timeout=30))
    problem(r, 400, *names)


def test_unknown_path_and_method(gw):
    r = get(gw, "/status/nothing")
    problem(r, 404)
    assert r.headers["Content-Type"] == "application/problem+json"
    r = requests.delete(f"{gw.url}/api/v1/status/resources", timeout=30)
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET"
    assert r.headers["Content-Type"] == "application/problem+json"
    r = requests.post(f"{gw.url}/api/v1/filesystem/resources", timeout=30)
    assert r.status_code == 405 and r.headers["Allow"] == "GET"


def test_a_bad_token_on_a_public_endpoint_is_401(gw):
    r = checked(get(gw, "/facility", headers={"Authorization": "Bearer not-a-token"}))
    problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = checked(get(gw, "/facility", headers={"Authorization": "Basic YWxpY2U6eA=="}))
    problem(r, 401)


def test_a_valid_token_is_welcome(gw, token):
    r = checked(get(gw, "/status/resources", headers={"Authorization": f"Bearer {token('bob')}"}))
    assert r.status_code == 200


def test_links_follow_a_trusted_proxy(gw):
    r = get(gw, "/facility", headers={"X-Forwarded-Host": "api.example.org", "X-Forwarded-Proto": "https",
                                      "X-Forwarded-Prefix": "/hpc"})
    assert r.json()["self_uri"] == "https://api.example.org/hpc/api/v1/facility"
    # Headers that could not be a host or a prefix are ignored, not echoed.
    r = get(gw, "/facility", headers={"X-Forwarded-Host": "evil.org/<script>", "X-Forwarded-Prefix": "no-slash"})
    assert r.json()["self_uri"] == gw.url + "/api/v1/facility"


def test_links_from_the_configured_public_base_url(tmp_path):
    g = Gateway(tmp_path)
    g.config.write_text(g.config.read_text().replace(
        "  trusted_proxies:", "  public_base_url: https://iri.example.org/portico\n  trusted_proxies:"))
    g.start()
    try:
        r = requests.get(g.url + "/api/v1/facility", headers={"X-Forwarded-Host": "ignored.org"}, timeout=30)
        assert r.json()["self_uri"] == "https://iri.example.org/portico/api/v1/facility"
    finally:
        g.stop()


def test_firecrest_is_still_served_beside(gw):
    r = requests.get(gw.url + "/status/liveness/", timeout=30)
    assert r.status_code == 200 and "healthcheckRuns" in r.json()
