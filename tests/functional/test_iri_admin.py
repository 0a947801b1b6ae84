"""Planned maintenance end to end: operators declare it through the admin endpoints (others are
refused), the affected resources report the declared status during the window, events are
written at its start and end, and `portico incident` sees and changes the same store."""
import datetime

import pytest
import requests

from gateway import Gateway
from iri import checked, get, incident_command, problem, resource_named, wait_for


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("iri-admin"), env={"PORTICO_HEALTH_INTERVAL": "1s"}).start()
    yield g
    assert g.stop() == 0


def at(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def declare(gw, token, body, version="v1"):
    return requests.post(f"{gw.url}/api/{version}/admin/incidents", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {token}"} if token else {})


def test_only_operators_may_declare(gw, token):
    body = {"name": "x", "start": at(3600), "end": at(7200), "resource_ids": ["hpc"]}
    r = declare(gw, None, body)
    problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = declare(gw, token("bob"), body)
    problem(r, 403)
    assert r.headers["Content-Type"] == "application/problem+json"
    r = requests.delete(f"{gw.url}/api/v1/admin/incidents/00000000-0000-4000-8000-000000000000", timeout=30,
                        headers={"Authorization": f"Bearer {token('bob')}"})
    problem(r, 403)


@pytest.mark.parametrize("body,names", [
    ({"name": "x", "start": "2026-12-24T10:00:00Z", "end": "2026-12-24T09:00:00Z", "resource_ids": ["hpc"]}, ["end"]),
    ({"name": "x", "start": "2026-12-24T10:00:00Z", "end": "2026-12-25T10:00:00Z", "resource_ids": ["tape"]}, ["resource_ids"]),
    ({"name": "x", "start": "tomorrow", "end": "2026-12-25T10:00:00Z", "resource_ids": ["hpc"]}, ["start"]),
    ({"start": "2026-12-24T10:00:00Z", "end": "2026-12-25T10:00:00Z", "resource_ids": ["hpc"], "colour": 1}, ["name", "colour"]),
    ({"name": "x", "start": "2026-12-24T10:00:00Z", "end": "2026-12-25T10:00:00Z", "resource_ids": ["hpc"],
      "status": "up"}, ["status"]),
])
def test_bad_declarations_are_problems(gw, token, body, names):
    problem(declare(gw, token("alice"), body), 400, *names)


def test_an_oversized_body_is_413(gw, token):
    r = requests.post(f"{gw.url}/api/v1/admin/incidents", data=b"{" + b" " * (2 * 1024 * 1024) + b"}", timeout=60,
                      headers={"Authorization": f"Bearer {token('alice')}", "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["status"] == 413


def test_a_maintenance_window_end_to_end(gw, token):
    home = wait_for(lambda: (r := resource_named(gw, "hpc:/home"))["current_status"] == "up" and r, what="home up")
    r = declare(gw, token("alice"), {"name": "home file server reboot", "description": "Firmware update",
                                     "status": "degraded", "start": at(-1), "end": at(4),
                                     "resource_ids": ["hpc:/home"]})
    assert r.status_code == 201, r.text
    incident = r.json()
    openapi_schema_check = checked(requests.get(incident["self_uri"], timeout=30))
    assert openapi_schema_check.json()["type"] == "planned"
    assert incident["resource_uris"] == [home["self_uri"]]
    # During the window the resource reports the declared status, whatever the probes see.
    during = wait_for(lambda: (i := get(gw, f"/status/incidents/{incident['id']}").json())["resolution"] == "unresolved" and i,
                      what="window begun", timeout=10)
    assert resource_named(gw, "hpc:/home")["current_status"] == "degraded"
    start_events = checked(get(gw, "/status/events", params={"incident_id": incident["id"]})).json()
    assert [e["status"] for e in start_events] == ["degraded"]
    assert during["status"] == "degraded"
    # Then it ends by itself, with an event giving what the probes see again.
    done = wait_for(lambda: (i := checked(get(gw, f"/status/incidents/{incident['id']}")).json())["resolution"] == "completed" and i,
                    what="window over", timeout=30)
    assert done["end"] == incident["end"]
    events = checked(get(gw, "/status/events", params={"incident_id": incident["id"]})).json()
    assert [e["status"] for e in events] == ["degraded", "up"]
    assert resource_named(gw, "hpc:/home")["current_status"] == "up"
    # No unplanned incident came of it.
    assert checked(get(gw, "/status/incidents", params={"type": "unplanned", "resource_id": home["id"]})).json() == []


def test_cancel_through_the_api_and_the_command(gw, token):
    t = token("alice")
    r = declare(gw, t, {"name": "later", "start": at(86400), "end": at(90000), "resource_ids": ["hpc", "hpc:/scratch"]},
                "v2")
    assert r.status_code == 201
    checked(requests.get(r.json()["self_uri"], timeout=30), "v2")
    first = r.json()["id"]
    r = requests.delete(f"{gw.url}/api/v1/admin/incidents/{first}", headers={"Authorization": f"Bearer {t}"}, timeout=30)
    assert r.status_code == 200 and r.json()["resolution"] == "cancelled"
    r = requests.delete(f"{gw.url}/api/v1/admin/incidents/{first}", headers={"Authorization": f"Bearer {t}"}, timeout=30)
    problem(r, 409)

    listed = incident_command(gw, "list")
    assert listed.returncode == 0 and first in listed.stdout and "cancelled" in listed.stdout
    made = incident_command(gw, "declare", "--name", "by command", "--start", at(86400), "--end", at(90000),
                            "--resource", "hpc scheduler")
    assert made.returncode == 0, made.stderr
    second = made.stdout.split()[0]
    wait_for(lambda: get(gw, f"/status/incidents/{second}").status_code == 200, what="the gateway sees it", timeout=10)
    assert incident_command(gw, "cancel", second).returncode == 0
    wait_for(lambda: get(gw, f"/status/incidents/{second}").json()["resolution"] == "cancelled", what="cancelled", timeout=10)
    bad = incident_command(gw, "declare", "--name", "x", "--start", at(20), "--end", at(10), "--resource", "tape")
    assert bad.returncode == 1 and "end" in bad.stderr and "tape" in bad.stderr
