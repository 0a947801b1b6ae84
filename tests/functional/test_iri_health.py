"""Incidents and events live from the health checker, on the real site: slurmctld stopped opens
an unplanned incident with events, started again resolves it, and all of it survives restarts
of Portico (the store)."""
import subprocess

import requests

from conftest import PORTICO, ROOT
from gateway import Gateway
from iri import checked, get, resource_named, wait_for


def site(action, service):
    subprocess.run(["bash", str(ROOT / "site" / "site"), action, service], check=True, capture_output=True)


def open_incident_of(gw, resource_id):
    r = checked(get(gw, "/status/incidents", params={"resource_id": resource_id, "resolution": "unresolved",
                                                     "type": "unplanned"}))
    return r.json()[0] if r.status_code == 200 and r.json() else None


def test_a_stopped_scheduler_is_an_incident_until_it_is_back(tmp_path):
    g = Gateway(tmp_path, env={"PORTICO_HEALTH_INTERVAL": "1s"}).start()
    try:
        scheduler = wait_for(lambda: (r := resource_named(g, "hpc scheduler"))["current_status"] == "up" and r,
                             what="scheduler up")
        assert open_incident_of(g, scheduler["id"]) is None
        site("stop", "slurmctld")
        try:
            wait_for(lambda: resource_named(g, "hpc scheduler")["current_status"] == "down", what="scheduler down")
            incident = wait_for(lambda: open_incident_of(g, scheduler["id"]), what="an open incident")
            assert incident["status"] == "down" and incident["end"] is None
            assert scheduler["self_uri"] in incident["resource_uris"]
            # The cluster's compute cannot schedule: degraded, in the same incident.
            compute = wait_for(lambda: (r := resource_named(g, "hpc"))["current_status"] == "degraded" and r,
                               what="compute degraded")
            incident = wait_for(lambda: (i := open_incident_of(g, scheduler["id"])) and compute["self_uri"] in i["resource_uris"] and i,
                                what="compute in the incident")
            events = checked(get(g, "/status/events", params={"incident_id": incident["id"]})).json()
            down = [e for e in events if e["resource_uri"] == scheduler["self_uri"] and e["status"] == "down"]
            assert down and down[0]["incident_uri"] == incident["self_uri"]
            assert down[0]["self_uri"] in incident["event_uris"]

            # Portico restarts during the outage: the incident, its events and the status are kept.
            assert g.stop() == 0
            g.start()
            kept = checked(get(g, f"/status/incidents/{incident['id']}")).json()
            assert kept["resolution"] == "unresolved" and set(incident["event_uris"]) <= set(kept["event_uris"])
            assert resource_named(g, "hpc scheduler")["current_status"] == "down"
        finally:
            site("start", "slurmctld")

        def resolved():
            i = checked(get(g, f"/status/incidents/{incident['id']}")).json()
            return i["resolution"] == "completed" and i
        done = wait_for(resolved, what="the incident resolved")
        assert done["end"] is not None and done["end"] >= done["start"]
        assert done["status"] == "up"
        assert resource_named(g, "hpc scheduler")["current_status"] == "up"
        ups = checked(get(g, "/status/events", params={"incident_id": incident["id"], "status": "up"})).json()
        assert {e["resource_uri"] for e in ups} >= {scheduler["self_uri"], compute["self_uri"]}

        # And after another restart it is still over, with the same events.
        assert g.stop() == 0
        g.start()
        again = checked(requests.get(done["self_uri"].replace(done["self_uri"].split("/api/")[0], g.url), timeout=30)).json()
        assert again["resolution"] == "completed" and again["end"] == done["end"]
        assert again["event_uris"] == done["event_uris"]
        assert open_incident_of(g, scheduler["id"]) is None
    finally:
        g.stop()


def test_a_corrupt_store_refuses_to_start_naming_the_file(tmp_path):
    g = Gateway(tmp_path)
    db = tmp_path / "portico.db"
    db.write_bytes(b"this is not an SQLite database, but long enough for a header of its own" * 4)
    proc = subprocess.run([str(PORTICO), "--config", str(g.config)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert str(db) in proc.stderr + proc.stdout


def test_a_store_that_cannot_be_opened_refuses_to_start_naming_the_file(tmp_path):
    g = Gateway(tmp_path)
    # A directory where the file should be (the tests run as root, so modes would not stop it).
    taken = tmp_path / "taken.db"
    taken.mkdir()
    g.config.write_text(g.config.read_text() + f"store:\n  path: {taken}\n")
    proc = subprocess.run([str(PORTICO), "--config", str(g.config)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert str(taken) in proc.stderr + proc.stdout
