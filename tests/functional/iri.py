"""Helpers of the IRI Facility API tests: requests, validation against the official documents,
waiting on conditions, and the `portico incident` command."""
import subprocess
import time

import requests

import openapi
from conftest import PORTICO

DOCS = {"v1": openapi.IRI, "v2": openapi.IRI_V2}


def get(gw, path, version="v1", **kw):
    kw.setdefault("timeout", 30)
    return requests.get(f"{gw.url}/api/{version}{path}", **kw)


def checked(r, version=None, method=None):
    """Validates a reply against the official document of its version (by default the one its
    URL names), then returns it."""
    version = version or ("v2" if "/api/v2" in r.url else "v1")
    openapi.validate(DOCS[version], r, method=method or r.request.method)
    if r.status_code >= 400:
        assert r.headers["Content-Type"] == "application/problem+json", r.headers
        body = r.json()
        assert body["status"] == r.status_code
        assert body["type"].startswith("http") and body["title"] and body["instance"].startswith("http")
    return r


def problem(r, status, *names):
    """Asserts a problem of this status whose invalid_params name exactly `names`."""
    assert r.status_code == status, r.text
    body = r.json()
    if names:
        assert sorted(p["name"] for p in body["invalid_params"]) == sorted(names), body
    return body


def wait_for(predicate, timeout=90, interval=0.25, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout} s")


def incident_command(gw, *args):
    return subprocess.run([str(PORTICO), "--config", str(gw.config), "incident", *args],
                          capture_output=True, text=True, timeout=30)


def resource_named(gw, name, version="v1"):
    r = checked(get(gw, "/status/resources", version, params={"name": name}), version)
    assert r.status_code == 200 and len(r.json()) == 1, r.text
    return r.json()[0]
