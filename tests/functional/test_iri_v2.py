"""The IRI Facility API v2 (draft) from the same handlers: every public reply validated against
the official v2 document; URN resource types and units, the POST of getFilesystemResources."""
import pytest
import requests

from gateway import Gateway
from iri import checked, get, problem, wait_for


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("iri-v2"), env={"PORTICO_HEALTH_INTERVAL": "1s"}).start()
    yield g
    assert g.stop() == 0


def test_facility_and_sites(gw):
    f = checked(get(gw, "/facility", "v2")).json()
    assert f["self_uri"] == gw.url + "/api/v2/facility"
    v1 = get(gw, "/facility").json()
    assert f["id"] == v1["id"]  # one facility, two mappings
    sites = checked(get(gw, "/facility/sites", "v2")).json()
    assert [s["self_uri"] for s in sites] == f["site_uris"]
    checked(requests.get(sites[0]["self_uri"], timeout=30), "v2")


def test_resources_with_urn_types_and_prefix_filters(gw):
    wait_for(lambda: get(gw, "/status/resources", "v2").json()[0]["current_status"] != "unknown", what="a health round")
    rs = checked(get(gw, "/status/resources", "v2")).json()
    types = {r["name"]: r["resource_type"] for r in rs}
    assert types["hpc"] == "urn:doe-iri:resource:compute"
    assert types["hpc:/home"] == "urn:doe-iri:resource:storage"
    assert types["portico"] == "urn:doe-iri:service:generic"
    assert all(r["self_uri"].startswith(gw.url + "/api/v2/status/resources/") for r in rs)

    def names(**params):
        return [r["name"] for r in checked(get(gw, "/status/resources", "v2", params=params), "v2").json()]

    assert names(resource_type="urn:doe-iri:resource") == ["hpc", "hpc:/home", "hpc:/scratch", "s3 staging"]
    assert names(resource_type="urn:doe-iri:resource:storage") == ["hpc:/home", "hpc:/scratch", "s3 staging"]
    assert names(resource_type="urn:doe-iri:service") == ["hpc scheduler", "portico"]
    assert names(capability="urn:doe-iri:allocation:compute:node-hours") == ["hpc"]
    problem(checked(get(gw, "/status/resources", "v2", params={"resource_type": "compute"}), "v2"), 400, "resource_type")
    problem(checked(get(gw, "/status/resources", "v2", params={"capability": "node_hours"}), "v2"), 400, "capability")
    one = checked(requests.get(rs[0]["self_uri"], timeout=30), "v2").json()
    assert one["id"] == rs[0]["id"]


def test_capabilities_with_urn_units(gw):
    caps = checked(get(gw, "/account/capabilities", "v2")).json()
    assert caps[0]["units"] == ["urn:doe-iri:allocation:compute:node-hours"]
    assert caps[1]["units"] == ["urn:doe-iri:allocation:storage:bytes", "urn:doe-iri:allocation:storage:inodes"]
    checked(requests.get(caps[0]["self_uri"], timeout=30), "v2")


def test_compute_and_filesystem_resources(gw):
    assert [r["name"] for r in checked(get(gw, "/compute/resources", "v2"), "v2").json()] == ["hpc"]
    r = requests.post(gw.url + "/api/v2/filesystem/resources", timeout=30)
    checked(r, "v2", "POST")
    assert [x["name"] for x in r.json()] == ["hpc:/home", "hpc:/scratch"]
    r = get(gw, "/filesystem/resources", "v2")
    assert r.status_code == 405 and r.headers["Allow"] == "POST"


def test_incidents_and_events(gw):
    events = checked(get(gw, "/status/events", "v2")).json()
    assert events and all(e["self_uri"].startswith(gw.url + "/api/v2/status/events/") for e in events)
    checked(requests.get(events[0]["self_uri"], timeout=30), "v2")
    checked(get(gw, "/status/incidents", "v2"))
    problem(checked(get(gw, "/status/incidents/00000000-0000-4000-8000-000000000000", "v2"), "v2"), 404)


def test_discovery(gw):
    r = get(gw, "", "v2")
    assert r.status_code == 200 and r.json()["api_version"] == "2.0.0"
    assert all(d["uri"].startswith(gw.url + "/api/v2/") for d in r.json()["domains"])
